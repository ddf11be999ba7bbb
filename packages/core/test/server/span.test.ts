import { activeSpan, createServerSpans, getBaggage, formatTraceparent } from '../../src';
import type { Attributes, CarrierGetter, ServerCarrier, Tracer } from '../../src';
import { captureStderr, memoryTracer } from '../helpers';

const stderr = captureStderr();

/** Metadata as a non-HTTP transport has it: a Map with its own getter (what gRPC passes). */
const mapGetter: CarrierGetter<unknown> = {
  get: (carrier, key) => (carrier as Map<string, string>).get(key),
};

function carrier(headers: Map<string, string>, attributes: Attributes = { 'rpc.system.name': 'test', 'rpc.method': 'pkg.Echo/Say' }): ServerCarrier & { asked: number } {
  const c = {
    name: 'pkg.Echo/Say',
    headers,
    getter: mapGetter,
    asked: 0,
    attributes(_tracer: Tracer) {
      c.asked++;
      return { ...attributes };
    },
  };
  return c;
}

const PARENT = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 };

describe('createServerSpans', () => {
  it('starts a SERVER span from the carrier, continuing the caller\'s trace, with the request attributes', async () => {
    const { tracer, exporter } = memoryTracer();
    const spans = createServerSpans({ tracer, adapter: 'test' });
    const c = carrier(new Map([['traceparent', formatTraceparent(PARENT)]]));
    const handle = spans.start(c)!;
    expect(handle.recording).toBe(true);
    expect(handle.needsEnd).toBe(true);
    expect(handle.tracer).toBe(tracer);
    expect(handle.startTime).toBeGreaterThan(0);
    handle.end({ attributes: { 'rpc.status_code': 'OK' } });
    const [trace] = await exporter.waitFor(1);
    const [span] = trace.spans;
    expect(span).toMatchObject({ kind: 'server', name: 'pkg.Echo/Say', traceId: PARENT.traceId, parentSpanId: PARENT.spanId, parentIsRemote: true, status: { code: 'unset' } });
    expect(span.attributes).toEqual({ 'rpc.system.name': 'test', 'rpc.method': 'pkg.Echo/Say', 'rpc.status_code': 'OK' });
    expect(c.asked).toBe(1);
    await tracer.shutdown();
  });

  it('asks for no attributes and needs no end for an unsampled request, which still propagates', async () => {
    const { tracer, exporter } = memoryTracer({ sampler: 0 });
    const spans = createServerSpans({ tracer });
    const c = carrier(new Map());
    const handle = spans.start(c)!;
    expect(handle.recording).toBe(false);
    expect(handle.needsEnd).toBe(false);
    expect(c.asked).toBe(0);
    expect(handle.span.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
    handle.run(() => expect(activeSpan()).toBe(handle.span));
    handle.end({ name: 'ignored' });
    await tracer.forceFlush();
    expect(exporter.traces()).toEqual([]);
    await tracer.shutdown();
  });

  it('an unsampled request is still measured when an observer waits for it', async () => {
    const { tracer } = memoryTracer({ sampler: 0 });
    tracer.addObserver!({ serverRequest: () => undefined });
    const handle = createServerSpans({ tracer }).start(carrier(new Map()))!;
    expect(handle.recording).toBe(false);
    expect(handle.needsEnd).toBe(true);
    expect(handle.observer).toBeDefined();
    expect(handle.startTime).toBeGreaterThan(0);
    await tracer.shutdown();
  });

  it('ends once with the outcome: name, attributes, error (status set once, with its message), end time and the hook before the end', async () => {
    const { tracer, exporter } = memoryTracer();
    const handle = createServerSpans({ tracer }).start(carrier(new Map()))!;
    const seen: string[] = [];
    const endTime = handle.startTime + 25;
    handle.end({
      name: 'pkg.Echo/Say failed',
      attributes: { 'rpc.status_code': 'INTERNAL' },
      error: { type: 'INTERNAL', message: 'boom' },
      endTime,
      beforeEnd: (span) => {
        seen.push('hook');
        span.setAttribute('from.hook', true);
      },
    });
    handle.end({ name: 'second end is ignored', error: { type: 'other' } });
    const [trace] = await exporter.waitFor(1);
    const [span] = trace.spans;
    expect(seen).toEqual(['hook']);
    expect(span.name).toBe('pkg.Echo/Say failed');
    expect(span.status).toEqual({ code: 'error', message: 'boom' });
    expect(span.attributes).toMatchObject({ 'rpc.status_code': 'INTERNAL', 'error.type': 'INTERNAL', 'from.hook': true });
    expect(span.endTime).toBe(endTime);
    expect(handle.ended).toBe(true);
    await tracer.shutdown();
  });

  it('a fixed spanName given at start wins over the name of the outcome', async () => {
    const { tracer, exporter } = memoryTracer();
    const handle = createServerSpans({ tracer }).start(carrier(new Map()), { spanName: 'echo' })!;
    handle.end({ name: 'pkg.Echo/Say' });
    const [trace] = await exporter.waitFor(1);
    expect(trace.spans[0].name).toBe('echo');
    await tracer.shutdown();
  });

  it('records each distinct handler error once as an exception event, and not after the end', async () => {
    const { tracer, exporter } = memoryTracer();
    const handle = createServerSpans({ tracer }).start(carrier(new Map()))!;
    const err = new RangeError('bad input');
    handle.recordError(err);
    handle.recordError(err);
    expect(handle.error).toBe(err);
    handle.end();
    handle.recordError(new Error('after the end'));
    const [trace] = await exporter.waitFor(1);
    const events = trace.spans[0].events;
    expect(events).toHaveLength(1);
    expect(events[0].attributes).toMatchObject({ 'exception.type': 'RangeError', 'exception.message': 'bad input' });
    // The status is the transport's to decide: no outcome error, no status.
    expect(trace.spans[0].status.code).toBe('unset');
    await tracer.shutdown();
  });

  it('runs code with the span and the caller\'s accepted baggage active', async () => {
    const { tracer } = memoryTracer();
    const handle = createServerSpans({ tracer }).start(carrier(new Map([['baggage', 'tenant=acme']])))!;
    handle.run(() => {
      expect(activeSpan()).toBe(handle.span);
      expect(getBaggage()?.get('tenant')?.value).toBe('acme');
    });
    handle.end();
    await tracer.shutdown();
  });

  it('an untrusted caller gets a new trace linked to its context, and its baggage is not taken in', async () => {
    const { tracer, exporter } = memoryTracer({ trustIncoming: false });
    const handle = createServerSpans({ tracer }).start(carrier(new Map([['traceparent', formatTraceparent(PARENT)], ['baggage', 'tenant=acme']])))!;
    handle.run(() => expect(getBaggage()?.get('tenant')).toBeUndefined());
    handle.end();
    const [trace] = await exporter.waitFor(1);
    const [span] = trace.spans;
    expect(span.traceId).not.toBe(PARENT.traceId);
    expect(span.links).toEqual([{ traceId: PARENT.traceId, spanId: PARENT.spanId, attributes: { 'tracewire.link.reason': 'untrusted_parent' } }]);
    await tracer.shutdown();
  });

  it('ignore: records nothing, but passes a trusted caller\'s context on, and gives nothing without one', async () => {
    const { tracer, exporter } = memoryTracer();
    const spans = createServerSpans({ tracer });
    const withContext = carrier(new Map([['traceparent', formatTraceparent(PARENT)]]));
    const handle = spans.start(withContext, { ignore: true })!;
    expect(handle.recording).toBe(false);
    expect(handle.needsEnd).toBe(false);
    expect(handle.tracer).toBeUndefined();
    expect(handle.span.spanContext()).toMatchObject({ traceId: PARENT.traceId, spanId: PARENT.spanId });
    // Nothing started under an ignored request records.
    handle.run(() => expect(tracer.startSpan('child').isRecording()).toBe(false));
    expect(withContext.asked).toBe(0);
    expect(spans.start(carrier(new Map()), { ignore: true })).toBeUndefined();
    await tracer.forceFlush();
    expect(exporter.traces()).toEqual([]);
    await tracer.shutdown();
  });

  it('a carrier that throws leaves the request untraced, reported once, and never throws', async () => {
    const { tracer } = memoryTracer();
    const spans = createServerSpans({ tracer, adapter: 'queue' });
    const bad: ServerCarrier = {
      name: 'job',
      headers: new Map(),
      getter: mapGetter,
      attributes() {
        throw new Error('broken carrier');
      },
    };
    expect(spans.start(bad)).toBeUndefined();
    expect(spans.start(bad)).toBeUndefined();
    const lines = stderr.lines().filter((l) => l.includes('internal error in the queue adapter'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('broken carrier');
    await tracer.shutdown();
  });

  it('a throwing hook before the end is logged once; the span still ends', async () => {
    const { tracer, exporter } = memoryTracer();
    const spans = createServerSpans({ tracer, adapter: 'queue' });
    for (let i = 0; i < 2; i++) {
      spans.start(carrier(new Map()))!.end({
        beforeEnd: () => {
          throw new Error('hook failed');
        },
      });
    }
    const traces = await exporter.waitFor(2);
    expect(traces.every((t) => t.spans[0].ended)).toBe(true);
    expect(stderr.lines().filter((l) => l.includes('onResponse hook threw (hook failed)'))).toHaveLength(1);
    await tracer.shutdown();
  });

  it('rejects bad options with a TypeError naming them', () => {
    expect(() => createServerSpans({ tracer: {} as Tracer })).toThrow(/option "tracer"/);
    expect(() => createServerSpans({ adapter: 3 as unknown as string })).toThrow(/option "adapter"/);
    expect(() => createServerSpans(null as never)).toThrow(TypeError);
  });
});
