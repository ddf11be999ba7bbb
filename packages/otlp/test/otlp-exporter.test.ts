import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createTracer, InMemoryExporter, tracedFetch, withSpan } from '@tracewire/core';
import type { FinishedTrace, SpanData, Tracer, TracerOptions } from '@tracewire/core';
import { tracingMiddleware } from '@tracewire/express';
import { OTLPTraceExporter } from '../src';
import type { OTLPTraceExporterOptions } from '../src';
import { captureStderr } from '../../core/test/helpers';
import { listen, request } from '../../../test-utils/http';
import { loadFixtures } from '../../../test-utils/fixtures';
import { attrs, ResponseType, startReceiver } from './otlp-receiver';
import type { Canonical, Receiver, Reply } from './otlp-receiver';

jest.setTimeout(20000);

const INCOMING_TRACE = '0af7651916cd43dd8448eb211c80319c';
const INCOMING_PARENT = 'b7ad6b7169203331';
const KIND: Record<string, number> = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 };
const STATUS: Record<string, number> = { unset: 0, ok: 1, error: 2 };
/** Epoch ms -> unix nanos by another route than the exporter's: the double's exact decimal, rounded. */
const nanos = (ms: number): string => ms.toFixed(6).replace('.', '');

const stderr = captureStderr();
const open: Array<{ close(): Promise<void> }> = [];
const tracers: Tracer[] = [];
afterEach(async () => {
  for (const t of tracers.splice(0)) await t.shutdown(5000);
  for (const l of open.splice(0).reverse()) await l.close();
});

async function receiver(reply?: (n: number) => Reply | undefined): Promise<Receiver> {
  const r = await startReceiver({ reply });
  open.push(r);
  return r;
}

function tracerWith(options: OTLPTraceExporterOptions, extra: TracerOptions = {}) {
  const exporter = new OTLPTraceExporter(options);
  const memory = new InMemoryExporter();
  const tracer = createTracer({
    serviceName: 'chat-api',
    serviceVersion: '2.0.0',
    exporters: [exporter, memory],
    batch: { scheduledDelayMillis: 5 },
    ...extra,
  });
  tracers.push(tracer);
  return { tracer, exporter, memory };
}

/** Checks one decoded OTLP span against the SpanData it came from, field by field. */
function expectSameSpan(otlp: Canonical, s: SpanData, trace: FinishedTrace): void {
  expect(otlp.traceId).toBe(s.traceId);
  expect(otlp.spanId).toBe(s.spanId);
  expect(otlp.parentSpanId).toBe(s.parentSpanId);
  expect(otlp.name).toBe(s.name);
  expect(otlp.kind).toBe(KIND[s.kind]);
  expect(otlp.startTimeUnixNano).toBe(nanos(s.startTime));
  expect(otlp.endTimeUnixNano).toBe(nanos(s.endTime));
  expect(otlp.traceState).toBe(s.traceState);
  expect(otlp.flags).toBe((s.traceFlags & 0xff) | 0x100 | (s.parentIsRemote ? 0x200 : 0));
  const expectedAttrs: Record<string, unknown> = { ...s.attributes };
  if (!s.ended) expectedAttrs['tracewire.span.incomplete'] = true;
  if (trace.fragment > 0) expectedAttrs['tracewire.trace.fragment'] = trace.fragment;
  expect(attrs(otlp.attributes)).toEqual(expectedAttrs);
  for (const kv of otlp.attributes) {
    const v = expectedAttrs[kv.key];
    if (typeof v === 'number') expect(Object.keys(kv.value)).toEqual([Number.isInteger(v) ? 'intValue' : 'doubleValue']);
  }
  expect((otlp.events ?? []).map((e: Canonical) => ({ name: e.name, time: e.timeUnixNano, attributes: attrs(e.attributes) }))).toEqual(
    s.events.map((e) => ({ name: e.name, time: nanos(e.time), attributes: e.attributes })),
  );
  expect((otlp.links ?? []).map((l: Canonical) => ({ traceId: l.traceId, spanId: l.spanId, attributes: attrs(l.attributes) }))).toEqual(s.links);
  expect(otlp.status?.code ?? 0).toBe(STATUS[s.status.code]);
  expect(otlp.status?.message).toBe(s.status.message);
  expect(otlp.droppedAttributesCount ?? 0).toBe(s.dropped.attributes);
  expect(otlp.droppedEventsCount ?? 0).toBe(s.dropped.events);
  expect(otlp.droppedLinksCount ?? 0).toBe(s.dropped.links);
}

