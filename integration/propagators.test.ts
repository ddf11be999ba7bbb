/**
 * Every propagator configuration across three real services in one process: Express calls Koa,
 * Koa calls Fastify, each with tracedFetch. One distributed trace must come out, whatever format
 * the caller speaks and the services are set to, and the baggage must travel with it.
 */
import http from 'node:http';
import { getBaggage, getTracer, setGlobalTracer, tracedFetch, withBaggage } from '@tracewire/core';
import type { FinishedTrace, PropagatorsOption, SpanData, Tracer } from '@tracewire/core';
import { tracingMiddleware as expressTracing } from '@tracewire/express';
import { tracingMiddleware as koaTracing } from '@tracewire/koa';
import { tracingPlugin } from '@tracewire/fastify';
import { memoryTracer } from '../packages/core/test/helpers';
import { listen, request } from '../test-utils/http';
import type { Listening } from '../test-utils/http';
import { Fastify, Koa, Router, express } from './frameworks';

const W3C_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER = '00f067aa0ba902b7';
const UUID = '550e8400-e29b-41d4-a716-446655440000';
const UUID_TRACE = '550e8400e29b41d4a716446655440000';

function serverSpan(trace: FinishedTrace): SpanData {
  return trace.spans.find((s) => s.spanId === trace.rootSpanId)!;
}

let previous: Tracer;
let current: ReturnType<typeof memoryTracer>;
const closers: Array<() => Promise<void>> = [];
let entry: string;
/** Headers each downstream service received, and the baggage its handler saw. */
const seen: { koa?: http.IncomingHttpHeaders; fastify?: http.IncomingHttpHeaders; fastifyBaggage?: Record<string, string> } = {};

beforeAll(async () => {
  previous = getTracer();
  const fastify = Fastify();
  await fastify.register(tracingPlugin);
  fastify.get('/inventory/:sku', async (req: { params: { sku: string }; headers: http.IncomingHttpHeaders }) => {
    seen.fastify = req.headers;
    seen.fastifyBaggage = Object.fromEntries([...getBaggage()].map(([k, e]) => [k, e.value]));
    return { sku: req.params.sku };
  });
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  const fastifyUrl = `http://127.0.0.1:${fastify.server.address().port}`;
  closers.push(() => fastify.close());

  const koa = new Koa();
  const router = new Router();
  koa.use(koaTracing());
  router.get('/orders/:id', async (ctx: any) => {
    seen.koa = ctx.req.headers;
    // A handler adds to the baggage for the calls it makes.
    const res = await withBaggage({ 'order.id': ctx.params.id }, () => tracedFetch(`${fastifyUrl}/inventory/sku-${ctx.params.id}`));
    ctx.body = { order: ctx.params.id, inventory: await res.json() };
  });
  koa.use(router.routes());
  const koaServer: Listening = await listen(http.createServer(koa.callback()));
  closers.push(() => koaServer.close());

  const app = express();
  app.use(expressTracing());
  app.get('/checkout/:id', async (req: any, res: any, next: any) => {
    try {
      const r = await tracedFetch(`${koaServer.url}/orders/${req.params.id}`);
      res.json({ checkout: true, order: await r.json() });
    } catch (err) {
      next(err);
    }
  });
  const expressServer: Listening = await listen(http.createServer(app));
  closers.push(() => expressServer.close());
  entry = expressServer.url;
});

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  setGlobalTracer(previous);
});

async function use(propagators: PropagatorsOption | undefined) {
  current = memoryTracer(propagators === undefined ? {} : { propagators });
  setGlobalTracer(current.tracer);
  delete seen.koa;
  delete seen.fastify;
  delete seen.fastifyBaggage;
}

afterEach(async () => {
  await current.tracer.shutdown();
});

/** Sends one request with `headers` and returns the three traces, by service. */
async function run(headers: Record<string, string>) {
  const res = await request(`${entry}/checkout/42`, { headers });
  expect(res.status).toBe(200);
  const traces = await current.exporter.waitFor(3);
  const by = new Map(traces.map((t) => [serverSpan(t).name, t]));
  const ex = by.get('GET /checkout/:id')!;
  const ko = by.get('GET /orders/:id')!;
  const fa = by.get('GET /inventory/:sku')!;
  expect(ex && ko && fa).toBeTruthy();
  return { ex, ko, fa };
}

