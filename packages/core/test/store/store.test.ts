import { memoryTracer } from '../helpers';

// Only the timers the store uses are faked; setImmediate stays real so the export queue can run.
beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] }));
afterEach(() => jest.useRealTimers());

function tracerWith(limits: Record<string, number>) {
  return memoryTracer({ limits, batch: { scheduledDelayMillis: 1 } });
}

describe('TraceStore', () => {
  it('completes a trace once the root and all children have ended', async () => {
    const { tracer, exporter } = tracerWith({ lingerMs: 1000 });
    const root = tracer.startSpan('root', { parent: null });
    const child = tracer.startSpan('child', { parent: root });
    root.end();
    expect(tracer.stats().liveTraces).toBe(1);
    child.end();
    await tracer.forceFlush();
    const [t] = exporter.traces();
    expect(exporter.traces()).toHaveLength(1);
    expect(t.incomplete).toBe(false);
    expect(t.fragment).toBe(0);
    expect(t.spans.map((s) => [s.name, s.ended])).toEqual([['root', true], ['child', true]]);
    expect(tracer.stats().liveTraces).toBe(0);
    await tracer.shutdown();
  });

  it('exports a child still open after lingerMs marked incomplete, then the late end as fragment 1', async () => {
    const { tracer, exporter } = tracerWith({ lingerMs: 1000 });
    const root = tracer.startSpan('root', { parent: null });
    const slow = tracer.startSpan('slow-child', { parent: root });
    root.end();
    jest.advanceTimersByTime(999);
    await tracer.forceFlush();
    expect(exporter.traces()).toHaveLength(0);
    jest.advanceTimersByTime(1);
    await tracer.forceFlush();
    const [first] = exporter.traces();
    expect(first.incomplete).toBe(true);
    expect(first.fragment).toBe(0);
    expect(first.spans.map((s) => [s.name, s.ended])).toEqual([['root', true], ['slow-child', false]]);
    expect(tracer.stats().liveTraces).toBe(0);

    slow.setAttribute('late', true);
    slow.end();
    await tracer.forceFlush();
    const second = exporter.traces()[1];
    expect(second.fragment).toBe(1);
    expect(second.incomplete).toBe(false);
    expect(second.traceId).toBe(first.traceId);
    expect(second.rootSpanId).toBe(first.rootSpanId);
    expect(second.spans).toHaveLength(1);
    expect(second.spans[0]).toMatchObject({ name: 'slow-child', ended: true, attributes: { late: true } });
    await tracer.shutdown();
  });

  it('batches late spans that end at different times into one fragment within lingerMs', async () => {
    const { tracer, exporter } = tracerWith({ lingerMs: 500 });
    const root = tracer.startSpan('root', { parent: null });
    const a = tracer.startSpan('a', { parent: root });
    const b = tracer.startSpan('b', { parent: root });
    root.end();
    jest.advanceTimersByTime(500);
    a.end();
    jest.advanceTimersByTime(499);
    await tracer.forceFlush();
    expect(exporter.traces()).toHaveLength(1);
    jest.advanceTimersByTime(1);
    await tracer.forceFlush();
    expect(exporter.traces()).toHaveLength(2);
    expect(exporter.traces()[1]).toMatchObject({ fragment: 1, incomplete: true });
    expect(exporter.traces()[1].spans.map((s) => s.name)).toEqual(['a']);
    b.end();
    await tracer.forceFlush();
    expect(exporter.traces()[2]).toMatchObject({ fragment: 2, incomplete: false });
    await tracer.shutdown();
  });

  it('exports a trace whose root never ends as partial after traceTtlMs', async () => {
    const { tracer, exporter } = tracerWith({ traceTtlMs: 2000, lingerMs: 100 });
    const root = tracer.startSpan('stuck', { parent: null });
    tracer.startSpan('done-child', { parent: root }).end();
    jest.advanceTimersByTime(1500);
    await tracer.forceFlush();
    expect(exporter.traces()).toHaveLength(0);
    jest.advanceTimersByTime(1500);
    await tracer.forceFlush();
    const [t] = exporter.traces();
    expect(t.incomplete).toBe(true);
    expect(t.spans.map((s) => [s.name, s.ended])).toEqual([['stuck', false], ['done-child', true]]);
    expect(tracer.stats().liveTraces).toBe(0);
    root.end();
    await tracer.forceFlush();
    expect(exporter.traces()[1]).toMatchObject({ fragment: 1, incomplete: false });
    await tracer.shutdown();
  });

  it('keeps the live traces in open order whichever ends first, and exports them in that order at shutdown', async () => {
    const { tracer, exporter } = tracerWith({ maxLiveTraces: 5 });
    const [a, , c, , e] = ['a', 'b', 'c', 'd', 'e'].map((name) => tracer.startSpan(name, { parent: null }));
    expect(tracer.stats().liveTraces).toBe(5);
    // Out of the middle, off the newest end, off the oldest end.
    c.end();
    e.end();
    a.end();
    expect(tracer.stats().liveTraces).toBe(2);
    // The freed places take new traces (the cap counts the live ones), at the newest end.
    const f = tracer.startSpan('f', { parent: null });
    const g = tracer.startSpan('g', { parent: null });
    const h = tracer.startSpan('h', { parent: null });
    expect([f, g, h].map((s) => s.isRecording())).toEqual([true, true, true]);
    expect(tracer.startSpan('over', { parent: null }).isRecording()).toBe(false);
    expect(tracer.stats().liveTraces).toBe(5);
    g.end();
    await tracer.shutdown();
    expect(exporter.traces().map((t) => [t.spans[0].name, t.incomplete])).toEqual([
      ['c', false],
      ['e', false],
      ['a', false],
      ['g', false],
      ['b', true],
      ['d', true],
      ['f', true],
      ['h', true],
    ]);
    expect(tracer.stats().liveTraces).toBe(0);
  });

  it('past maxLiveTraces hands out non-recording spans that still propagate, counting each drop', async () => {
    const { tracer } = tracerWith({ maxLiveTraces: 2 });
    const a = tracer.startSpan('a', { parent: null });
    const b = tracer.startSpan('b', { parent: null });
    const c = tracer.startSpan('c', { parent: null });
    expect(a.isRecording() && b.isRecording()).toBe(true);
    expect(c.isRecording()).toBe(false);
    expect(c.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(c.spanContext().traceFlags & 1).toBe(1);
    expect(tracer.stats().dropped.live_traces_cap).toBe(1);
    a.end();
    const d = tracer.startSpan('d', { parent: null });
    expect(d.isRecording()).toBe(true);
    await tracer.shutdown();
  });

  it('past maxSpansPerTrace records no more spans in that trace and counts them', async () => {
    const { tracer, exporter } = tracerWith({ maxSpansPerTrace: 3 });
    await tracer.withSpan('root', async (root) => {
      for (let i = 0; i < 4; i++) {
        const s = tracer.startSpan(`c${i}`);
        if (i >= 2) {
          expect(s.isRecording()).toBe(false);
          expect(s.spanContext().traceId).toBe(root.spanContext().traceId);
        }
        s.end();
      }
    });
    await tracer.forceFlush();
    expect(exporter.spans().map((s) => s.name)).toEqual(['root', 'c0', 'c1']);
    expect(tracer.stats().dropped.spans_per_trace_cap).toBe(2);
    await tracer.shutdown();
  });

  it('keeps two requests of one distributed trace apart (keyed by local root)', async () => {
    const { tracer, exporter } = tracerWith({});
    const remote = { traceId: 'e'.repeat(32), spanId: 'f'.repeat(16), traceFlags: 1, isRemote: true };
    const r1 = tracer.startSpan('r1', { parent: remote });
    const r2 = tracer.startSpan('r2', { parent: remote });
    tracer.startSpan('r1-child', { parent: r1 }).end();
    r1.end();
    await tracer.forceFlush();
    expect(exporter.traces()).toHaveLength(1);
    expect(exporter.traces()[0].spans.map((s) => s.name)).toEqual(['r1', 'r1-child']);
    r2.end();
    await tracer.forceFlush();
    expect(exporter.traces()[1].spans.map((s) => s.name)).toEqual(['r2']);
    await tracer.shutdown();
  });

  it('applies the tail policy to the whole trace and to its late fragments, counting drops', async () => {
    const { tracer, exporter } = memoryTracer({ tail: { keepErrors: true, ratio: 0 }, limits: { lingerMs: 100 }, batch: { scheduledDelayMillis: 1 } });
    tracer.withSpan('ok', () => undefined, { parent: null });
    try {
      tracer.withSpan('bad', () => {
        throw new Error('x');
      }, { parent: null });
    } catch {
      /* expected */
    }
    const root = tracer.startSpan('dropped-with-late', { parent: null });
    const late = tracer.startSpan('late', { parent: root });
    root.end();
    jest.advanceTimersByTime(100);
    late.end();
    await tracer.forceFlush();
    expect(exporter.traces().map((t) => t.spans[0].name)).toEqual(['bad']);
    expect(tracer.stats().dropped.tail).toBe(3);
    await tracer.shutdown();
  });
});
