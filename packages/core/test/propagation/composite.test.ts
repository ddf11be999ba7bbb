import { captureStderr, memoryTracer } from '../helpers';
import {
  checkPropagators,
  compilePropagation,
  defaultGetter,
  defaultSetter,
  DEFAULT_PROPAGATION,
} from '../../src/propagation';
import { createTracer, getBaggage, injectContext, setGlobalTracer, getTracer, withBaggage, extractContext } from '../../src';
import type { Tracer } from '../../src';
import { readEnv } from '../../src/config/env';

const TID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SID = '00f067aa0ba902b7';
const TP = `00-${TID}-${SID}-01`;
const B3TID = '80f198ee56343ba864fe8b2a57d3eff7';
const B3SID = 'e457b5a2e4d86bd1';

const stderr = captureStderr();

describe('propagators option', () => {
  it('defaults to tracecontext,baggage', () => {
    expect(createTracer({ exporters: [] }).config.propagation.names).toEqual(['tracecontext', 'baggage']);
  });

  it.each([
    ['a string other than none', 'b3', /option "propagators" must be an array/],
    ['an unknown name', ['tracecontext', 'jaeger'], /option "propagators\[1\]" must be one of tracecontext, baggage, b3, b3multi, xtrace/],
    ['none beside others', ['none', 'b3'], /option "propagators\[0\]" must be a propagator \("none" only alone\)/],
    ['a name twice', ['b3', 'b3'], /option "propagators\[1\]" must be listed once/],
    ['an unknown entry key', [{ name: 'b3', inejct: true }], /unknown option "propagators\[0\].inejct"/],
    ['a non-boolean inject', [{ name: 'xtrace', inject: 'yes' }], /option "propagators\[0\].inject" must be a boolean/],
    ['attributes on a trace format', [{ name: 'b3', attributes: ['a'] }], /option "propagators\[0\].attributes" must be given only for the "baggage" propagator/],
    ['a baggage attribute that is not a key', [{ name: 'baggage', attributes: ['a b'] }], /option "propagators\[0\].attributes\[0\]" must be a baggage key/],
  ])('throws a TypeError naming the option for %s', (_case, value, message) => {
    expect(() => createTracer({ exporters: [], propagators: value as never })).toThrow(TypeError);
    expect(() => createTracer({ exporters: [], propagators: value as never })).toThrow(message);
  });

  it('accepts none, [none] and [] as no propagation', () => {
    for (const v of ['none', ['none'], []]) expect(checkPropagators(v)).toEqual([]);
  });

  it('makes xtrace extract-only unless inject is asked for', () => {
    expect(checkPropagators(['xtrace'])).toEqual([{ name: 'xtrace', extract: true, inject: false }]);
    expect(checkPropagators([{ name: 'xtrace', inject: true }])).toEqual([{ name: 'xtrace', extract: true, inject: true }]);
  });

  it('wins over OTEL_PROPAGATORS', () => {
    const prev = process.env.OTEL_PROPAGATORS;
    process.env.OTEL_PROPAGATORS = 'b3';
    try {
      expect(createTracer({ exporters: [] }).config.propagation.names).toEqual(['b3']);
      expect(createTracer({ exporters: [], propagators: ['b3multi'] }).config.propagation.names).toEqual(['b3multi']);
    } finally {
      if (prev === undefined) delete process.env.OTEL_PROPAGATORS;
      else process.env.OTEL_PROPAGATORS = prev;
    }
  });
});

