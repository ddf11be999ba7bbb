/**
 * The OpenTelemetry API span contract through the bridge, driven through `@opentelemetry/api`
 * itself (the global trace/context/propagation APIs a library calls), asserting on what Tracewire
 * exports.
 */
import http from 'node:http';
import { EventEmitter } from 'node:events';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, context, createContextKey, propagation, trace } from '@opentelemetry/api';
import type { Span as OtelSpan } from '@opentelemetry/api';
import { isTracingSuppressed as otelIsSuppressed, suppressTracing as otelSuppressTracing } from '@opentelemetry/core';
import { activeSpan, getBaggage, getTracer, injectContext, setGlobalTracer, suppressTracing, tracedFetch, withBaggage, withSpan } from '@tracewire/core';
import type { SpanData, Tracer } from '@tracewire/core';
import { registerOpenTelemetry } from '../src';
import { captureStderr, memoryTracer } from '../../core/test/helpers';
import { eventually, listen } from '../../../test-utils/http';

const REMOTE_TRACE = '0af7651916cd43dd8448eb211c80319c';
const REMOTE_SPAN = 'b7ad6b7169203331';

captureStderr();

let tracer: Tracer;
let exporter: ReturnType<typeof memoryTracer>['exporter'];
let unregister: () => void;
const previous = getTracer();

beforeAll(() => {
  ({ tracer, exporter } = memoryTracer({ limits: { lingerMs: 50 } }));
  setGlobalTracer(tracer);
  unregister = registerOpenTelemetry();
});
afterAll(async () => {
  unregister();
  setGlobalTracer(previous);
  await tracer.shutdown();
});
afterEach(async () => {
  await tracer.forceFlush();
  exporter.reset();
});

