import http from 'node:http';
import express from 'express';
import { createTracer, InMemoryExporter, SDK_VERSION, tracedFetch, withSpan } from '@tracewire/core';
import type { FinishedTrace, SpanData, Tracer } from '@tracewire/core';
import { tracingMiddleware } from '@tracewire/express';
import { ZipkinExporter, toZipkinSpans } from '../src';
import type { ZipkinSpan } from '../src';
import { captureStderr, makeSpan, makeTrace, T0 } from '../../core/test/helpers';
import { listen, request } from '../../../test-utils/http';
import type { Listening } from '../../../test-utils/http';

interface Received {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  spans: ZipkinSpan[];
}

/** A Zipkin collector stand-in: parses every POSTed body as JSON and answers `answer()` (202). */
async function zipkinReceiver(answer: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_q, res) => res.writeHead(202).end()) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, spans: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      answer(req, res);
    });
  });
  const listening = await listen(server);
  return { ...listening, received, endpoint: `${listening.url}/api/v2/spans` };
}

const INCOMING_TRACE = '0af7651916cd43dd8448eb211c80319c';
const INCOMING_PARENT = 'b7ad6b7169203331';

describe('ZipkinExporter', () => {
  captureStderr();
  const open: Listening[] = [];
  const tracers: Tracer[] = [];
  afterEach(async () => {
    for (const t of tracers.splice(0)) await t.shutdown();
    for (const l of open.splice(0).reverse()) await l.close();
  });

  function tracerWith(exporter: ZipkinExporter, extra: Partial<Parameters<typeof createTracer>[0]> = {}) {
    const memory = new InMemoryExporter();
    const tracer = createTracer({
      serviceName: 'orders',
      serviceVersion: '1.2.3',
      resource: { 'service.namespace': 'shop' },
      exporters: [exporter, memory],
      batch: { scheduledDelayMillis: 5 },
      ...extra,
    });
    tracers.push(tracer);
    return { tracer, memory };
  }

  it('sends an Express trace (incoming traceparent, tracedFetch hop, 500) mapped as the specification says', async () => {
    const zipkin = await zipkinReceiver();
    open.push(zipkin);
    const inventory = await listen(http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"left":3}')));
    open.push(inventory);
    const exporter = new ZipkinExporter({ url: zipkin.endpoint, headers: { 'x-zipkin-token': 'tok' } });
    const { tracer, memory } = tracerWith(exporter);

    const app = express();
    app.use(tracingMiddleware({ tracer }));
    app.get('/orders/:id', async (_req, res) => {
      const stock = await withSpan('check stock', async (span) => {
        span.setAttributes({ 'stock.sku': 'A-7', 'stock.count': 42, 'stock.ratio': 1.5, 'stock.fresh': true, 'stock.tags': ['a', 'b'], 'stock.levels': [1, 2], 'stock.flags': [true, false] });
        span.addEvent('cache.miss', { key: 'k1', n: 3 });
        span.addEvent('cache.filled');
        span.setStatus({ code: 'ok' });
        const r = await tracedFetch(`${inventory.url}/inventory/7`);
        return r.json();
      });
      try {
        await withSpan('charge', async () => {
          throw new Error('card declined');
        });
      } catch {
        // the span records it
      }
      res.status(500).json({ stock });
    });
    const server = await listen(http.createServer(app));
    open.push(server);

    const res = await request(`${server.url}/orders/9`, {
      headers: { traceparent: `00-${INCOMING_TRACE}-${INCOMING_PARENT}-01`, tracestate: 'vendor=abc' },
    });
    expect(res.status).toBe(500);
    const [trace] = await memory.waitFor(1);
    await tracer.forceFlush();

    expect(zipkin.received).toHaveLength(1);
    const post = zipkin.received[0];
    expect(post.method).toBe('POST');
    expect(post.path).toBe('/api/v2/spans');
    expect(post.headers['content-type']).toBe('application/json');
    expect(post.headers['x-zipkin-token']).toBe('tok');
    expect(post.spans).toHaveLength(4);

    const byName = (name: string) => post.spans.find((s) => s.name === name)!;
    const data = (name: string) => trace.spans.find((s) => s.name === name)!;
    const root = byName('GET /orders/:id');
    const stock = byName('check stock');
    const client = byName('GET');
    const charge = byName('charge');

    // ids and parent: the caller's trace continues; the root's parent is the caller's span
    for (const s of post.spans) {
      expect(s.traceId).toBe(INCOMING_TRACE);
      expect(s.id).toMatch(/^[0-9a-f]{16}$/);
    }
    expect(root.id).toBe(trace.rootSpanId);
    expect(root.parentId).toBe(INCOMING_PARENT);
    expect(stock.parentId).toBe(root.id);
    expect(client.parentId).toBe(stock.id);
    expect(charge.parentId).toBe(root.id);

    // kind: SERVER / CLIENT, internal omitted
    expect(root.kind).toBe('SERVER');
    expect(client.kind).toBe('CLIENT');
    expect('kind' in stock).toBe(false);
    expect('kind' in charge).toBe(false);

    // service name from service.name, on every span; never a tag
    for (const s of post.spans) {
      expect(s.localEndpoint).toEqual({ serviceName: 'orders' });
      expect(s.tags['service.name']).toBeUndefined();
      // resource attributes and the scope as tags (with the deprecated aliases the spec requires)
      expect(s.tags['service.version']).toBe('1.2.3');
      expect(s.tags['service.namespace']).toBe('shop');
      expect(s.tags['telemetry.sdk.name']).toBe(trace.resource['telemetry.sdk.name']);
      expect(s.tags['otel.scope.name']).toBe('@tracewire/core');
      expect(s.tags['otel.scope.version']).toBe(SDK_VERSION);
      expect(s.tags['otel.library.name']).toBe('@tracewire/core');
      expect(s.tags['otel.library.version']).toBe(SDK_VERSION);
      // OpenTelemetry spans never share their caller's id; nothing forces sampling
      expect('shared' in s).toBe(false);
      expect('debug' in s).toBe(false);
      // tracestate (TBD in the spec) as the Collector tags it
      expect(s.tags['w3c.tracestate']).toBe('vendor=abc');
    }

    // remote endpoint only on the CLIENT span, from server.address (an IP here) and server.port
    expect(client.remoteEndpoint).toEqual({ ipv4: '127.0.0.1', port: inventory.port });
    expect(root.remoteEndpoint).toBeUndefined();
    expect(stock.remoteEndpoint).toBeUndefined();

    // tags: every attribute as a string; arrays as JSON lists; ints stay ints
    expect(stock.tags).toMatchObject({
      'stock.sku': 'A-7',
      'stock.count': '42',
      'stock.ratio': '1.5',
      'stock.fresh': 'true',
      'stock.tags': '["a","b"]',
      'stock.levels': '[1,2]',
      'stock.flags': '[true,false]',
    });
    expect(root.tags['http.response.status_code']).toBe('500');
    expect(root.tags['http.route']).toBe('/orders/:id');
    expect(client.tags['url.full']).toBe(`${inventory.url}/inventory/7`);
    for (const s of post.spans) {
      for (const v of Object.values(s.tags)) expect(typeof v).toBe('string');
      const span = data(s.name);
      for (const key of Object.keys(span.attributes)) expect(s.tags[key]).toBeDefined();
    }

    // status: OK and ERROR as otel.status_code; `error` only on ERROR (its description, or '')
    expect(stock.tags['otel.status_code']).toBe('OK');
    expect(stock.tags.error).toBeUndefined();
    expect(root.tags['otel.status_code']).toBe('ERROR');
    expect(root.tags.error).toBe(data('GET /orders/:id').status.message ?? '');
    expect(charge.tags['otel.status_code']).toBe('ERROR');
    expect(charge.tags.error).toBe('card declined');
    expect(client.tags['otel.status_code']).toBeUndefined(); // UNSET is not reported
    expect(client.tags.error).toBeUndefined();

    // events as annotations: the name, with attributes as `"name": {json}`; absent when none
    expect(stock.annotations).toHaveLength(2);
    expect(stock.annotations![0].value).toBe('"cache.miss": {"key":"k1","n":3}');
    expect(stock.annotations![1].value).toBe('cache.filled');
    expect(charge.annotations).toHaveLength(1);
    expect(charge.annotations![0].value.startsWith('"exception": {')).toBe(true);
    expect(JSON.parse(charge.annotations![0].value.slice('"exception": '.length))['exception.message']).toBe('card declined');
    expect('annotations' in client).toBe(false);
    expect('annotations' in root).toBe(false);

    // times: whole microseconds, matching the recorded milliseconds
    for (const s of post.spans) {
      const span = data(s.name);
      expect(Number.isInteger(s.timestamp)).toBe(true);
      expect(Number.isInteger(s.duration)).toBe(true);
      expect(Math.abs(s.timestamp - span.startTime * 1000)).toBeLessThanOrEqual(1);
      expect(Math.abs(s.duration! - (span.endTime - span.startTime) * 1000)).toBeLessThanOrEqual(1);
      expect(s.duration!).toBeGreaterThanOrEqual(1);
      for (const [i, a] of (s.annotations ?? []).entries()) {
        expect(Number.isInteger(a.timestamp)).toBe(true);
        expect(Math.abs(a.timestamp - span.events[i].time * 1000)).toBeLessThanOrEqual(1);
      }
    }
    expect(tracer.stats().exporters.zipkin).toMatchObject({ exported: 1, failed: 0 });
  });

  it('counts a batch Zipkin refuses (HTTP 500) as failed, with one attempt and a capped body', async () => {
    const zipkin = await zipkinReceiver((_req, res) => res.writeHead(500).end('x'.repeat(200_000)));
    open.push(zipkin);
    const stderr = jest.spyOn(process.stderr, 'write');
    const { tracer } = tracerWith(new ZipkinExporter({ url: zipkin.endpoint }));
    tracer.startSpan('work', { parent: null }).end();
    await tracer.forceFlush();
    expect(zipkin.received).toHaveLength(1);
    expect(tracer.stats().exporters.zipkin).toMatchObject({ exported: 0, failed: 1 });
    expect(tracer.stats().exportErrors).toBe(1);
    const line = stderr.mock.calls.map((c) => String(c[0])).find((l) => l.includes('HTTP 500'))!;
    expect(line).toBeDefined();
    expect(line.length).toBeLessThan(1000);
  });

  it('gives up on a Zipkin that does not answer within timeoutMillis, counting the batch', async () => {
    const held: http.ServerResponse[] = [];
    const zipkin = await zipkinReceiver((_req, res) => held.push(res));
    open.push(zipkin);
    const { tracer } = tracerWith(new ZipkinExporter({ url: zipkin.endpoint, timeoutMillis: 150 }));
    const started = Date.now();
    tracer.startSpan('work', { parent: null }).end();
    await tracer.forceFlush();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(tracer.stats().exporters.zipkin).toMatchObject({ exported: 0, failed: 1 });
    for (const r of held) r.end();
  });

  it('leaves requests unaffected when Zipkin is down, and counts every failed batch', async () => {
    const gone = await listen(http.createServer());
    const deadUrl = `${gone.url}/api/v2/spans`;
    await gone.close();
    const { tracer, memory } = tracerWith(new ZipkinExporter({ url: deadUrl }), { batch: { scheduledDelayMillis: 1, maxExportBatchSize: 10 } });
    const app = express();
    app.use(tracingMiddleware({ tracer }));
    app.get('/hello', (_req, res) => res.send('hi'));
    const server = await listen(http.createServer(app));
    open.push(server);
    for (let i = 0; i < 50; i++) {
      const r = await request(`${server.url}/hello`);
      expect(r.status).toBe(200);
      expect(r.body).toBe('hi');
    }
    await memory.waitFor(50);
    await tracer.forceFlush();
    const stats = tracer.stats().exporters.zipkin;
    expect(stats.exported).toBe(0);
    expect(stats.failed + stats.dropped).toBe(50);
  });

  it('takes OTEL_EXPORTER_ZIPKIN_ENDPOINT and OTEL_EXPORTER_ZIPKIN_TIMEOUT when no option is given', async () => {
    const zipkin = await zipkinReceiver();
    open.push(zipkin);
    process.env.OTEL_EXPORTER_ZIPKIN_ENDPOINT = zipkin.endpoint;
    process.env.OTEL_EXPORTER_ZIPKIN_TIMEOUT = 'soon';
    try {
      const exporter = new ZipkinExporter();
      expect(exporter.url).toBe(zipkin.endpoint);
      const { tracer } = tracerWith(exporter);
      tracer.startSpan('env', { parent: null }).end();
      await tracer.forceFlush();
      expect(zipkin.received[0].spans[0].name).toBe('env');
    } finally {
      delete process.env.OTEL_EXPORTER_ZIPKIN_ENDPOINT;
      delete process.env.OTEL_EXPORTER_ZIPKIN_TIMEOUT;
    }
    const warned = (process.stderr.write as unknown as jest.Mock).mock.calls.map((c) => String(c[0]));
    expect(warned.some((l) => l.includes('OTEL_EXPORTER_ZIPKIN_TIMEOUT') && l.includes('10000'))).toBe(true);
    expect(new ZipkinExporter().url).toBe('http://localhost:9411/api/v2/spans');
  });

  it('rejects bad options with a TypeError naming the option', () => {
    expect(() => new ZipkinExporter({ url: 'not a url' })).toThrow(/"url"/);
    expect(() => new ZipkinExporter({ url: 'ftp://zipkin/api/v2/spans' })).toThrow(TypeError);
    expect(() => new ZipkinExporter({ timeoutMillis: -1 })).toThrow(/"timeoutMillis"/);
    expect(() => new ZipkinExporter({ headers: { 'bad header': 'x' } })).toThrow(/"headers"/);
    expect(() => new ZipkinExporter({ headers: { ok: 'a\r\nb' } })).toThrow(/"headers"/);
    expect(() => new ZipkinExporter({ headers: { 'Content-Length': '1' } })).toThrow(/sets itself/);
    expect(() => new ZipkinExporter({ endpoint: 'http://zipkin:9411' } as never)).toThrow(/unknown option "endpoint"/);
  });

  it('rejects exports after shutdown', async () => {
    const exporter = new ZipkinExporter({ url: 'http://127.0.0.1:9/api/v2/spans' });
    await exporter.shutdown();
    await expect(exporter.export([makeTrace([makeSpan()])])).rejects.toThrow(/shut down/);
  });
});