function expectSameTraces(r: Receiver, traces: FinishedTrace[]): void {
  // A span exported open and again ended shares its id across two exports: tell them by end time.
  const byId = new Map(r.spans().map((s) => [`${s.spanId}@${s.endTimeUnixNano}`, s]));
  let n = 0;
  for (const t of traces) {
    for (const s of t.spans) {
      const otlp = byId.get(`${s.spanId}@${nanos(s.endTime)}`);
      expect(otlp).toBeDefined();
      expectSameSpan(otlp!, s, t);
      expect(attrs(otlp!.resource.attributes)).toEqual(t.resource);
      expect(otlp!.scope).toMatchObject({ name: '@tracewire/core' });
      n++;
    }
  }
  expect(r.spans()).toHaveLength(n);
}

describe('OTLPTraceExporter with an Express app', () => {
  const fixture = loadFixtures().find((f) => f.name === 'openai-chat-text-usage')!;

  it.each([
    ['http/protobuf', 'gzip'],
    ['http/json', 'gzip'],
    ['http/protobuf', 'none'],
    ['http/json', 'none'],
  ] as const)('delivers every field of an incoming-traceparent request, a tracedFetch LLM stream and a 500 (%s, %s)', async (protocol, compression) => {
    const r = await receiver();
    const llm = await listen(
      http.createServer((_req, res) => {
        res.writeHead(200, fixture.headers);
        res.end(fixture.bytes);
      }),
    );
    open.push(llm);
    const { tracer, memory } = tracerWith({
      url: `${r.url}/v1/traces`,
      protocol,
      compression,
      headers: { 'x-api-key': 'secret-key', 'X-Team': 'llm' },
    });
    const app = express();
    app.use(tracingMiddleware({ tracer }));
    app.post('/chat/:room', async (_req, res) => {
      const upstream = await tracedFetch(`${llm.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      });
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for await (const chunk of upstream.body as unknown as AsyncIterable<Uint8Array>) res.write(chunk);
      res.end();
    });
    app.get('/boom', async (_req, res) => {
      await withSpan('load', async (span) => {
        span.addEvent('cache.miss', { 'cache.key': 'k1' });
      });
      res.status(500).send('no');
    });
    const server = await listen(http.createServer(app));
    open.push(server);

    const chat = await request(`${server.url}/chat/7`, {
      method: 'POST',
      headers: { traceparent: `00-${INCOMING_TRACE}-${INCOMING_PARENT}-01`, tracestate: 'vendor=a1' },
    });
    expect(chat.body).toBe(fixture.bytes.toString('utf8'));
    expect((await request(`${server.url}/boom`)).status).toBe(500);

    const traces = await memory.waitFor(2);
    await r.waitForSpans(traces.reduce((n, t) => n + t.spans.length, 0));
    expectSameTraces(r, traces);

    const sent = r.delivered[0];
    expect(sent.path).toBe('/v1/traces');
    expect(sent.method).toBe('POST');
    expect(sent.headers['content-type']).toBe(protocol === 'http/json' ? 'application/json' : 'application/x-protobuf');
    expect(sent.headers['x-api-key']).toBe('secret-key');
    expect(sent.headers['x-team']).toBe('llm');
    expect(sent.headers['user-agent']).toMatch(/^Tracewire-OTLP-Exporter-JavaScript\//);
    if (compression === 'gzip') {
      expect(sent.headers['content-encoding']).toBe('gzip');
      expect(sent.raw.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    } else expect(sent.headers['content-encoding']).toBeUndefined();

    const spans = r.spans();
    const serverSpan = spans.find((s) => s.name === 'POST /chat/:room')!;
    expect(serverSpan.traceId).toBe(INCOMING_TRACE);
    expect(serverSpan.parentSpanId).toBe(INCOMING_PARENT);
    expect(serverSpan.flags).toBe(0x301);
    expect(serverSpan.traceState).toBe('vendor=a1');
    expect(serverSpan.kind).toBe(2);
    const client = spans.find((s) => s.kind === 3)!;
    expect(client.parentSpanId).toBe(serverSpan.spanId);
    expect(client.flags).toBe(0x101);
    const ca = Object.fromEntries(client.attributes.map((kv: Canonical) => [kv.key, kv.value]));
    expect(ca['gen_ai.usage.input_tokens']).toEqual({ intValue: String(fixture.expected.usage.input) });
    expect(ca['gen_ai.usage.output_tokens']).toEqual({ intValue: String(fixture.expected.usage.output) });
    expect(ca['gen_ai.response.model']).toEqual({ stringValue: fixture.expected.model });
    expect(ca['gen_ai.response.finish_reasons']).toEqual({ arrayValue: { values: [{ stringValue: 'stop' }] } });
    expect(typeof ca['tracewire.usage.cost'].doubleValue).toBe('number');
    const boom = spans.find((s) => s.name === 'GET /boom')!;
    expect(boom.status.code).toBe(2);
    expect(boom.flags & 0x300).toBe(0x100); // a root: remote-ness known, not remote
    expect(attrs(boom.attributes)['http.response.status_code']).toBe(500);
    expect(spans.find((s) => s.name === 'load')!.events[0].name).toBe('cache.miss');
    expect(attrs(serverSpan.resource.attributes)).toMatchObject({ 'service.name': 'chat-api', 'service.version': '2.0.0' });
    // the API key went in a header, never into the exported data
    expect(JSON.stringify(r.delivered.map((d) => d.request))).not.toContain('secret-key');
    expect(tracer.stats().exporters.otlp).toMatchObject({ failed: 0, rejectedSpans: 0, failedSpans: 0 });
  });

  it('marks spans exported open and late fragments so a backend can tell them apart', async () => {
    const r = await receiver();
    const { tracer, memory } = tracerWith({ url: `${r.url}/v1/traces` }, { limits: { lingerMs: 20 } });
    const root = tracer.startSpan('GET /slow', { parent: null, kind: 'server' });
    const child = tracer.startSpan('background', { parent: root });
    root.end();
    const [first] = await memory.waitFor(1);
    expect(first.incomplete).toBe(true);
    child.end();
    await memory.waitFor(2);
    const spans = await r.waitForSpans(3);
    const [openCopy, lateCopy] = spans.filter((s) => s.name === 'background');
    expect(attrs(openCopy.attributes)).toEqual({ 'tracewire.span.incomplete': true });
    expect(attrs(lateCopy.attributes)).toEqual({ 'tracewire.trace.fragment': 1 });
    expect(lateCopy.spanId).toBe(openCopy.spanId);
    expectSameTraces(r, memory.traces());
  });
});

describe('OTLPTraceExporter delivery', () => {
  function exportOne(tracer: Tracer, name = 'job'): void {
    tracer.startSpan(name, { parent: null }).end();
  }

  it('retries a 503 and delivers the body exactly once', async () => {
    const r = await receiver((n) => (n === 1 ? { status: 503 } : undefined));
    const { tracer } = tracerWith({ url: `${r.url}/v1/traces` });
    const started = Date.now();
    exportOne(tracer);
    await tracer.forceFlush();
    expect(Date.now() - started).toBeGreaterThanOrEqual(700); // backoff 1 s ± 20 %
    expect(r.attempts).toHaveLength(2);
    expect(r.delivered).toHaveLength(1);
    expect(r.spans()).toHaveLength(1);
    expect(r.attempts[0].raw).toEqual(r.attempts[1].raw);
    expect(tracer.stats().exporters.otlp).toMatchObject({ exported: 1, failed: 0, requests: 2, retries: 1 });
  });

  it.each([429, 502, 504])('retries %i, honouring Retry-After in seconds', async (status) => {
    const r = await receiver((n) => (n === 1 ? { status, headers: { 'retry-after': '0' } } : undefined));
    const { tracer } = tracerWith({ url: `${r.url}/v1/traces` });
    const started = Date.now();
    exportOne(tracer);
    await tracer.forceFlush();
    expect(Date.now() - started).toBeLessThan(600); // Retry-After 0 beats the 1 s backoff
    expect(r.delivered).toHaveLength(1);
    expect(tracer.stats().exporters.otlp).toMatchObject({ exported: 1, retries: 1 });
  });

  it('honours Retry-After as an HTTP date', async () => {
    const r = await receiver((n) => (n === 1 ? { status: 503, headers: { 'retry-after': new Date(Date.now() + 2000).toUTCString() } } : undefined));
    const { tracer } = tracerWith({ url: `${r.url}/v1/traces` });
    const started = Date.now();
    exportOne(tracer);
    await tracer.forceFlush();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900); // the date has whole seconds: 1-2 s away
    expect(r.delivered).toHaveLength(1);
  });

  it('gives up at once, counted, when Retry-After is past the export timeout', async () => {
    const r = await receiver(() => ({ status: 503, headers: { 'retry-after': '60' } }));
    const { tracer } = tracerWith({ url: `${r.url}/v1/traces`, timeoutMillis: 3000 });
    const started = Date.now();
    exportOne(tracer);
    await tracer.forceFlush();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(r.attempts).toHaveLength(1);
    expect(tracer.stats().exporters.otlp).toMatchObject({ exported: 0, failed: 1, failedSpans: 1, requests: 1, retries: 0 });
    expect(stderr.lines().join('')).toMatch(/HTTP 503, Retry-After 60000 ms is past the export timeout/);
  });

  it('sends a 400 once, counts it and logs the receiver message', async () => {
    const rpcStatus = JSON.stringify({ code: 3, message: 'span.trace_id is invalid' });
    const r = await receiver(() => ({ status: 400, headers: { 'content-type': 'application/json' }, body: rpcStatus }));
    const { tracer } = tracerWith({ url: `${r.url}/v1/traces`, headers: { authorization: 'Bearer sk-very-secret' } });
    exportOne(tracer);
    exportOne(tracer);
    await tracer.forceFlush();
    expect(r.attempts).toHaveLength(1);
    expect(r.delivered).toHaveLength(0);
    const s = tracer.stats();
    expect(s.exporters.otlp).toMatchObject({ exported: 0, failed: 2, failedSpans: 2, requests: 1, retries: 0 });
    expect(s.exportErrors).toBe(2);
    const log = stderr.lines().join('');
    expect(log).toMatch(/exporter "otlp" failed: OTLP export to http:\/\/127\.0\.0\.1:\d+\/v1\/traces failed: HTTP 400 \(span\.trace_id is invalid\); 1 attempt/);
    expect(log).not.toContain('sk-very-secret');
  });

  it('never retries other 4xx and 5xx statuses', async () => {
    for (const status of [401, 403, 404, 413, 500]) {
      const r = await receiver(() => ({ status }));
      const { tracer } = tracerWith({ url: `${r.url}/v1/traces` });
      exportOne(tracer);
      await tracer.forceFlush();
      expect(r.attempts).toHaveLength(1);
      expect(tracer.stats().exporters.otlp).toMatchObject({ failed: 1, retries: 0 });
    }
  });

  it('retries after a dropped connection and delivers once', async () => {
    const r = await receiver((n) => (n === 1 ? { destroy: true } : undefined));
    const { tracer } = tracerWith({ url: `${r.url}/v1/traces` });
    exportOne(tracer);
    await tracer.forceFlush();
    expect(r.attempts).toHaveLength(2);
    expect(r.delivered).toHaveLength(1);
    expect(tracer.stats().exporters.otlp).toMatchObject({ exported: 1, retries: 1 });
  });

  it.each(['http/protobuf', 'http/json'] as const)('counts the spans a partial_success rejects (%s)', async (protocol) => {
    const partial = { partialSuccess: { rejectedSpans: 2, errorMessage: 'attribute value too long' } };
    const body =
      protocol === 'http/json'
        ? JSON.stringify({ partialSuccess: { rejectedSpans: '2', errorMessage: 'attribute value too long' } })
        : Buffer.from(ResponseType.encode(ResponseType.fromObject(partial)).finish());
    const r = await receiver(() => ({ body }));
    const { tracer } = tracerWith({ url: `${r.url}/v1/traces`, protocol });
    for (let i = 0; i < 3; i++) exportOne(tracer);
    await tracer.forceFlush();
    expect(r.attempts).toHaveLength(1);
    expect(tracer.stats().exporters.otlp).toMatchObject({ exported: 3, failed: 0, rejectedSpans: 2 });
    expect(stderr.lines().join('')).toMatch(/rejected 2 of 3 span\(s\): attribute value too long/);
  });

  it('reads at most 64 KiB of a response body', async () => {
    const huge = Buffer.alloc(1024 * 1024, 0x61);
    const r = await receiver(() => ({ status: 400, headers: { 'content-type': 'text/plain' }, body: huge }));
    const { tracer } = tracerWith({ url: `${r.url}/v1/traces` });
    exportOne(tracer);
    await tracer.forceFlush();
    const line = stderr.lines().find((l) => l.includes('HTTP 400'))!;
    expect(line).toContain('a'.repeat(200) + '…');
    expect(line.length).toBeLessThan(600);
  });

  it('times out a backend that does not answer, within timeoutMillis, and counts it', async () => {
    const r = await receiver(() => ({ delayMs: 3000 }));
    const { tracer } = tracerWith({ url: `${r.url}/v1/traces`, timeoutMillis: 300 });
    const started = Date.now();
    exportOne(tracer);
    await tracer.forceFlush();
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(1500);
    expect(tracer.stats().exporters.otlp).toMatchObject({ failed: 1, exported: 0, retries: 0 });
    expect(stderr.lines().join('')).toMatch(/no response within the export timeout/);
  });

  it('lets 300 requests through unaffected while the backend is down, and counts every failure', async () => {
    // A port nothing listens on: every connection is refused.
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
    const deadPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const { tracer, memory } = tracerWith({ url: `http://127.0.0.1:${deadPort}/v1/traces`, timeoutMillis: 500 }, { batch: { scheduledDelayMillis: 5, maxExportBatchSize: 50 } });
    const app = express();
    app.use(tracingMiddleware({ tracer }));
    app.get('/hello/:name', (req, res) => res.json({ hello: req.params.name }));
    const server = await listen(http.createServer(app));
    open.push(server);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 10 });
    const started = Date.now();
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const batch = await Promise.all(
        Array.from({ length: 10 }, (_, j) =>
          new Promise<number>((resolve, reject) => {
            http
              .get(`${server.url}/hello/u${i * 10 + j}`, { agent }, (res) => {
                res.resume();
                res.on('end', () => resolve(res.statusCode ?? 0));
              })
              .on('error', reject);
          }),
        ),
      );
      statuses.push(...batch);
    }
    const took = Date.now() - started;
    agent.destroy();
    expect(statuses).toHaveLength(300);
    expect(statuses.every((s) => s === 200)).toBe(true);
    // 300 requests in far less than a single export timeout: nothing waited for the exporter
    expect(took).toBeLessThan(3000);
    await memory.waitFor(300);
    await tracer.forceFlush();
    const s = tracer.stats();
    expect(s.exporters.memory.exported).toBe(300);
    expect(s.exporters.otlp.exported).toBe(0);
    expect(s.exporters.otlp.failed + s.exporters.otlp.dropped).toBe(300);
    expect(s.exporters.otlp.failedSpans).toBe(s.exporters.otlp.failed);
    expect(stderr.lines().join('')).toMatch(/connection error ECONNREFUSED/);
  });

  it('shutdown delivers what is queued', async () => {
    const r = await receiver((n) => (n === 1 ? { delayMs: 200 } : undefined));
    const exporter = new OTLPTraceExporter({ url: `${r.url}/v1/traces` });
    const tracer = createTracer({ exporters: [exporter], batch: { scheduledDelayMillis: 60000 } });
    for (let i = 0; i < 5; i++) exportOne(tracer, `job${i}`);
    const live = tracer.startSpan('still open', { parent: null });
    await tracer.shutdown(5000);
    expect(r.spans().map((s) => s.name).sort()).toEqual(['job0', 'job1', 'job2', 'job3', 'job4', 'still open']);
    expect(attrs(r.spans().find((s) => s.name === 'still open')!.attributes)).toEqual({ 'tracewire.span.incomplete': true });
    live.end();
    await expect(exporter.export([])).rejects.toThrow(/shut down/);
  });
});

