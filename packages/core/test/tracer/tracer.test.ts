import { memoryTracer } from '../helpers';
import {
  activeSpan,
  alwaysOff,
  createTracer,
  formatTraceparent,
  getTracer,
  injectContext,
  setGlobalTracer,
  suppressTracing,
  traceLogFields,
  withSpan,
} from '../../src';
import type { Span } from '../../src';

describe('withSpan', () => {
  it('runs a sync function inside an active span and ends it', async () => {
    const { tracer, exporter } = memoryTracer();
    let inside: Span | undefined;
    const out = tracer.withSpan('sync', (span) => {
      inside = tracer.activeSpan();
      expect(inside).toBe(span);
      return 42;
    });
    expect(out).toBe(42);
    expect(tracer.activeSpan()).toBeUndefined();
    const [trace] = await exporter.waitFor(1);
    expect(trace.spans[0]).toMatchObject({ name: 'sync', ended: true, status: { code: 'unset' } });
    await tracer.shutdown();
  });

  it('ends an async span when its promise resolves, keeping the context across awaits', async () => {
    const { tracer, exporter } = memoryTracer();
    const value = await tracer.withSpan('outer', async () => {
      await new Promise((r) => setTimeout(r, 5));
      return tracer.withSpan('inner', async () => {
        await new Promise((r) => setImmediate(r));
        return 'done';
      });
    });
    expect(value).toBe('done');
    const [trace] = await exporter.waitFor(1);
    const [outer, inner] = trace.spans;
    expect(outer.name).toBe('outer');
    expect(inner.parentSpanId).toBe(outer.spanId);
    expect(inner.traceId).toBe(outer.traceId);
    expect(outer.endTime - outer.startTime).toBeGreaterThanOrEqual(4);
    await tracer.shutdown();
  });

  it('records a sync throw and re-throws the very same error', async () => {
    const { tracer, exporter } = memoryTracer();
    class BadInput extends Error {}
    const err = new BadInput('nope');
    let caught: unknown;
    try {
      tracer.withSpan('throws', () => {
        throw err;
      });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBe(err);
    const [trace] = await exporter.waitFor(1);
    const span = trace.spans[0];
    expect(span.status).toEqual({ code: 'error', message: 'nope' });
    expect(span.attributes['error.type']).toBe('BadInput');
    expect(span.events[0].name).toBe('exception');
    await tracer.shutdown();
  });

  it('records a rejection and rejects with the very same error', async () => {
    const { tracer, exporter } = memoryTracer();
    const err = new TypeError('async nope');
    await expect(tracer.withSpan('rejects', async () => {
      throw err;
    })).rejects.toBe(err);
    const [trace] = await exporter.waitFor(1);
    expect(trace.spans[0].status.code).toBe('error');
    expect(trace.spans[0].attributes['error.type']).toBe('TypeError');
    expect(trace.spans[0].ended).toBe(true);
    await tracer.shutdown();
  });
});

describe('startSpan', () => {
  it('defaults its parent to the active span and starts a new trace with parent: null', async () => {
    const { tracer, exporter } = memoryTracer();
    await tracer.withSpan('root', async (root) => {
      const child = tracer.startSpan('child');
      expect(child.spanContext().traceId).toBe(root.spanContext().traceId);
      child.end();
      const detached = tracer.startSpan('detached', { parent: null });
      expect(detached.spanContext().traceId).not.toBe(root.spanContext().traceId);
      detached.end();
    });
    const traces = await exporter.waitFor(2);
    const root = traces.find((t) => t.spans[0].name === 'root')!;
    expect(root.spans.map((s) => s.name)).toEqual(['root', 'child']);
    expect(root.spans[1].parentSpanId).toBe(root.spans[0].spanId);
    await tracer.shutdown();
  });

  it('continues a remote parent context as a new local trace keyed by the local root', async () => {
    const { tracer, exporter } = memoryTracer();
    const remote = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1, traceState: 'k=v', isRemote: true };
    const a = tracer.startSpan('req-a', { parent: remote, kind: 'server' });
    const b = tracer.startSpan('req-b', { parent: remote, kind: 'server' });
    a.end();
    b.end();
    const traces = await exporter.waitFor(2);
    expect(traces.map((t) => t.traceId)).toEqual(['a'.repeat(32), 'a'.repeat(32)]);
    expect(new Set(traces.map((t) => t.rootSpanId)).size).toBe(2);
    for (const t of traces) {
      expect(t.spans[0].parentSpanId).toBe('b'.repeat(16));
      expect(t.spans[0].traceState).toBe('k=v');
      expect(t.spans[0].traceFlags & 1).toBe(1);
      expect(t.spans[0].traceFlags & 2).toBe(0);
    }
    await tracer.shutdown();
  });

  it('gives an unsampled span a fresh span id that still propagates, and records nothing', async () => {
    const { tracer, exporter } = memoryTracer({ sampler: alwaysOff() });
    const span = tracer.startSpan('unsampled', { parent: null });
    expect(span.isRecording()).toBe(false);
    const headers: Record<string, string> = {};
    injectContext(headers, span);
    expect(headers.traceparent).toBe(formatTraceparent(span.spanContext()));
    expect(headers.traceparent.endsWith('-02')).toBe(true);
    tracer.withSpan('child', (child) => expect(child.isRecording()).toBe(false), { parent: span });
    span.end();
    await tracer.forceFlush();
    expect(exporter.traces()).toHaveLength(0);
    expect(tracer.stats().startedTraces).toBe(0);
    await tracer.shutdown();
  });

  it('returns a non-propagating span while tracing is suppressed', async () => {
    const { tracer } = memoryTracer();
    suppressTracing(() => {
      const s = tracer.startSpan('inside-exporter');
      expect(s.isRecording()).toBe(false);
      const h: Record<string, string> = {};
      injectContext(h, s);
      expect(h).toEqual({});
    });
    await tracer.shutdown();
  });

  it('is a non-recording pass-through when disabled, still carrying the parent context', async () => {
    const { tracer, exporter } = memoryTracer({ enabled: false });
    const remote = { traceId: 'c'.repeat(32), spanId: 'd'.repeat(16), traceFlags: 1, isRemote: true };
    const span = tracer.startSpan('x', { parent: remote });
    expect(span.isRecording()).toBe(false);
    expect(span.spanContext().traceId).toBe('c'.repeat(32));
    span.end();
    await tracer.forceFlush();
    expect(exporter.traces()).toHaveLength(0);
    await tracer.shutdown();
  });
});