/** One trace id through all three services, each server span the child of the previous client span. */
function expectOneTrace({ ex, ko, fa }: Awaited<ReturnType<typeof run>>, traceId: string) {
  for (const t of [ex, ko, fa]) {
    expect(t.traceId).toBe(traceId);
    for (const s of t.spans) expect(s.traceId).toBe(traceId);
  }
  const exClient = ex.spans.find((s) => s.kind === 'client')!;
  const koClient = ko.spans.find((s) => s.kind === 'client')!;
  expect(serverSpan(ko).parentSpanId).toBe(exClient.spanId);
  expect(serverSpan(fa).parentSpanId).toBe(koClient.spanId);
}

const sampled = (flags: number) => (flags & 1) === 1;

describe('Express → tracedFetch → Koa → tracedFetch → Fastify, per propagator configuration', () => {
  it('default (tracecontext, baggage): traceparent, tracestate and baggage end to end', async () => {
    await use(undefined);
    const r = await run({ traceparent: `00-${W3C_TRACE}-${CALLER}-01`, tracestate: 'shop=1', baggage: 'tenant=acme,user.tier=gold;src=edge' });
    expectOneTrace(r, W3C_TRACE);
    expect(serverSpan(r.ex).parentSpanId).toBe(CALLER);
    expect(seen.koa!.tracestate).toBe('shop=1');
    expect(seen.koa!.baggage).toBe('tenant=acme,user.tier=gold;src=edge');
    expect(seen.fastifyBaggage).toEqual({ tenant: 'acme', 'user.tier': 'gold', 'order.id': '42' });
    // Baggage is never recorded on spans unless asked for.
    expect(JSON.stringify([r.ex, r.ko, r.fa])).not.toContain('acme');
    expect(seen.koa!.b3).toBeUndefined();
  });

  it('tracecontext alone: no baggage crosses', async () => {
    await use(['tracecontext']);
    const r = await run({ traceparent: `00-${W3C_TRACE}-${CALLER}-01`, baggage: 'tenant=acme' });
    expectOneTrace(r, W3C_TRACE);
    expect(seen.koa!.baggage).toBeUndefined();
    expect(seen.fastifyBaggage).toEqual({});
  });

  it('b3 (single header)', async () => {
    await use(['b3']);
    const r = await run({ b3: `80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1` });
    expectOneTrace(r, '80f198ee56343ba864fe8b2a57d3eff7');
    expect(seen.koa!.b3).toMatch(/^80f198ee56343ba864fe8b2a57d3eff7-[0-9a-f]{16}-1$/);
    expect(seen.koa!.traceparent).toBeUndefined();
  });

  it('b3multi with a 64-bit trace id', async () => {
    await use(['b3multi']);
    const r = await run({ 'X-B3-TraceId': 'a3ce929d0e0e4736', 'X-B3-SpanId': CALLER, 'X-B3-Sampled': '1' });
    expectOneTrace(r, '0000000000000000a3ce929d0e0e4736');
    expect(seen.fastify!['x-b3-traceid']).toBe('0000000000000000a3ce929d0e0e4736');
    expect(seen.fastify!['x-b3-sampled']).toBe('1');
  });

  it('b3multi carrying a deny decision: one unsampled trace, nothing recorded', async () => {
    await use(['b3multi']);
    const res = await request(`${entry}/checkout/9`, { headers: { 'x-b3-traceid': W3C_TRACE, 'x-b3-spanid': CALLER, 'x-b3-sampled': '0' } });
    expect(res.status).toBe(200);
    expect(seen.fastify!['x-b3-traceid']).toBe(W3C_TRACE);
    expect(seen.fastify!['x-b3-sampled']).toBe('0');
    await current.tracer.forceFlush();
    expect(current.exporter.traces()).toHaveLength(0);
  });

  it('every format at once: each hop writes all of them, the first valid one read wins', async () => {
    await use(['tracecontext', 'b3', 'b3multi', { name: 'xtrace', inject: true }, 'baggage']);
    const r = await run({ traceparent: `00-${W3C_TRACE}-${CALLER}-01`, b3: `80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1` });
    expectOneTrace(r, W3C_TRACE);
    for (const h of [seen.koa!, seen.fastify!]) {
      expect(h.traceparent).toMatch(new RegExp(`^00-${W3C_TRACE}-[0-9a-f]{16}-01$`));
      expect(h.b3).toMatch(new RegExp(`^${W3C_TRACE}-[0-9a-f]{16}-1$`));
      expect(h['x-b3-traceid']).toBe(W3C_TRACE);
      expect(h['x-trace-id']).toBe('4bf92f35-77b3-4da6-a3ce-929d0e0e4736');
      // All formats name the same parent: the calling client span.
      expect(h['x-span-id']).toBe(h['x-b3-spanid']);
      expect(h.traceparent!.slice(36, 52)).toBe(h['x-span-id']);
    }
  });

  it('none: every service starts its own trace', async () => {
    await use('none');
    const res = await request(`${entry}/checkout/1`, { headers: { traceparent: `00-${W3C_TRACE}-${CALLER}-01` } });
    expect(res.status).toBe(200);
    const traces = await current.exporter.waitFor(3);
    expect(new Set(traces.map((t) => t.traceId)).size).toBe(3);
    expect(traces.some((t) => t.traceId === W3C_TRACE)).toBe(false);
    expect(seen.koa!.traceparent).toBeUndefined();
  });

  it('an AgentOS-style caller sending X-Trace-ID (a UUID) continues that trace', async () => {
    await use(['tracecontext', 'baggage', 'xtrace']);
    const r = await run({ 'X-Trace-ID': UUID });
    expectOneTrace(r, UUID_TRACE);
    // The caller sent no span id: the first server span is the root of the caller's trace.
    expect(serverSpan(r.ex).parentSpanId).toBeUndefined();
    expect(sampled(serverSpan(r.ex).traceFlags)).toBe(true);
    // Between Tracewire services the trace goes on as W3C; X-Trace-ID is not written by default.
    expect(seen.koa!.traceparent).toMatch(new RegExp(`^00-${UUID_TRACE}-`));
    expect(seen.koa!['x-trace-id']).toBeUndefined();
  });

  it('an X-Trace-ID with an X-Span-ID makes that span the parent; inject writes the UUID form on', async () => {
    await use([{ name: 'xtrace', inject: true }]);
    const r = await run({ 'X-Trace-ID': UUID, 'X-Span-ID': CALLER });
    expectOneTrace(r, UUID_TRACE);
    expect(serverSpan(r.ex).parentSpanId).toBe(CALLER);
    expect(seen.fastify!['x-trace-id']).toBe(UUID);
  });

  it('invalid values in every format degrade to a fresh trace, and the request succeeds', async () => {
    await use(['tracecontext', 'b3', 'b3multi', 'xtrace', 'baggage']);
    const r = await run({ traceparent: '00-zz-01', b3: '0', 'x-b3-traceid': 'nope', 'x-trace-id': 'req_123', baggage: '=;,%%' });
    const id = r.ex.traceId;
    expectOneTrace(r, id);
    expect(serverSpan(r.ex).parentSpanId).toBeUndefined();
    expect(seen.fastifyBaggage).toEqual({ 'order.id': '42' });
  });

  it('an untrusted caller cannot set the trace, in any format, nor its baggage', async () => {
    // The edge distrusts outside callers (marked by their gateway); calls between services are trusted.
    current = memoryTracer({ propagators: ['tracecontext', 'b3', 'xtrace', 'baggage'], trustIncoming: (h: any) => h['x-from-outside'] !== '1' });
    setGlobalTracer(current.tracer);
    const r = await run({ 'x-from-outside': '1', b3: `80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-0`, baggage: 'role=admin' });
    // A new trace at the edge, linked to the caller's, sampled although the caller said 0 ...
    expect(r.ex.traceId).not.toBe('80f198ee56343ba864fe8b2a57d3eff7');
    expect(sampled(serverSpan(r.ex).traceFlags)).toBe(true);
    expect(serverSpan(r.ex).links[0]).toMatchObject({ traceId: '80f198ee56343ba864fe8b2a57d3eff7', spanId: 'e457b5a2e4d86bd1' });
    // ... continued inside, where the caller's baggage never arrives.
    expectOneTrace(r, r.ex.traceId);
    expect(seen.koa!.baggage).toBeUndefined();
    expect(seen.fastifyBaggage).toEqual({ 'order.id': '42' });
  });
});
