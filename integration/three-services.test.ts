/**
 * Three services in one process, each on its own socket: Express calls Koa, Koa calls Fastify, each
 * with tracedFetch. One distributed trace must come out: server span → client span → next server
 * span, with one trace id throughout.
 */
import http from 'node:http';
import { getTracer, setGlobalTracer } from '@tracewire/core';
import type { FinishedTrace, SpanData, Tracer } from '@tracewire/core';
import { tracingMiddleware as expressTracing } from '@tracewire/express';
import { tracingMiddleware as koaTracing } from '@tracewire/koa';
import { tracingPlugin } from '@tracewire/fastify';
import { tracedFetch } from '@tracewire/core';
import { memoryTracer } from '../packages/core/test/helpers';
import { listen, request } from '../test-utils/http';
import type { Listening } from '../test-utils/http';
import { Fastify, Koa, Router, express } from './frameworks';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER = '00f067aa0ba902b7';

function serverSpan(trace: FinishedTrace): SpanData {
  return trace.spans.find((s) => s.spanId === trace.rootSpanId)!;
}

describe('Express → Koa → Fastify with tracedFetch', () => {
  let previous: Tracer;
  let tracer: Tracer;
  let exporter: ReturnType<typeof memoryTracer>['exporter'];
  const closers: Array<() => Promise<void>> = [];
  let entry: string;

  beforeAll(async () => {
    previous = getTracer();
    ({ tracer, exporter } = memoryTracer());
    setGlobalTracer(tracer);

    const fastify = Fastify();
    await fastify.register(tracingPlugin);
    fastify.get('/inventory/:sku', async (req: { params: { sku: string } }) => ({ sku: req.params.sku, stock: 3 }));
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    const fastifyUrl = `http://127.0.0.1:${fastify.server.address().port}`;
    closers.push(() => fastify.close());

    const koa = new Koa();
    const router = new Router();
    koa.use(koaTracing());
    router.get('/orders/:id', async (ctx: any) => {
      const res = await tracedFetch(`${fastifyUrl}/inventory/sku-${ctx.params.id}`);
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
    await tracer.shutdown();
    setGlobalTracer(previous);
  });

  beforeEach(() => exporter.reset());

  it('produces one trace with server → client → server parent links', async () => {
    const res = await request(`${entry}/checkout/42`, { headers: { traceparent: `00-${TRACE_ID}-${CALLER}-01`, tracestate: 'shop=1' } });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ checkout: true, order: { order: '42', inventory: { sku: 'sku-42', stock: 3 } } });

    const traces = await exporter.waitFor(3);
    const byName = new Map(traces.map((t) => [serverSpan(t).name, t]));
    const ex = byName.get('GET /checkout/:id')!;
    const ko = byName.get('GET /orders/:id')!;
    const fa = byName.get('GET /inventory/:sku')!;
    expect(ex && ko && fa).toBeTruthy();

    for (const t of [ex, ko, fa]) {
      expect(t.traceId).toBe(TRACE_ID);
      for (const s of t.spans) {
        expect(s.traceId).toBe(TRACE_ID);
        expect(s.ended).toBe(true);
        expect(s.traceState).toBe('shop=1');
      }
    }
    expect(serverSpan(ex).parentSpanId).toBe(CALLER);

    const exClient = ex.spans.find((s) => s.kind === 'client')!;
    const koClient = ko.spans.find((s) => s.kind === 'client')!;
    expect(exClient.parentSpanId).toBe(serverSpan(ex).spanId);
    expect(serverSpan(ko).parentSpanId).toBe(exClient.spanId);
    expect(koClient.parentSpanId).toBe(serverSpan(ko).spanId);
    expect(serverSpan(fa).parentSpanId).toBe(koClient.spanId);
    expect(fa.spans.filter((s) => s.kind === 'client')).toHaveLength(0);

    expect(exClient.attributes['url.full']).toMatch(/\/orders\/42$/);
    expect(exClient.attributes['http.response.status_code']).toBe(200);
    expect(koClient.attributes['url.full']).toMatch(/\/inventory\/sku-42$/);
    // A client span covers the whole call, the next service's server span included.
    expect(exClient.startTime).toBeLessThanOrEqual(serverSpan(ko).startTime);
    expect(exClient.endTime).toBeGreaterThanOrEqual(serverSpan(ko).endTime);
  });

  it('starts the trace at the first service when the request carries none', async () => {
    await request(`${entry}/checkout/7`);
    const traces = await exporter.waitFor(3);
    const ids = new Set(traces.map((t) => t.traceId));
    expect(ids.size).toBe(1);
    const first = traces.find((t) => serverSpan(t).name === 'GET /checkout/:id')!;
    expect(serverSpan(first).parentSpanId).toBeUndefined();
  });
});