// trace.getTracer() of the API drops the options; its provider's getTracer passes them on.
const otel = () => trace.getTracerProvider().getTracer('test-lib', '1.2.3', { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' });

/** The exported spans of the trace `traceId`, once `count` of them have arrived. */
async function spansOf(traceId: string, count: number): Promise<SpanData[]> {
  return eventually(() => {
    const spans = exporter.spans().filter((s) => s.traceId === traceId);
    return spans.length >= count ? spans : undefined;
  });
}
const byName = (spans: SpanData[], name: string) => spans.find((s) => s.name === name)!;

/** A local server recording the headers of each request. */
async function headerServer() {
  const seen: http.IncomingHttpHeaders[] = [];
  const l = await listen(http.createServer((req, res) => (seen.push(req.headers), res.end('ok'))));
  return { ...l, seen };
}

describe('registration', () => {
  it('makes the bridge the global provider, context manager and propagator', () => {
    expect(trace.getTracerProvider().constructor.name).toBe('ProxyTracerProvider');
    expect((trace.getTracerProvider() as unknown as { getDelegate(): object }).getDelegate().constructor.name).toBe('TracewireTracerProvider');
    expect(propagation.fields()).toEqual(expect.arrayContaining(['traceparent', 'tracestate', 'baggage']));
  });
});

describe('one context, both ways', () => {
  it('inside a Tracewire span, trace.getActiveSpan() is that span, the same ids', () => {
    withSpan('tracewire', (span) => {
      const active = trace.getActiveSpan();
      expect(active).toBeDefined();
      expect(active!.spanContext()).toEqual({ traceId: span.spanContext().traceId, spanId: span.spanContext().spanId, traceFlags: span.spanContext().traceFlags, isRemote: false });
      expect(active!.isRecording()).toBe(true);
      expect(trace.getActiveSpan()).toBe(active);
    });
    expect(trace.getActiveSpan()).toBeUndefined();
    expect(context.active()).toBe(ROOT_CONTEXT);
  });

  it('setting attributes on the active span from OpenTelemetry code lands on the Tracewire span', async () => {
    let traceId = '';
    withSpan('tracewire', (span) => {
      traceId = span.spanContext().traceId;
      trace.getActiveSpan()!.setAttribute('from.otel', 'yes').addEvent('otel-event', { n: 1 });
    });
    const [span] = await spansOf(traceId, 1);
    expect(span.attributes['from.otel']).toBe('yes');
    expect(span.events.map((e) => e.name)).toEqual(['otel-event']);
  });

  it('nested startActiveSpan across await, timers and a tracedFetch call: each the child of the one before', async () => {
    const server = await headerServer();
    let traceId = '';
    try {
      await withSpan('server-like root', async (root) => {
        traceId = root.spanContext().traceId;
        await otel().startActiveSpan('outer', async (outer: OtelSpan) => {
          expect(activeSpan()!.spanContext().spanId).toBe(outer.spanContext().spanId);
          await new Promise((r) => setTimeout(r, 2));
          await otel().startActiveSpan('inner', async (inner: OtelSpan) => {
            await new Promise((r) => setImmediate(r));
            expect(trace.getActiveSpan()).toBe(inner);
            // Tracewire's own spans and calls take the OpenTelemetry span as their parent.
            await withSpan('tracewire child', async () => {
              const res = await tracedFetch(`${server.url}/call`);
              await res.text();
            });
            inner.end();
          });
          await new Promise((r) => setTimeout(r, 1));
          expect(trace.getActiveSpan()).toBe(outer);
          outer.end();
        });
      });
      const spans = await spansOf(traceId, 5);
      const root = byName(spans, 'server-like root');
      const outer = byName(spans, 'outer');
      const inner = byName(spans, 'inner');
      const twChild = byName(spans, 'tracewire child');
      const client = spans.find((s) => s.kind === 'client')!;
      expect(outer.parentSpanId).toBe(root.spanId);
      expect(inner.parentSpanId).toBe(outer.spanId);
      expect(twChild.parentSpanId).toBe(inner.spanId);
      expect(client.parentSpanId).toBe(twChild.spanId);
      expect(server.seen[0].traceparent).toBe(`00-${traceId}-${client.spanId}-03`);
      expect(outer.instrumentationScope).toEqual({ name: 'test-lib', version: '1.2.3', schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' });
      expect(root.instrumentationScope).toBeUndefined();
      expect(spans).toHaveLength(5);
    } finally {
      await server.close();
    }
  });

  it('context.with() of an OpenTelemetry context: Tracewire sees its span, and its other keys survive a Tracewire span inside', () => {
    const KEY = createContextKey('test key');
    const parent = otel().startSpan('parent');
    const ctx = trace.setSpan(ROOT_CONTEXT, parent).setValue(KEY, 'kept');
    context.with(ctx, () => {
      expect(activeSpan()!.spanContext().spanId).toBe(parent.spanContext().spanId);
      withSpan('tracewire', (tw) => {
        const active = context.active();
        expect(active.getValue(KEY)).toBe('kept');
        expect(trace.getSpan(active)!.spanContext().spanId).toBe(tw.spanContext().spanId);
      });
      expect(context.active()).toBe(ctx);
    });
    parent.end();
  });

  it('suppressTracing of OpenTelemetry (@opentelemetry/core) reaches Tracewire: no span, no header', async () => {
    const server = await headerServer();
    try {
      await withSpan('root', async () => {
        await context.with(otelSuppressTracing(context.active()), async () => {
          expect(withSpan('suppressed', (s) => s.isRecording())).toBe(false);
          expect(otel().startSpan('suppressed too').isRecording()).toBe(false);
          const res = await tracedFetch(`${server.url}/x`);
          await res.text();
        });
      });
      expect(server.seen[0].traceparent).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it('suppressTracing of Tracewire reaches OpenTelemetry: isTracingSuppressed(context.active()), non-recording spans, no injection', () => {
    suppressTracing(() => {
      expect(otelIsSuppressed(context.active())).toBe(true);
      const span = otel().startSpan('x');
      expect(span.isRecording()).toBe(false);
      const carrier: Record<string, string> = {};
      propagation.inject(context.active(), carrier);
      expect(carrier).toEqual({});
    });
  });
});

describe('the span contract', () => {
  it('startSpan: attributes, events (attributes, HrTime, Date), links, status, updateName, kinds, times, recordException', async () => {
    const t0 = Date.now() - 1000;
    const link = { context: { traceId: REMOTE_TRACE, spanId: REMOTE_SPAN, traceFlags: TraceFlags.SAMPLED, isRemote: true }, attributes: { 'link.kind': 'batch' } };
    const span = otel().startSpan('op', { kind: SpanKind.PRODUCER, attributes: { a: 1, b: 'two', list: ['x', 'y'], skip: undefined }, links: [link], startTime: t0, root: true });
    span.setAttribute('c', true).setAttributes({ d: [1, 2] });
    span.addEvent('plain');
    span.addEvent('with attributes', { k: 'v' });
    span.addEvent('hrtime', [Math.floor((t0 + 10) / 1000), ((t0 + 10) % 1000) * 1e6]);
    span.addEvent('date', new Date(t0 + 20));
    span.addEvent('attrs and time', { k: 2 }, t0 + 30);
    span.addLink({ context: { traceId: REMOTE_TRACE, spanId: '00f067aa0ba902b7', traceFlags: 1 } });
    span.addLinks([{ context: { traceId: REMOTE_TRACE, spanId: '00f067aa0ba902b8', traceFlags: 1 } }]);
    span.recordException(new TypeError('bad input'), t0 + 40);
    span.recordException({ name: 'AI_APICallError', message: 'rate limited' });
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'failed' });
    span.updateName('op renamed');
    span.end([Math.floor((t0 + 50) / 1000), ((t0 + 50) % 1000) * 1e6]);
    expect(span.isRecording()).toBe(false);

    const [s] = await spansOf(span.spanContext().traceId, 1);
    expect(s.name).toBe('op renamed');
    expect(s.kind).toBe('producer');
    expect(s.parentSpanId).toBeUndefined();
    expect(s.startTime).toBe(t0);
    expect(s.endTime).toBeCloseTo(t0 + 50, 3);
    expect(s.attributes).toEqual({ a: 1, b: 'two', list: ['x', 'y'], c: true, d: [1, 2] });
    expect(s.events.map((e) => e.name)).toEqual(['plain', 'with attributes', 'hrtime', 'date', 'attrs and time', 'exception', 'exception']);
    expect(s.events[1].attributes).toEqual({ k: 'v' });
    expect(s.events[2].time).toBeCloseTo(t0 + 10, 3);
    expect(s.events[3].time).toBe(t0 + 20);
    expect(s.events[4]).toMatchObject({ time: t0 + 30, attributes: { k: 2 } });
    expect(s.events[5]).toMatchObject({ time: t0 + 40, attributes: { 'exception.type': 'TypeError', 'exception.message': 'bad input' } });
    expect(s.events[6].attributes).toMatchObject({ 'exception.type': 'AI_APICallError', 'exception.message': 'rate limited' });
    expect(s.links).toEqual([
      { traceId: REMOTE_TRACE, spanId: REMOTE_SPAN, attributes: { 'link.kind': 'batch' } },
      { traceId: REMOTE_TRACE, spanId: '00f067aa0ba902b7', attributes: {} },
      { traceId: REMOTE_TRACE, spanId: '00f067aa0ba902b8', attributes: {} },
    ]);
    expect(s.status).toEqual({ code: 'error', message: 'failed' });
    expect(s.instrumentationScope).toEqual({ name: 'test-lib', version: '1.2.3', schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' });
  });

  it('maps every SpanKind, and OK is final over a later ERROR', async () => {
    const root = otel().startSpan('root', { root: true });
    const ctx = trace.setSpan(ROOT_CONTEXT, root);
    const kinds = [SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER];
    for (const kind of kinds) otel().startSpan(`k${kind}`, { kind }, ctx).end();
    root.setStatus({ code: SpanStatusCode.OK });
    root.setStatus({ code: SpanStatusCode.ERROR, message: 'late' });
    root.end();
    const spans = await spansOf(root.spanContext().traceId, 6);
    expect(kinds.map((k) => byName(spans, `k${k}`).kind)).toEqual(['internal', 'server', 'client', 'producer', 'consumer']);
    expect(byName(spans, 'root').status).toEqual({ code: 'ok' });
  });

  it('startActiveSpan: the three overloads, the return value, explicit context and root', async () => {
    const parent = otel().startSpan('explicit parent', { root: true });
    const parentCtx = trace.setSpan(ROOT_CONTEXT, parent);
    const results: unknown[] = [];
    await withSpan('active tracewire', async () => {
      results.push(otel().startActiveSpan('two args', (s: OtelSpan) => (s.end(), 'r2')));
      results.push(otel().startActiveSpan('three args', { kind: SpanKind.CLIENT }, (s: OtelSpan) => (s.end(), 'r3')));
      results.push(
        await otel().startActiveSpan('four args', {}, parentCtx, async (s: OtelSpan) => {
          expect(activeSpan()!.spanContext().spanId).toBe(s.spanContext().spanId);
          s.end();
          return 'r4';
        }),
      );
      results.push(otel().startActiveSpan('new root', { root: true }, (s: OtelSpan) => (s.end(), s.spanContext().traceId)));
    });
    parent.end();
    expect(results.slice(0, 3)).toEqual(['r2', 'r3', 'r4']);
    const tw = await eventually(() => exporter.spans().find((s) => s.name === 'active tracewire'));
    const spans = await spansOf(tw.traceId, 3);
    expect(byName(spans, 'two args').parentSpanId).toBe(tw.spanId);
    expect(byName(spans, 'three args')).toMatchObject({ parentSpanId: tw.spanId, kind: 'client' });
    const fourth = await spansOf(parent.spanContext().traceId, 2);
    expect(byName(fourth, 'four args').parentSpanId).toBe(parent.spanContext().spanId);
    expect(results[3]).not.toBe(tw.traceId);
    const [newRoot] = await spansOf(results[3] as string, 1);
    expect(newRoot.parentSpanId).toBeUndefined();
  });

  it('a remote parent (trace.wrapSpanContext) starts a local root continuing that trace, marked remote', async () => {
    const remote = trace.wrapSpanContext({ traceId: REMOTE_TRACE, spanId: REMOTE_SPAN, traceFlags: TraceFlags.SAMPLED, isRemote: true });
    const span = otel().startSpan('consumer', { kind: SpanKind.CONSUMER }, trace.setSpan(ROOT_CONTEXT, remote));
    // Tracewire code under the remote context continues it too.
    context.with(trace.setSpan(context.active(), remote), () => withSpan('tracewire under remote', () => undefined));
    span.end();
    const spans = await spansOf(REMOTE_TRACE, 2);
    expect(byName(spans, 'consumer')).toMatchObject({ parentSpanId: REMOTE_SPAN, parentIsRemote: true, kind: 'consumer' });
    expect(byName(spans, 'tracewire under remote')).toMatchObject({ parentSpanId: REMOTE_SPAN, parentIsRemote: true });
  });

  it('unsampled: isRecording() is false, and the span still propagates its context', async () => {
    const { tracer: off, exporter: offExporter } = memoryTracer({ sampler: 0 });
    const unregisterOff = (() => {
      unregister();
      return registerOpenTelemetry({ tracer: off });
    })();
    try {
      const span = otel().startSpan('unsampled');
      expect(span.isRecording()).toBe(false);
      const ctx = span.spanContext();
      expect(ctx.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(ctx.traceFlags & TraceFlags.SAMPLED).toBe(0);
      const carrier: Record<string, string> = {};
      propagation.inject(trace.setSpan(ROOT_CONTEXT, span), carrier);
      expect(carrier.traceparent).toBe(`00-${ctx.traceId}-${ctx.spanId}-02`);
      context.with(trace.setSpan(ROOT_CONTEXT, span), () => {
        const headers: Record<string, string> = {};
        injectContext(headers);
        expect(headers.traceparent).toBe(`00-${ctx.traceId}-${ctx.spanId}-02`);
        expect(otel().startSpan('child').spanContext().traceId).toBe(ctx.traceId);
      });
      span.end();
      await off.forceFlush();
      expect(offExporter.spans()).toHaveLength(0);
    } finally {
      unregisterOff();
      unregister = registerOpenTelemetry();
      await off.shutdown();
    }
  });

  it('options.tracer starts new traces; a span under another tracer\'s span joins that trace', async () => {
    const { tracer: other, exporter: otherExporter } = memoryTracer();
    unregister();
    const unregisterOther = registerOpenTelemetry({ tracer: other });
    try {
      otel().startSpan('new trace').end();
      const [t] = await otherExporter.waitFor(1);
      expect(t.spans.map((s) => s.name)).toEqual(['new trace']);
      let traceId = '';
      withSpan('global root', (root) => {
        traceId = root.spanContext().traceId;
        otel().startSpan('under global').end();
      });
      const spans = await spansOf(traceId, 2);
      expect(byName(spans, 'under global').parentSpanId).toBe(byName(spans, 'global root').spanId);
    } finally {
      unregisterOther();
      unregister = registerOpenTelemetry();
      await other.shutdown();
    }
  });
});

describe('propagator', () => {
  it('inject writes the span of the given context and its baggage; extract reads them back', () => {
    const remote = { traceId: REMOTE_TRACE, spanId: REMOTE_SPAN, traceFlags: TraceFlags.SAMPLED, isRemote: true };
    const baggage = propagation.createBaggage({ tenant: { value: 'acme corp' }, plan: { value: 'pro' } });
    const ctx = propagation.setBaggage(trace.setSpanContext(ROOT_CONTEXT, remote), baggage);
    const carrier: Record<string, string> = {};
    propagation.inject(ctx, carrier);
    expect(carrier.traceparent).toBe(`00-${REMOTE_TRACE}-${REMOTE_SPAN}-01`);
    expect(carrier.baggage).toBe('tenant=acme%20corp,plan=pro');

    const back = propagation.extract(ROOT_CONTEXT, { traceparent: carrier.traceparent, tracestate: 'vendor=1', baggage: carrier.baggage });
    expect(trace.getSpanContext(back)).toMatchObject({ traceId: REMOTE_TRACE, spanId: REMOTE_SPAN, traceFlags: 1, isRemote: true });
    expect(trace.getSpanContext(back)!.traceState!.get('vendor')).toBe('1');
    expect(propagation.getBaggage(back)!.getEntry('tenant')!.value).toBe('acme corp');
  });

  it('inject of the active context inside a Tracewire span writes that span and the Tracewire baggage', () => {
    withBaggage({ user: 'u1' }, () =>
      withSpan('tw', (span) => {
        const carrier: Record<string, string> = {};
        propagation.inject(context.active(), carrier);
        expect(carrier).toEqual({ traceparent: `00-${span.spanContext().traceId}-${span.spanContext().spanId}-03`, baggage: 'user=u1' });
        expect(propagation.getBaggage(context.active())!.getEntry('user')!.value).toBe('u1');
      }),
    );
  });

  it('OpenTelemetry baggage set with context.with reaches getBaggage() and tracedFetch', async () => {
    const server = await headerServer();
    try {
      const ctx = propagation.setBaggage(context.active(), propagation.createBaggage({ session: { value: 's-42' } }));
      await context.with(ctx, async () => {
        expect(getBaggage().get('session')).toEqual({ value: 's-42' });
        await withSpan('tw', async () => (await tracedFetch(`${server.url}/`)).text());
      });
      expect(server.seen[0].baggage).toBe('session=s-42');
    } finally {
      await server.close();
    }
  });

  it('an extracted context as parent: the span continues the caller, marked remote', async () => {
    const ctx = propagation.extract(ROOT_CONTEXT, { traceparent: `00-${REMOTE_TRACE}-${REMOTE_SPAN}-01` });
    otel().startSpan('from extract', { kind: SpanKind.SERVER }, ctx).end();
    const [s] = await spansOf(REMOTE_TRACE, 1);
    expect(s).toMatchObject({ name: 'from extract', parentSpanId: REMOTE_SPAN, parentIsRemote: true, kind: 'server' });
  });
});

describe('ContextManager.bind', () => {
  it('binds a function and an EventEmitter\'s listeners to a context', async () => {
    const span = otel().startSpan('bound');
    const ctx = trace.setSpan(ROOT_CONTEXT, span);
    const fn = context.bind(ctx, function (this: unknown, a: number, b: number) {
      return { span: trace.getActiveSpan(), tw: activeSpan()?.spanContext().spanId, sum: a + b, self: this };
    });
    expect(fn.length).toBe(2);
    const self = {};
    expect(fn.call(self, 1, 2)).toEqual({ span, tw: span.spanContext().spanId, sum: 3, self });

    const ee = context.bind(ctx, new EventEmitter());
    const seen: unknown[] = [];
    const listener = () => seen.push(trace.getActiveSpan());
    ee.on('x', listener);
    ee.emit('x');
    ee.removeListener('x', listener);
    ee.emit('x');
    expect(seen).toEqual([span]);
    ee.once('y', listener);
    ee.removeAllListeners('y');
    ee.emit('y');
    expect(seen).toHaveLength(1);
    span.end();
  });
});

describe('after unregistering', () => {
  it('tracers handed out before start no-op spans that keep the parent context, and the API is back to no-op', () => {
    const early = otel();
    unregister();
    try {
      expect(early.startSpan('late').isRecording()).toBe(false);
      withSpan('tw', () => {
        expect(trace.getActiveSpan()).toBeUndefined();
      });
      const parentCtx = trace.setSpanContext(ROOT_CONTEXT, { traceId: REMOTE_TRACE, spanId: REMOTE_SPAN, traceFlags: 1 });
      expect(early.startSpan('child', {}, parentCtx).spanContext().spanId).toBe(REMOTE_SPAN);
    } finally {
      unregister = registerOpenTelemetry();
    }
  });
});

describe('a Tracewire tracer of its own per app (createTracer), spans of libraries join the request', () => {
  it('follows the owner of the active span', async () => {
    const { tracer: appTracer, exporter: appExporter } = memoryTracer();
    appTracer.withSpan('request', () => otel().startSpan('lib span').end());
    const [t] = await appExporter.waitFor(1);
    expect(t.spans.map((s) => s.name).sort()).toEqual(['lib span', 'request']);
    await appTracer.shutdown();
  });
});