describe('startIncomingSpan (trust policy)', () => {
  const incoming = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'vendor=x' };

  it('continues the caller trace when trustIncoming is true', async () => {
    const { tracer, exporter } = memoryTracer();
    tracer.startIncomingSpan('GET /', incoming, { kind: 'server' }).end();
    const [t] = await exporter.waitFor(1);
    expect(t.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(t.spans[0].parentSpanId).toBe('b7ad6b7169203331');
    expect(t.spans[0].traceState).toBe('vendor=x');
    expect(t.spans[0].links).toEqual([]);
    await tracer.shutdown();
  });

  it('marks only the span whose parent came from the carrier as having a remote parent', async () => {
    const { tracer, exporter } = memoryTracer();
    const root = tracer.startIncomingSpan('GET /', incoming, { kind: 'server' });
    tracer.startSpan('child', { parent: root }).end();
    root.end();
    tracer.startSpan('local root', { parent: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 } }).end();
    const [t, local] = await exporter.waitFor(2);
    const byName = Object.fromEntries(t.spans.map((s) => [s.name, s]));
    expect(byName['GET /'].parentIsRemote).toBe(true);
    expect(byName.child.parentIsRemote).toBeUndefined();
    expect(local.spans[0].parentIsRemote).toBeUndefined();
    // JSON output is unchanged for spans with a local or no parent
    expect(JSON.stringify(byName.child)).not.toContain('parentIsRemote');
    await tracer.shutdown();
  });

  it('starts a new trace linked to the caller when trustIncoming is false', async () => {
    const { tracer, exporter } = memoryTracer({ trustIncoming: false });
    tracer.startIncomingSpan('GET /', incoming, { kind: 'server' }).end();
    const [t] = await exporter.waitFor(1);
    expect(t.traceId).not.toBe('0af7651916cd43dd8448eb211c80319c');
    expect(t.spans[0].parentSpanId).toBeUndefined();
    expect(t.spans[0].traceState).toBeUndefined();
    expect(t.spans[0].links).toEqual([
      { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', attributes: { 'tracewire.link.reason': 'untrusted_parent' } },
    ]);
    await tracer.shutdown();
  });

  it('ignores an untrusted caller sampled flag: it can neither force nor suppress tracing', async () => {
    const off = memoryTracer({ trustIncoming: () => false, sampler: alwaysOff() });
    const forced = off.tracer.startIncomingSpan('GET /', incoming);
    expect(forced.isRecording()).toBe(false);
    forced.end();
    const on = memoryTracer({ trustIncoming: false });
    const suppressed = on.tracer.startIncomingSpan('GET /', { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00' });
    expect(suppressed.isRecording()).toBe(true);
    suppressed.end();
    await on.exporter.waitFor(1);
    await Promise.all([off.tracer.shutdown(), on.tracer.shutdown()]);
  });

  it('honours a trusted unsampled caller under the default parent-based sampler', async () => {
    const { tracer } = memoryTracer();
    const span = tracer.startIncomingSpan('GET /', { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00' });
    expect(span.isRecording()).toBe(false);
    expect(span.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(span.spanContext().spanId).not.toBe('b7ad6b7169203331');
    await tracer.shutdown();
  });

  it('starts a fresh trace from invalid headers', async () => {
    const { tracer, exporter } = memoryTracer();
    tracer.startIncomingSpan('GET /', { traceparent: '00-XYZ' }).end();
    const [t] = await exporter.waitFor(1);
    expect(t.spans[0].parentSpanId).toBeUndefined();
    expect(t.spans[0].traceFlags).toBe(3);
    await tracer.shutdown();
  });

  it('treats a throwing trust predicate as untrusted', async () => {
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const { tracer, exporter } = memoryTracer({ trustIncoming: () => { throw new Error('bad predicate'); } });
    tracer.startIncomingSpan('GET /', incoming).end();
    const [t] = await exporter.waitFor(1);
    expect(t.traceId).not.toBe('0af7651916cd43dd8448eb211c80319c');
    expect(t.spans[0].links).toHaveLength(1);
    err.mockRestore();
    await tracer.shutdown();
  });
});

describe('global API', () => {
  afterEach(() => setGlobalTracer(undefined));

  it('module-level withSpan/activeSpan/traceLogFields use the global tracer', async () => {
    const { tracer, exporter } = memoryTracer();
    setGlobalTracer(tracer);
    expect(getTracer()).toBe(tracer);
    expect(traceLogFields()).toEqual({});
    await withSpan('global', async (span) => {
      expect(activeSpan()).toBe(span);
      const ctx = span.spanContext();
      expect(traceLogFields()).toEqual({ trace_id: ctx.traceId, span_id: ctx.spanId, trace_flags: '03' });
    });
    await exporter.waitFor(1);
    await tracer.shutdown();
  });

  it('the global tracer is shared with another copy of core, including one that reads globalThis directly', async () => {
    const { tracer } = memoryTracer();
    const { tracer: other } = memoryTracer();
    const key = Symbol.for('tracewire.global.tracer');
    const g = globalThis as unknown as Record<symbol, unknown>;
    setGlobalTracer(tracer);
    // An older copy of core keeps the global tracer at globalThis[key]: it sees ours, and we see its.
    expect(g[key]).toBe(tracer);
    g[key] = other;
    expect(getTracer()).toBe(other);
    // A second copy of this version finds the same holder.
    const holder = g[Symbol.for('tracewire.global.tracer.holder')] as { tracer: unknown };
    expect(holder.tracer).toBe(other);
    await Promise.all([tracer.shutdown(), other.shutdown()]);
  });

  it('getTracer builds one from the environment on first use', async () => {
    const prev = { ...process.env };
    process.env.OTEL_TRACES_EXPORTER = 'none';
    process.env.OTEL_SERVICE_NAME = 'from-env';
    try {
      const t = getTracer();
      expect(t).toBe(getTracer());
      expect(t.config.resource['service.name']).toBe('from-env');
      await t.shutdown();
    } finally {
      process.env = prev;
    }
  });
});

describe('createTracer', () => {
  it('throws a TypeError naming a bad option', () => {
    expect(() => createTracer({ sampler: 2 })).toThrow(TypeError);
    expect(() => createTracer({ sampler: 2 })).toThrow(/sampler/);
    expect(() => createTracer({ limits: { lingerMs: -1 } })).toThrow(/lingerMs/);
  });
});

describe('children of another tracer\'s trace', () => {
  it('belong to the tracer of the trace they join: its limits, its counters', async () => {
    const own = memoryTracer({ limits: { maxSpansPerTrace: 2 } });
    const global = memoryTracer();
    setGlobalTracer(global.tracer);
    try {
      await own.tracer.withSpan('request', async () => {
        // Module-level helpers, as a handler under tracingMiddleware({ tracer }) uses them.
        withSpan('child-1', () => undefined);
        await withSpan('child-2', async () => undefined);
        // Another tracer's startSpan under this trace's span joins this trace too.
        global.tracer.startSpan('child-3').end();
      });
      const [trace] = await own.exporter.waitFor(1);
      expect(trace.spans.map((s) => s.name)).toEqual(['request', 'child-1']);
      expect(own.tracer.stats().dropped).toEqual({ spans_per_trace_cap: 2 });
      await global.tracer.forceFlush();
      expect(global.exporter.traces()).toEqual([]);
      expect(global.tracer.stats()).toMatchObject({ startedTraces: 0, dropped: {} });
    } finally {
      setGlobalTracer(undefined);
      await own.tracer.shutdown();
      await global.tracer.shutdown();
    }
  });

  it('the global tracer still starts a new trace outside any span', async () => {
    const global = memoryTracer();
    setGlobalTracer(global.tracer);
    try {
      withSpan('alone', () => undefined);
      const [trace] = await global.exporter.waitFor(1);
      expect(trace.spans.map((s) => s.name)).toEqual(['alone']);
    } finally {
      setGlobalTracer(undefined);
      await global.tracer.shutdown();
    }
  });
});