describe('OTEL_PROPAGATORS', () => {
  it('reads a comma list, case and spaces aside', () => {
    expect(readEnv({ OTEL_PROPAGATORS: ' TraceContext , b3multi,xtrace ' }).propagators).toEqual(['tracecontext', 'b3multi', 'xtrace']);
  });

  it('turns propagation off with none', () => {
    expect(readEnv({ OTEL_PROPAGATORS: 'none' }).propagators).toEqual([]);
  });

  it('ignores unknown names with one warning naming the variable', () => {
    expect(readEnv({ OTEL_PROPAGATORS: 'b3,jaeger' }).propagators).toEqual(['b3']);
    readEnv({ OTEL_PROPAGATORS: 'b3,jaeger' });
    const warnings = stderr.lines().filter((l) => l.includes('OTEL_PROPAGATORS'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('"jaeger"');
  });

  it('falls back to the default, with a warning, when nothing valid is named', () => {
    expect(readEnv({ OTEL_PROPAGATORS: 'xray' }).propagators).toBeUndefined();
    expect(stderr.lines().join('')).toContain('using the default tracecontext,baggage');
  });
});

describe('compilePropagation', () => {
  const all = compilePropagation(['tracecontext', 'b3', 'b3multi', 'xtrace', 'baggage']);

  it('takes the first format that yields a valid context', () => {
    const headers = { traceparent: TP, b3: `${B3TID}-${B3SID}-1` };
    expect(all.extract(headers, defaultGetter)!.traceId).toBe(TID);
    expect(compilePropagation(['b3', 'tracecontext']).extract(headers, defaultGetter)!.traceId).toBe(B3TID);
  });

  it('goes on to the next format when one is invalid', () => {
    expect(all.extract({ traceparent: 'garbage', b3: `${B3TID}-${B3SID}-1` }, defaultGetter)!.traceId).toBe(B3TID);
    expect(all.extract({ traceparent: 'garbage', b3: 'junk', 'x-trace-id': '550e8400-e29b-41d4-a716-446655440000' }, defaultGetter)!.traceId).toBe(
      '550e8400e29b41d4a716446655440000',
    );
    expect(all.extract({ traceparent: 'garbage', b3: 'junk' }, defaultGetter)).toBeNull();
  });

  it('reads only the configured formats', () => {
    expect(compilePropagation(['tracecontext']).extract({ b3: `${B3TID}-${B3SID}-1` }, defaultGetter)).toBeNull();
    expect(compilePropagation(['tracecontext']).extractBaggage({ baggage: 'a=1' }, defaultGetter)).toBeUndefined();
    expect(compilePropagation([]).extract({ traceparent: TP }, defaultGetter)).toBeNull();
  });

  it('writes every injecting format', () => {
    const out: Record<string, string> = {};
    const ctx = { traceId: TID, spanId: SID, traceFlags: 1, traceState: 'a=1' };
    compilePropagation(checkPropagators(['tracecontext', 'b3', 'b3multi', { name: 'xtrace', inject: true }, 'baggage'])).inject(
      out,
      ctx,
      new Map([['k', { value: 'v w' }]]),
      defaultSetter,
    );
    expect(out).toEqual({
      traceparent: TP,
      tracestate: 'a=1',
      b3: `${TID}-${SID}-1`,
      'x-b3-traceid': TID,
      'x-b3-spanid': SID,
      'x-b3-sampled': '1',
      'x-trace-id': '4bf92f35-77b3-4da6-a3ce-929d0e0e4736',
      'x-span-id': SID,
      baggage: 'k=v%20w',
    });
  });

  it('does not write xtrace by default, nor formats set to extract only', () => {
    const out: Record<string, string> = {};
    compilePropagation(checkPropagators(['xtrace', { name: 'b3', inject: false }, 'tracecontext'])).inject(out, { traceId: TID, spanId: SID, traceFlags: 1 }, undefined, defaultSetter);
    expect(out).toEqual({ traceparent: TP });
  });

  it('leaves a format alone when the carrier already has its header', () => {
    const out: Record<string, string> = { traceparent: 'mine', baggage: 'mine=1' };
    compilePropagation(['tracecontext', 'b3', 'baggage']).inject(out, { traceId: TID, spanId: SID, traceFlags: 0 }, new Map([['k', { value: 'v' }]]), defaultSetter, (n) => n in out);
    expect(out).toEqual({ traceparent: 'mine', baggage: 'mine=1', b3: `${TID}-${SID}-0` });
  });

  it('says whether node headers carry anything it reads', () => {
    expect(DEFAULT_PROPAGATION.present({})).toBe(false);
    expect(DEFAULT_PROPAGATION.present({ tracestate: 'a=1' })).toBe(false);
    expect(DEFAULT_PROPAGATION.present({ baggage: 'a=1' })).toBe(true);
    expect(DEFAULT_PROPAGATION.present({ b3: 'x' })).toBe(false);
    expect(all.present({ 'x-trace-id': 'x' })).toBe(true);
  });
});

describe('startIncomingSpan with several formats', () => {
  /** Starts and ends a server span; `recording` is read before the end. */
  async function serverSpan(tracer: Tracer, headers: Record<string, string>) {
    const span = tracer.startIncomingSpan('GET /', headers, { kind: 'server' });
    const recording = span.isRecording();
    span.end();
    return { spanContext: () => span.spanContext(), isRecording: () => recording };
  }

  it('continues a B3 trace, sampled or not as the caller decided', async () => {
    const { tracer } = memoryTracer({ propagators: ['b3'] });
    expect((await serverSpan(tracer, { b3: `${B3TID}-${B3SID}-1` })).spanContext()).toMatchObject({ traceId: B3TID, traceFlags: 1 });
    const denied = await serverSpan(tracer, { b3: `${B3TID}-${B3SID}-0` });
    expect(denied.spanContext()).toMatchObject({ traceId: B3TID, traceFlags: 0 });
    expect(denied.isRecording()).toBe(false);
    await tracer.shutdown();
  });

  it('decides itself when the caller deferred the sampling decision', async () => {
    const { tracer, exporter } = memoryTracer({ propagators: ['b3multi'] });
    const span = await serverSpan(tracer, { 'x-b3-traceid': B3TID, 'x-b3-spanid': B3SID });
    expect(span.isRecording()).toBe(true);
    const [trace] = await exporter.waitFor(1);
    expect(trace.spans[0]).toMatchObject({ traceId: B3TID, parentSpanId: B3SID, traceFlags: 1 });
    const off = memoryTracer({ propagators: ['b3multi'], sampler: 0 });
    expect((await serverSpan(off.tracer, { 'x-b3-traceid': B3TID, 'x-b3-spanid': B3SID })).isRecording()).toBe(false);
    await tracer.shutdown();
    await off.tracer.shutdown();
  });

  it('starts a root span in the trace of an X-Trace-ID that came without a span id', async () => {
    const { tracer, exporter } = memoryTracer({ propagators: ['tracecontext', 'xtrace'] });
    await serverSpan(tracer, { 'x-trace-id': '550e8400-e29b-41d4-a716-446655440000' });
    const [trace] = await exporter.waitFor(1);
    expect(trace.traceId).toBe('550e8400e29b41d4a716446655440000');
    expect(trace.spans[0].parentSpanId).toBeUndefined();
    // Not an id Tracewire drew: no Level 2 random flag claimed.
    expect(trace.spans[0].traceFlags).toBe(1);
    await tracer.shutdown();
  });

  it('applies the trust policy to every format: an untrusted caller gets a new, linked trace', async () => {
    const { tracer, exporter } = memoryTracer({ propagators: ['b3', 'xtrace', 'baggage'], trustIncoming: false });
    await serverSpan(tracer, { b3: `${B3TID}-${B3SID}-0` });
    await serverSpan(tracer, { 'x-trace-id': '550e8400-e29b-41d4-a716-446655440000', 'x-span-id': SID });
    const traces = await exporter.waitFor(2);
    expect(traces[0].traceId).not.toBe(B3TID);
    // Sampled although the caller said 0: an outside caller can neither force nor suppress tracing.
    expect(traces[0].spans[0].traceFlags & 1).toBe(1);
    expect(traces[0].spans[0].links).toEqual([{ traceId: B3TID, spanId: B3SID, attributes: { 'tracewire.link.reason': 'untrusted_parent' } }]);
    expect(traces[1].traceId).not.toBe('550e8400e29b41d4a716446655440000');
    await tracer.shutdown();
  });

  it('records listed baggage keys on the server span, and nothing else of the baggage', async () => {
    const { tracer, exporter } = memoryTracer({ propagators: ['tracecontext', { name: 'baggage', attributes: ['tenant.id'] }] });
    await serverSpan(tracer, { traceparent: TP, baggage: 'tenant.id=acme,user.email=a%40b.c' });
    const [trace] = await exporter.waitFor(1);
    expect(trace.spans[0].attributes['tenant.id']).toBe('acme');
    expect(JSON.stringify(trace)).not.toContain('a@b.c');
    await tracer.shutdown();
  });

  it('never records baggage without the option', async () => {
    const { tracer, exporter } = memoryTracer();
    await serverSpan(tracer, { traceparent: TP, baggage: 'tenant.id=acme,secret=s3cr3t' });
    const [trace] = await exporter.waitFor(1);
    expect(JSON.stringify(trace)).not.toMatch(/acme|s3cr3t/);
    await tracer.shutdown();
  });

  it('starts a fresh trace for invalid values in every format, without throwing', async () => {
    const { tracer, exporter } = memoryTracer({ propagators: ['tracecontext', 'b3', 'b3multi', 'xtrace', 'baggage'] });
    await serverSpan(tracer, { traceparent: 'x', b3: 'y', 'x-b3-traceid': 'z', 'x-trace-id': 'w', baggage: ';;;' });
    const [trace] = await exporter.waitFor(1);
    expect(trace.spans[0].parentSpanId).toBeUndefined();
    await tracer.shutdown();
  });

  it('treats a throwing getter as an unreadable carrier', () => {
    const { tracer } = memoryTracer();
    const getter = {
      get() {
        throw new Error('boom');
      },
    };
    expect(() => tracer.startIncomingSpan('x', {}, undefined, getter).end()).not.toThrow();
  });
});

describe('module-level propagation and baggage', () => {
  let previous: Tracer;
  beforeEach(() => {
    previous = getTracer();
  });
  afterEach(() => setGlobalTracer(previous));

  it('extractContext and injectContext use the global tracer’s propagators', () => {
    setGlobalTracer(createTracer({ exporters: [], propagators: ['b3'] }));
    expect(extractContext({ traceparent: TP })).toBeNull();
    const ctx = extractContext({ b3: `${B3TID}-${B3SID}-1` })!;
    expect(ctx.traceId).toBe(B3TID);
    const out: Record<string, string> = {};
    injectContext(out, ctx);
    expect(out).toEqual({ b3: `${B3TID}-${B3SID}-1` });
  });

  it('withBaggage merges over the active baggage, removes null keys, and injectContext writes it', () => {
    withBaggage({ a: '1', b: '2' }, () => {
      withBaggage({ b: null, c: { value: 'x y', properties: [{ key: 'p' }] } }, () => {
        expect([...getBaggage()]).toEqual([
          ['a', { value: '1' }],
          ['c', { value: 'x y', properties: [{ key: 'p' }] }],
        ]);
        const out: Record<string, string> = {};
        injectContext(out);
        expect(out).toEqual({ baggage: 'a=1,c=x%20y;p' });
      });
      expect([...getBaggage().keys()]).toEqual(['a', 'b']);
    });
    expect(getBaggage().size).toBe(0);
  });

  it('keeps the baggage across withSpan and await', async () => {
    const { tracer } = memoryTracer();
    await withBaggage({ k: 'v' }, async () => {
      await tracer.withSpan('child', async () => {
        await new Promise((r) => setTimeout(r, 1));
        expect(getBaggage().get('k')).toEqual({ value: 'v' });
      });
    });
    await tracer.shutdown();
  });

  it('ignores bad entries with one warning and never throws', () => {
    const result = withBaggage({ 'not a key': 'x', ok: 'y', num: 5 as never }, () => [...getBaggage().keys()]);
    expect(result).toEqual(['ok']);
    expect(stderr.lines().filter((l) => l.includes('withBaggage'))).toHaveLength(2);
  });

  it('returns what fn returns and lets its errors through untouched', () => {
    const err = new Error('mine');
    expect(withBaggage({ a: '1' }, () => 42)).toBe(42);
    expect(() =>
      withBaggage({ a: '1' }, () => {
        throw err;
      }),
    ).toThrow(err);
  });

  it('a copy from getBaggage changes nothing', () => {
    withBaggage({ a: '1' }, () => {
      getBaggage().set('b', { value: '2' });
      expect(getBaggage().has('b')).toBe(false);
    });
  });
});