describe('OTLPTraceExporter options', () => {
  it.each([
    [{ url: 'ftp://x' }, /option "url" must be an http\(s\) URL/],
    [{ url: 'not a url' }, /option "url" must be an http\(s\) URL/],
    [{ url: 42 }, /option "url" must be an http\(s\) URL, got 42/],
    [{ protocol: 'grpc' }, /option "protocol" must be "http\/protobuf" or "http\/json", got "grpc"/],
    [{ compression: 'br' }, /option "compression" must be "gzip" or "none"/],
    [{ timeoutMillis: 0 }, /option "timeoutMillis" must be a positive number/],
    [{ timeoutMillis: Infinity }, /option "timeoutMillis"/],
    [{ headers: 'x' }, /option "headers" must be an object/],
    [{ headers: { 'bad name': 'v' } }, /option "headers\["bad name"\]" is not a valid header name/],
    [{ headers: { 'x-key': 'a\r\nb' } }, /option "headers\["x-key"\]" has a character not allowed/],
    [{ headers: { 'content-type': 'text/plain' } }, /is set by the exporter itself/],
    [{ endpoint: 'http://x' }, /unknown OTLPTraceExporter option "endpoint"/],
  ])('throws a TypeError naming the option for %p', (options, message) => {
    expect(() => new OTLPTraceExporter(options as OTLPTraceExporterOptions)).toThrow(TypeError);
    expect(() => new OTLPTraceExporter(options as OTLPTraceExporterOptions)).toThrow(message);
  });

  it('never prints a header value or URL credentials in an option error', () => {
    expect(() => new OTLPTraceExporter({ headers: { 'x-key': 'sk-secret\n' } })).toThrow(/^(?!.*sk-secret)/s);
    expect(() => new OTLPTraceExporter({ url: 'htp://user:pa55@host' })).toThrow(/^(?!.*pa55)/s);
  });

  it('defaults to http/protobuf at http://localhost:4318/v1/traces, no compression, 10 s', () => {
    const e = new OTLPTraceExporter();
    expect([e.url, e.protocol, e.compression, e.timeoutMillis]).toEqual(['http://localhost:4318/v1/traces', 'http/protobuf', 'none', 10000]);
  });
});