describe('toZipkinSpans', () => {
  const one = (span: SpanData, trace: Partial<FinishedTrace> = {}) => toZipkinSpans([makeTrace([span], { resource: { 'service.name': 'svc' }, ...trace })])[0];

  it('picks the remote endpoint of CLIENT and PRODUCER spans by the spec ranking', () => {
    const client = (attributes: SpanData['attributes'], kind: SpanData['kind'] = 'client') => one(makeSpan({ kind, attributes })).remoteEndpoint;
    expect(client({ 'server.address': 'inventory.internal', 'server.port': 8080 })).toEqual({ serviceName: 'inventory.internal', port: 8080 });
    expect(client({ 'peer.service': 'inventory', 'server.address': 'inventory.internal', 'server.port': 8080 })).toEqual({ serviceName: 'inventory' });
    expect(client({ 'server.address': '::1', 'server.port': 443 })).toEqual({ ipv6: '::1', port: 443 });
    expect(client({ 'network.peer.address': '10.0.0.7', 'network.peer.port': 5432 })).toEqual({ ipv4: '10.0.0.7', port: 5432 });
    expect(client({ 'network.peer.address': '10.0.0.7' })).toEqual({ ipv4: '10.0.0.7' });
    // a "socket address" attribute that is no IP is passed over for the next rank
    expect(client({ 'network.peer.address': 'db-host', 'peer.hostname': 'db-host' })).toEqual({ serviceName: 'db-host' });
    expect(client({ 'net.peer.name': 'legacy.host', 'net.peer.port': 80, 'db.name': 'orders' })).toEqual({ serviceName: 'legacy.host', port: 80 });
    expect(client({ 'db.name': 'orders' })).toEqual({ serviceName: 'orders' });
    expect(client({ 'server.address': 'mq.internal' }, 'producer')).toEqual({ serviceName: 'mq.internal' });
    expect(client({ 'server.address': 'x' }, 'consumer')).toBeUndefined();
    expect(client({ 'server.address': 'x' }, 'server')).toBeUndefined();
    expect(client({})).toBeUndefined();
  });

  it('reports dropped counts, links and producer/consumer kinds', () => {
    const z = one(makeSpan({
      kind: 'producer',
      dropped: { attributes: 2, events: 3, links: 0 },
      links: [{ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), attributes: { reason: 'retry' } }],
    }));
    expect(z.kind).toBe('PRODUCER');
    expect(z.tags['otel.dropped_attributes_count']).toBe('2');
    expect(z.tags['otel.dropped_events_count']).toBe('3');
    expect(z.tags['otel.dropped_links_count']).toBeUndefined();
    expect(z.tags['otlp.link.0']).toBe(`${'a'.repeat(32)}|${'b'.repeat(16)}||{"reason":"retry"}|0`);
    expect(one(makeSpan({ kind: 'consumer' })).kind).toBe('CONSUMER');
  });

  it('removes a boolean `error` attribute unless the status is ERROR', () => {
    expect(one(makeSpan({ attributes: { error: false } })).tags.error).toBeUndefined();
    expect(one(makeSpan({ attributes: { error: 'false' }, status: { code: 'ok' } })).tags.error).toBeUndefined();
    expect(one(makeSpan({ status: { code: 'error' } })).tags.error).toBe('');
  });

  it('keeps sub-millisecond times as whole microseconds; below 1 µs rounds up to 1', () => {
    // binary fractions, exact in a double at this magnitude (its step here is 2^-12 ms)
    const z = one(makeSpan({ startTime: T0 + 0.125, endTime: T0 + 2.5, events: [{ name: 'e', time: T0 + 1.25, attributes: {} }] }));
    expect(z.timestamp).toBe(T0 * 1000 + 125);
    expect(z.duration).toBe(2375);
    expect(z.annotations).toEqual([{ timestamp: T0 * 1000 + 1250, value: 'e' }]);
    expect(one(makeSpan({ startTime: T0, endTime: T0 + 0.0002 })).duration).toBe(1);
    expect('duration' in one(makeSpan({ startTime: T0, endTime: T0 }))).toBe(false);
  });

  it('marks a span exported open (no duration: Zipkin merges the ended copy later) and late fragments', () => {
    const open = one(makeSpan({ ended: false, endTime: T0 + 5 }));
    expect(open.tags['tracewire.span.incomplete']).toBe('true');
    expect('duration' in open).toBe(false);
    const late = one(makeSpan(), { fragment: 2 });
    expect(late.tags['tracewire.trace.fragment']).toBe('2');
    expect(late.duration).toBe(10000);
  });

  it('falls back to the default service name when the resource has none', () => {
    expect(toZipkinSpans([makeTrace([makeSpan()])])[0].localEndpoint).toEqual({ serviceName: 'unknown_service:node' });
  });
});
