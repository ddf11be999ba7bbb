import { createTracer, InMemoryExporter } from '../../src';
import type { Exporter, FinishedTrace } from '../../src';
import { captureStderr } from '../helpers';

const stderr = captureStderr();

const hanging: Exporter = { name: 'hanging', export: () => new Promise<void>(() => undefined) };

describe('TraceProcessor (tracer.stats() by outcome)', () => {
  it('exportedTraces counts deliveries: a hanging exporter delivers none', async () => {
    const tracer = createTracer({ exporters: [hanging], batch: { scheduledDelayMillis: 1, exportTimeoutMillis: 50 } });
    for (let i = 0; i < 3; i++) tracer.withSpan(`req${i}`, () => undefined, { parent: null });
    await tracer.forceFlush();
    expect(tracer.stats()).toMatchObject({ startedTraces: 3, submittedTraces: 3, exportedTraces: 0, exportedSpans: 0, exportErrors: 3, exporters: { hanging: { timeouts: 1, failed: 3 } } });
    await tracer.shutdown(100);
  });

  it('a trace two exporters delivered counts once; one the other failed still counts', async () => {
    const a = new InMemoryExporter();
    const failing: Exporter = { name: 'failing', export: () => Promise.reject(new Error('down')) };
    const tracer = createTracer({ exporters: [a, failing, new InMemoryExporter()], batch: { scheduledDelayMillis: 1 } });
    tracer.withSpan('req', () => {
      tracer.startSpan('child').end();
    }, { parent: null });
    await tracer.forceFlush();
    const s = tracer.stats();
    expect(s).toMatchObject({ submittedTraces: 1, exportedTraces: 1, exportedSpans: 2, exportErrors: 1 });
    expect(s.exporters.memory).toMatchObject({ exported: 1 });
    expect(s.exporters['memory#2']).toMatchObject({ exported: 1 });
    await tracer.shutdown();
  });

  it('counts the traces delivered incomplete (children open after linger) and partial (root open at shutdown)', async () => {
    const exporter = new InMemoryExporter();
    const tracer = createTracer({ exporters: [exporter], batch: { scheduledDelayMillis: 1 }, limits: { lingerMs: 10 } });
    const root = tracer.startSpan('root', { parent: null });
    const child = tracer.startSpan('child', { parent: root });
    root.end();
    const [first] = await exporter.waitFor(1);
    expect(first.incomplete).toBe(true);
    child.end();
    await exporter.waitFor(2);
    const open = tracer.startSpan('never-ends', { parent: null });
    await tracer.shutdown();
    expect(open.isRecording()).toBe(true);
    const traces: FinishedTrace[] = exporter.traces();
    expect(traces.map((t) => [t.fragment, t.incomplete])).toEqual([[0, true], [1, false], [0, true]]);
    expect(tracer.stats()).toMatchObject({ submittedTraces: 3, exportedTraces: 3, incompleteTraces: 1, partialTraces: 1 });
  });

  it('the tail policy drops the whole trace, its late fragments too, each counted', async () => {
    const exporter = new InMemoryExporter();
    const tracer = createTracer({ exporters: [exporter], batch: { scheduledDelayMillis: 1 }, limits: { lingerMs: 5 }, tail: () => false });
    const root = tracer.startSpan('root', { parent: null });
    const late = tracer.startSpan('late', { parent: root });
    root.end();
    await new Promise((r) => setTimeout(r, 30));
    late.end();
    await new Promise((r) => setTimeout(r, 30));
    await tracer.forceFlush();
    expect(exporter.traces()).toEqual([]);
    expect(tracer.stats()).toMatchObject({ submittedTraces: 0, exportedTraces: 0, dropped: { tail: 2 } });
    await tracer.shutdown();
  });

  it('warns about each tracer\'s shutdown timeout, not only the first one in the process', async () => {
    const one = createTracer({ serviceName: 'one', exporters: [hanging] });
    const two = createTracer({ serviceName: 'two', exporters: [hanging] });
    one.withSpan('a', () => undefined, { parent: null });
    two.withSpan('b', () => undefined, { parent: null });
    await one.shutdown(20);
    await two.shutdown(20);
    const lines = stderr.lines().filter((l) => l.includes('did not complete within 20 ms'));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('"one"');
    expect(lines[1]).toContain('"two"');
  });
});