describe('OTLPTraceExporter environment', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of Object.keys(process.env)) if (k.startsWith('OTEL_')) delete process.env[k];
    Object.assign(process.env, saved);
  });

  it('reads endpoint (+ /v1/traces), URL-decoded headers, protocol, compression and timeout', async () => {
    const r = await receiver();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `${r.url}/otlp/`;
    process.env.OTEL_EXPORTER_OTLP_HEADERS = 'x-honeycomb-team=abc%3D%3D,authorization=Basic%20dXNlcjpwYXNz';
    process.env.OTEL_EXPORTER_OTLP_TRACES_HEADERS = 'x-dataset=traces';
    process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
    process.env.OTEL_EXPORTER_OTLP_COMPRESSION = 'gzip';
    process.env.OTEL_EXPORTER_OTLP_TIMEOUT = '4000';
    const e = new OTLPTraceExporter();
    expect([e.url, e.protocol, e.compression, e.timeoutMillis]).toEqual([`${r.url}/otlp/v1/traces`, 'http/json', 'gzip', 4000]);
    const tracer = createTracer({ exporters: [e], batch: { scheduledDelayMillis: 5 } });
    tracers.push(tracer);
    tracer.startSpan('from env', { parent: null }).end();
    await tracer.forceFlush();
    const [got] = r.delivered;
    expect(got.path).toBe('/otlp/v1/traces');
    expect(got.format).toBe('json');
    expect(got.headers['content-encoding']).toBe('gzip');
    expect(got.headers['x-honeycomb-team']).toBe('abc==');
    expect(got.headers.authorization).toBe('Basic dXNlcjpwYXNz');
    expect(got.headers['x-dataset']).toBe('traces');
    expect(stderr.lines()).toEqual([]);
  });

  it('uses OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, and options over the environment', () => {
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = 'http://general:4318';
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = 'https://api.example.com/custom/path';
    process.env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL = 'http/json';
    expect(new OTLPTraceExporter().url).toBe('https://api.example.com/custom/path');
    const o = new OTLPTraceExporter({ url: 'http://mine:4318/v1/traces', protocol: 'http/protobuf', timeoutMillis: 50 });
    expect([o.url, o.protocol, o.timeoutMillis]).toEqual(['http://mine:4318/v1/traces', 'http/protobuf', 50]);
  });

  it('warns once per bad variable, naming it and the default used', () => {
    process.env.OTEL_EXPORTER_OTLP_TIMEOUT = 'ten';
    process.env.OTEL_EXPORTER_OTLP_COMPRESSION = 'zstd';
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = 'collector:4318';
    const e = new OTLPTraceExporter();
    new OTLPTraceExporter();
    expect([e.url, e.compression, e.timeoutMillis]).toEqual(['http://localhost:4318/v1/traces', 'none', 10000]);
    const lines = stderr.lines();
    expect(lines).toHaveLength(3);
    expect(lines.join('')).toMatch(/OTEL_EXPORTER_OTLP_TIMEOUT="ten" is not a positive integer.*using the default 10000/);
    expect(lines.join('')).toMatch(/OTEL_EXPORTER_OTLP_COMPRESSION="zstd" is not supported.*using the default none/);
    expect(lines.join('')).toMatch(/OTEL_EXPORTER_OTLP_ENDPOINT="collector:4318" is not an http\(s\) URL/);
  });

  it('OTEL_TRACES_EXPORTER=otlp sends the traces of createTracer() and of the global tracer', async () => {
    const r = await receiver();
    process.env.OTEL_TRACES_EXPORTER = 'otlp';
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `${r.url}/v1/traces`;
    process.env.OTEL_SERVICE_NAME = 'from-env';
    process.env.OTEL_BSP_SCHEDULE_DELAY = '5';
    const tracer = createTracer();
    tracers.push(tracer);
    tracer.startSpan('created', { parent: null }).end();
    await tracer.forceFlush();
    expect(Object.keys(tracer.stats().exporters)).toEqual(['otlp']);
    const core = await import('@tracewire/core');
    core.setGlobalTracer(undefined);
    const global = core.getTracer();
    tracers.push(global);
    core.withSpan('global', () => undefined);
    await global.forceFlush();
    core.setGlobalTracer(undefined);
    const spans = await r.waitForSpans(2);
    expect(spans.map((s) => s.name).sort()).toEqual(['created', 'global']);
    expect(attrs(spans[0].resource.attributes)['service.name']).toBe('from-env');
    expect(stderr.lines()).toEqual([]);
  });

  it('OTEL_TRACES_EXPORTER=otlp,zipkin makes both exporters of the package', () => {
    process.env.OTEL_TRACES_EXPORTER = 'otlp,zipkin';
    const tracer = createTracer();
    tracers.push(tracer);
    expect(Object.keys(tracer.stats().exporters)).toEqual(['otlp', 'zipkin']);
  });
});

