import http from 'node:http';
import { join } from 'node:path';
import express from 'express';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { ExportResultCode } from '@opentelemetry/core';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { createTracer, InMemoryExporter, SDK_VERSION, tracedFetch, withSpan } from '@tracewire/core';
import type { FinishedTrace, SpanData, Tracer } from '@tracewire/core';
import { tracingMiddleware } from '@tracewire/express';
import { fromOpenTelemetryExporter } from '../src';
import type { OtelReadableSpan, OtelSpanExporter } from '../src';
import { captureStderr, makeSpan, makeTrace, T0 } from '../../core/test/helpers';
import { listen, request } from '../../../test-utils/http';
import type { Listening } from '../../../test-utils/http';

const PROTO_ROOT = join(__dirname, 'fixtures', 'opentelemetry-proto');
const INCOMING_TRACE = '0af7651916cd43dd8448eb211c80319c';
const INCOMING_PARENT = 'b7ad6b7169203331';
const LINKED_TRACE = '5b8efff798038103d269b633813fc60c';
const LINKED_SPAN = 'eee19b7ec3c1b174';

type Decoded = any;

/** A collector TraceService on 127.0.0.1:0, decoding with the official protos; `fail` answers an error status. */
async function grpcCollector(fail?: grpc.status) {
  const definition = protoLoader.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto', {
    includeDirs: [PROTO_ROOT],
    longs: String,
    enums: Number,
    bytes: Buffer,
    defaults: false,
    oneofs: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as any;
  const service = loaded.opentelemetry.proto.collector.trace.v1.TraceService.service;
  const requests: Decoded[] = [];
  const metadata: grpc.Metadata[] = [];
  const server = new grpc.Server();
  server.addService(service, {
    Export(call: grpc.ServerUnaryCall<Decoded, Decoded>, callback: grpc.sendUnaryData<Decoded>) {
      requests.push(call.request);
      metadata.push(call.metadata);
      if (fail !== undefined) callback({ code: fail, details: 'refused by the test collector' });
      else callback(null, {});
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    metadata,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

const hex = (b: Buffer | undefined) => (b === undefined ? undefined : Buffer.from(b).toString('hex'));

/** An AnyValue decoded by proto-loader (oneofs: true) as a plain JS value. */
function anyValue(v: Decoded): unknown {
  switch (v.value) {
    case 'stringValue': return v.stringValue;
    case 'boolValue': return v.boolValue;
    case 'intValue': return { int: v.intValue };
    case 'doubleValue': return v.doubleValue;
    case 'arrayValue': return (v.arrayValue.values ?? []).map(anyValue);
    default: throw new Error(`unexpected AnyValue ${JSON.stringify(v)}`);
  }
}
const attrs = (kvs: Decoded[] | undefined) => Object.fromEntries((kvs ?? []).map((kv: Decoded) => [kv.key, anyValue(kv.value)]));

/** Epoch milliseconds (with fraction) to unix nanoseconds, computed apart from the package's own code. */
function nanos(ms: number): bigint {
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
}

describe('fromOpenTelemetryExporter', () => {
  captureStderr();
  const closers: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  function tracerWith(exporter: ReturnType<typeof fromOpenTelemetryExporter>, extra: Parameters<typeof createTracer>[0] = {}) {
    const memory = new InMemoryExporter();
    const tracer = createTracer({
      serviceName: 'checkout',
      serviceVersion: '3.1.0',
      exporters: [exporter, memory],
      batch: { scheduledDelayMillis: 5 },
      ...extra,
    });
    closers.push(() => tracer.shutdown());
    return { tracer, memory };
  }

  async function expressTrace(tracer: Tracer, memory: InMemoryExporter): Promise<FinishedTrace> {
    const downstream = await listen(http.createServer((_req, res) => res.writeHead(200).end('ok')));
    closers.push(() => downstream.close());
    const app = express();
    app.use(tracingMiddleware({ tracer }));
    app.post('/pay/:id', async (_req, res) => {
      await withSpan('authorize', async (span) => {
        span.setAttributes({ 'pay.amount': 1999, 'pay.rate': 0.25, 'pay.card': 'visa', 'pay.3ds': true, 'pay.steps': ['risk', 'bank'], 'pay.codes': [7, 9], 'pay.checks': [true, false] });
        span.addEvent('risk.scored', { score: 12, model: 'r2' });
        span.addLink({ context: { traceId: LINKED_TRACE, spanId: LINKED_SPAN, traceFlags: 1 }, attributes: { why: 'batch' } });
        await (await tracedFetch(`${downstream.url}/bank`)).text();
        span.setStatus({ code: 'ok' });
      });
      res.status(500).send('declined');
    });
    const server: Listening = await listen(http.createServer(app));
    closers.push(() => server.close());
    const res = await request(`${server.url}/pay/1`, {
      method: 'POST',
      headers: { traceparent: `00-${INCOMING_TRACE}-${INCOMING_PARENT}-01`, tracestate: 'vendor=abc,other=1' },
    });
    expect(res.status).toBe(500);
    const [trace] = await memory.waitFor(1);
    await tracer.forceFlush();
    return trace;
  }

  it('sends an Express trace through @opentelemetry/exporter-trace-otlp-grpc to a gRPC collector, every field intact', async () => {
    const collector = await grpcCollector();
    closers.push(() => collector.close());
    const metadata = new grpc.Metadata();
    metadata.set('x-team', 'pay');
    const otel = new OTLPTraceExporter({ url: collector.url, metadata });
    const exporter = fromOpenTelemetryExporter(otel);
    expect(exporter.name).toBe('opentelemetry:OTLPTraceExporter');
    const { tracer, memory } = tracerWith(exporter);
    const trace = await expressTrace(tracer, memory);
    expect(collector.requests).toHaveLength(1);
    expect(collector.metadata[0].get('x-team')).toEqual(['pay']);
    const resourceSpans = collector.requests[0].resourceSpans;
    expect(resourceSpans).toHaveLength(1);
    const resource = attrs(resourceSpans[0].resource.attributes);
    expect(resource['service.name']).toBe('checkout');
    expect(resource['service.version']).toBe('3.1.0');
    expect(resource['telemetry.sdk.name']).toBe(trace.resource['telemetry.sdk.name']);
    expect(resourceSpans[0].scopeSpans).toHaveLength(1);
    expect(resourceSpans[0].scopeSpans[0].scope).toMatchObject({ name: '@tracewire/core', version: SDK_VERSION });

    const spans: Decoded[] = resourceSpans[0].scopeSpans[0].spans;
    expect(spans).toHaveLength(trace.spans.length);
    expect(spans).toHaveLength(3);
    const got = (name: string) => spans.find((s: Decoded) => s.name === name);
    const want = (name: string) => trace.spans.find((s) => s.name === name)!;
    const root = got('POST /pay/:id');
    const auth = got('authorize');
    const client = got('GET');

    // ids and parent
    for (const s of spans) expect(hex(s.traceId)).toBe(INCOMING_TRACE);
    expect(hex(root.spanId)).toBe(trace.rootSpanId);
    expect(hex(root.parentSpanId)).toBe(INCOMING_PARENT);
    expect(hex(auth.parentSpanId)).toBe(trace.rootSpanId);
    expect(hex(client.parentSpanId)).toBe(hex(auth.spanId));

    // kind (proto enum: INTERNAL 1, SERVER 2, CLIENT 3)
    expect(root.kind).toBe(2);
    expect(auth.kind).toBe(1);
    expect(client.kind).toBe(3);

    // times in unix nanoseconds, the sub-millisecond part kept
    for (const s of spans) {
      const span = want(s.name);
      expect(BigInt(s.startTimeUnixNano)).toBe(nanos(span.startTime));
      expect(BigInt(s.endTimeUnixNano)).toBe(nanos(span.endTime));
    }
    expect(trace.spans.some((s) => nanos(s.startTime) % 1_000_000n !== 0n)).toBe(true);

    // attributes of every type; ints as ints
    expect(attrs(auth.attributes)).toEqual({
      'pay.amount': { int: '1999' },
      'pay.rate': 0.25,
      'pay.card': 'visa',
      'pay.3ds': true,
      'pay.steps': ['risk', 'bank'],
      'pay.codes': [{ int: '7' }, { int: '9' }],
      'pay.checks': [true, false],
    });
    expect(attrs(root.attributes)['http.response.status_code']).toEqual({ int: '500' });
    expect(attrs(root.attributes)['http.route']).toBe('/pay/:id');
    expect(attrs(client.attributes)['server.port']).toEqual({ int: String(new URL(String(want('GET').attributes['url.full'])).port) });

    // events
    expect(auth.events).toHaveLength(1);
    expect(auth.events[0].name).toBe('risk.scored');
    expect(attrs(auth.events[0].attributes)).toEqual({ score: { int: '12' }, model: 'r2' });
    expect(BigInt(auth.events[0].timeUnixNano)).toBe(nanos(want('authorize').events[0].time));

    // links
    expect(auth.links).toHaveLength(1);
    expect(hex(auth.links[0].traceId)).toBe(LINKED_TRACE);
    expect(hex(auth.links[0].spanId)).toBe(LINKED_SPAN);
    expect(attrs(auth.links[0].attributes)).toEqual({ why: 'batch' });

    // status (proto: OK 1, ERROR 2; UNSET 0 is the default and absent on the wire)
    expect(root.status.code).toBe(2);
    expect(auth.status.code).toBe(1);
    expect(client.status?.code ?? 0).toBe(0);

    // trace state, and flags: W3C flags in the low byte, 0x100 remote-ness known, 0x200 remote parent
    for (const s of spans) expect(s.traceState).toBe('vendor=abc,other=1');
    expect(root.flags).toBe(0x301);
    expect(auth.flags).toBe(0x101);
    expect(client.flags).toBe(0x101);

    // dropped counts (none here; the SDK sends zeros, absent on the wire with defaults off)
    for (const s of spans) {
      expect(s.droppedAttributesCount ?? 0).toBe(0);
      expect(s.droppedEventsCount ?? 0).toBe(0);
      expect(s.droppedLinksCount ?? 0).toBe(0);
    }
    expect(tracer.stats().exporters['opentelemetry:OTLPTraceExporter']).toMatchObject({ exported: 1, failed: 0 });
  });

  it('counts a batch the gRPC collector refuses as failed in tracer.stats()', async () => {
    const collector = await grpcCollector(grpc.status.INVALID_ARGUMENT);
    closers.push(() => collector.close());
    const exporter = fromOpenTelemetryExporter(new OTLPTraceExporter({ url: collector.url }), { name: 'otlp-grpc' });
    const { tracer } = tracerWith(exporter);
    tracer.startSpan('refused', { parent: null }).end();
    await tracer.forceFlush();
    expect(collector.requests).toHaveLength(1);
    expect(tracer.stats().exporters['otlp-grpc']).toMatchObject({ exported: 0, failed: 1 });
    expect(tracer.stats().exportErrors).toBe(1);
  });

  it('counts FAILED results and throwing exporters; SUCCESS counts as exported', async () => {
    const failing: OtelSpanExporter = {
      export: (_spans, cb) => setImmediate(() => cb({ code: ExportResultCode.FAILED, error: new Error('quota exceeded') })),
      shutdown: async () => undefined,
    };
    const throwing: OtelSpanExporter = {
      export: () => {
        throw new Error('boom');
      },
      shutdown: async () => undefined,
    };
    const fine = new InMemorySpanExporter();
    const tracer = createTracer({
      serviceName: 'svc',
      exporters: [fromOpenTelemetryExporter(failing, { name: 'failing' }), fromOpenTelemetryExporter(throwing, { name: 'throwing' }), fromOpenTelemetryExporter(fine)],
      batch: { scheduledDelayMillis: 1 },
    });
    closers.push(() => tracer.shutdown());
    tracer.startSpan('one', { parent: null }).end();
    tracer.startSpan('two', { parent: null }).end();
    await tracer.forceFlush();
    const stats = tracer.stats();
    expect(stats.exporters.failing.failed).toBe(2);
    expect(stats.exporters.failing.exported).toBe(0);
    expect(stats.exporters.throwing.failed).toBe(2);
    expect(stats.exporters['opentelemetry:InMemorySpanExporter']).toMatchObject({ exported: 2, failed: 0 });
    expect(stats.exportErrors).toBe(4);
    expect(fine.getFinishedSpans().map((s) => s.name).sort()).toEqual(['one', 'two']);
  });

  it('forwards forceFlush and shutdown to the wrapped exporter', async () => {
    const calls: string[] = [];
    const target: OtelSpanExporter = {
      export: (_s, cb) => cb({ code: 0 }),
      forceFlush: async () => void calls.push('flush'),
      shutdown: async () => void calls.push('shutdown'),
    };
    const tracer = createTracer({ exporters: [fromOpenTelemetryExporter(target)], batch: { scheduledDelayMillis: 1 } });
    await tracer.forceFlush();
    await tracer.shutdown();
    expect(calls).toEqual(['flush', 'flush', 'shutdown']);
  });

  it('rejects what is not a SpanExporter with a TypeError', () => {
    expect(() => fromOpenTelemetryExporter({} as OtelSpanExporter)).toThrow(/"spanExporter"/);
    expect(() => fromOpenTelemetryExporter(null as unknown as OtelSpanExporter)).toThrow(TypeError);
    expect(() => fromOpenTelemetryExporter(new InMemorySpanExporter(), { name: '' })).toThrow(/"name"/);
  });
});

describe('ReadableSpan objects', () => {
  /** Exports `traces` through the wrapper into an exporter that keeps what it is given. */
  async function handed(traces: FinishedTrace[]): Promise<OtelReadableSpan[]> {
    const got: OtelReadableSpan[] = [];
    const exporter = fromOpenTelemetryExporter({ export: (spans, cb) => (got.push(...spans), cb({ code: 0 })), shutdown: async () => undefined });
    await exporter.export(traces);
    return got;
  }

  const child = makeSpan({
    spanId: '1111111111111111',
    parentSpanId: '00f067aa0ba902b7',
    name: 'child',
    kind: 'client',
    startTime: T0 + 0.125,
    endTime: T0 + 1500.5,
    status: { code: 'error', message: 'upstream 503' },
    attributes: { n: 1 },
    events: [{ name: 'retry', time: T0 + 2.25, attributes: { attempt: 2 } }],
    links: [{ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), attributes: {} }],
    traceState: 'k1=v1,k2=v2',
    dropped: { attributes: 1, events: 2, links: 3 },
  });

  it('have the ReadableSpan fields of sdk-trace-base 2.x and the 1.x names, HrTime keeping sub-milliseconds', async () => {
    const root = makeSpan({ parentSpanId: 'cccccccccccccccc', parentIsRemote: true } as Partial<SpanData>);
    const [r, c] = await handed([makeTrace([root, child], { resource: { 'service.name': 'svc' } })]);
    expect(c.name).toBe('child');
    expect(c.kind).toBe(2);
    expect(c.spanContext()).toMatchObject({ traceId: child.traceId, spanId: '1111111111111111', traceFlags: 1, isRemote: false });
    expect(c.parentSpanContext).toMatchObject({ spanId: '00f067aa0ba902b7', isRemote: false });
    expect(c.parentSpanId).toBe('00f067aa0ba902b7');
    expect(r.parentSpanContext).toMatchObject({ spanId: 'cccccccccccccccc', isRemote: true });
    expect(c.startTime).toEqual([T0 / 1000, 125_000]);
    expect(c.endTime).toEqual([T0 / 1000 + 1, 500_500_000]);
    expect(c.duration).toEqual([1, 500_375_000]);
    expect(c.status).toEqual({ code: 2, message: 'upstream 503' });
    expect(c.events).toEqual([{ name: 'retry', time: [T0 / 1000, 2_250_000], attributes: { attempt: 2 }, droppedAttributesCount: 0 }]);
    expect(c.links[0]).toMatchObject({ context: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 0 }, attributes: {} });
    expect(c.ended).toBe(true);
    expect([c.droppedAttributesCount, c.droppedEventsCount, c.droppedLinksCount]).toEqual([1, 2, 3]);
    expect(c.instrumentationScope).toEqual({ name: '@tracewire/core', version: SDK_VERSION });
    expect(c.instrumentationLibrary).toEqual(c.instrumentationScope);
    // the trace state is the API's TraceState
    const ts = c.spanContext().traceState!;
    expect(ts.serialize()).toBe('k1=v1,k2=v2');
    expect(ts.get('k2')).toBe('v2');
    expect(ts.set('k2', 'x').serialize()).toBe('k2=x,k1=v1');
    expect(ts.unset('k1').serialize()).toBe('k2=v2');
    // the resource as exporters use it; one object for the spans of one resource
    expect(c.resource).toBe(r.resource);
    expect(c.resource.attributes).toEqual({ 'service.name': 'svc' });
    expect(c.resource.asyncAttributesPending).toBe(false);
    await expect(c.resource.waitForAsyncAttributes()).resolves.toBeUndefined();
    expect(c.resource.merge({ attributes: { 'service.name': 'other', a: 1 } } as never).attributes).toEqual({ 'service.name': 'other', a: 1 });
    expect(c.resource.getRawAttributes()).toEqual([['service.name', 'svc']]);
  });

  it('carry the marks of spans exported open and of late fragments', async () => {
    const [open] = await handed([makeTrace([makeSpan({ ended: false })])]);
    expect(open.ended).toBe(false);
    expect(open.attributes['tracewire.span.incomplete']).toBe(true);
    const [late] = await handed([makeTrace([makeSpan()], { fragment: 1 })]);
    expect(late.attributes['tracewire.trace.fragment']).toBe(1);
  });

  it('serialise with @opentelemetry/otlp-transformer into one ResourceSpans per resource', async () => {
    const t1 = makeTrace([makeSpan(), child], { resource: { 'service.name': 'svc' } });
    const t2 = makeTrace([makeSpan({ traceId: 'd'.repeat(32) })], { traceId: 'd'.repeat(32), resource: { 'service.name': 'svc' } });
    const t3 = makeTrace([makeSpan()], { resource: { 'service.name': 'other' } });
    const spans = await handed([t1, t2, t3]);
    const body = JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest(spans as never)!).toString('utf8'));
    expect(body.resourceSpans).toHaveLength(2);
    expect(body.resourceSpans[0].scopeSpans[0].spans).toHaveLength(3);
    expect(body.resourceSpans[0].scopeSpans[0].scope).toEqual({ name: '@tracewire/core', version: SDK_VERSION });
    const c = body.resourceSpans[0].scopeSpans[0].spans[1];
    expect(c).toMatchObject({
      traceId: child.traceId,
      spanId: '1111111111111111',
      parentSpanId: '00f067aa0ba902b7',
      traceState: 'k1=v1,k2=v2',
      kind: 3,
      startTimeUnixNano: String(nanos(T0 + 0.125)),
      endTimeUnixNano: String(nanos(T0 + 1500.5)),
      droppedAttributesCount: 1,
      droppedEventsCount: 2,
      droppedLinksCount: 3,
      status: { code: 2, message: 'upstream 503' },
      flags: 0x101,
    });
  });
});