describe('OTEL_TRACES_EXPORTER without @tracewire/otlp installed', () => {
  it('warns once which package to install, and counts the traces as having no exporter', async () => {
    const writes: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      writes.push(String(chunk));
      return true;
    });
    const saved = process.env.OTEL_TRACES_EXPORTER;
    process.env.OTEL_TRACES_EXPORTER = 'otlp,zipkin';
    try {
      await jest.isolateModulesAsync(async () => {
        jest.doMock('@tracewire/otlp', () => {
          const err = new Error("Cannot find module '@tracewire/otlp' from 'tracer.ts'") as NodeJS.ErrnoException;
          err.code = 'MODULE_NOT_FOUND';
          throw err;
        });
        const core = (await import('@tracewire/core')) as typeof import('@tracewire/core');
        const a = core.createTracer();
        const b = core.createTracer();
        a.startSpan('x', { parent: null }).end();
        expect(a.stats().exporters).toEqual({});
        expect(a.stats().dropped.no_exporter).toBe(1);
        await Promise.all([a.shutdown(), b.shutdown()]);
      });
    } finally {
      if (saved === undefined) delete process.env.OTEL_TRACES_EXPORTER;
      else process.env.OTEL_TRACES_EXPORTER = saved;
      spy.mockRestore();
    }
    const install = writes.filter((w) => w.includes('npm install @tracewire/otlp'));
    expect(install).toHaveLength(1);
    expect(install[0]).toMatch(/OTEL_TRACES_EXPORTER names otlp, zipkin, which come from @tracewire\/otlp, but it is not installed/);
  });
});
