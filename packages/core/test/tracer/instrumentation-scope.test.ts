import { startSpan } from '../../src';
import type { InstrumentationScope } from '../../src';
import { memoryTracer } from '../helpers';

describe('StartSpanOptions.instrumentationScope', () => {
  const { tracer, exporter } = memoryTracer({ limits: { lingerMs: 20 } });
  afterAll(() => tracer.shutdown());
  afterEach(async () => {
    await tracer.forceFlush();
    exporter.reset();
  });

  it('is kept on the exported span; Tracewire\'s own spans have none', async () => {
    const scope: InstrumentationScope = { name: 'ai', version: '6.0.326', schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' };
    tracer.withSpan('root', () => {
      tracer.startSpan('ai.generateText', { instrumentationScope: scope }).end();
    });
    const [trace] = await exporter.waitFor(1);
    const root = trace.spans.find((s) => s.name === 'root');
    const lib = trace.spans.find((s) => s.name === 'ai.generateText');
    expect(root?.instrumentationScope).toBeUndefined();
    expect(lib?.instrumentationScope).toEqual(scope);
    expect(JSON.parse(JSON.stringify(lib)).instrumentationScope).toEqual(scope);
    expect('instrumentationScope' in JSON.parse(JSON.stringify(root))).toBe(false);
  });

  it('is in the snapshot of a span exported while still open', async () => {
    const scope = { name: '@opentelemetry/instrumentation-dns', version: '0.66.0' };
    const root = tracer.startSpan('root');
    const open = tracer.startSpan('dns.lookup', { instrumentationScope: scope, parent: root });
    root.end();
    const [trace] = await exporter.waitFor(1);
    const snap = trace.spans.find((s) => s.name === 'dns.lookup');
    expect(trace.incomplete).toBe(true);
    expect(snap?.ended).toBe(false);
    expect(snap?.instrumentationScope).toEqual(scope);
    open.end();
  });

  it('follows a span started under another tracer\'s span (module-level startSpan)', async () => {
    const scope = { name: 'lib' };
    const root = tracer.startSpan('root');
    startSpan('child', { parent: root, instrumentationScope: scope }).end();
    root.end();
    await exporter.waitFor(1);
    const child = exporter.spans().find((s) => s.name === 'child' && s.traceId === root.spanContext().traceId);
    expect(child?.instrumentationScope).toBe(scope);
  });

  it('is ignored when it is not a scope exporters can write', async () => {
    const bad = [{ name: '' }, { name: 3 }, { name: 'x', version: 1 }, { name: 'x', schemaUrl: {} }, null, 'ai'];
    const root = tracer.startSpan('root');
    for (const scope of bad) tracer.startSpan('s', { instrumentationScope: scope as unknown as InstrumentationScope, parent: root }).end();
    root.end();
    await exporter.waitFor(1);
    const spans = exporter.spans().filter((s) => s.traceId === root.spanContext().traceId);
    expect(spans).toHaveLength(bad.length + 1);
    for (const s of spans) expect(s.instrumentationScope).toBeUndefined();
  });

  it('is checked on every span unless frozen: a scope changed after its first span is ignored from then on', async () => {
    const frozen = Object.freeze({ name: 'frozen-lib', version: '1.0.0' });
    const mutable: { name: unknown } = { name: 'mutable-lib' };
    const root = tracer.startSpan('root');
    tracer.startSpan('f1', { instrumentationScope: frozen, parent: root }).end();
    tracer.startSpan('m1', { instrumentationScope: mutable as InstrumentationScope, parent: root }).end();
    mutable.name = 42;
    tracer.startSpan('m2', { instrumentationScope: mutable as InstrumentationScope, parent: root }).end();
    tracer.startSpan('f2', { instrumentationScope: frozen, parent: root }).end();
    root.end();
    await exporter.waitFor(1);
    const byName = new Map(exporter.spans().filter((s) => s.traceId === root.spanContext().traceId).map((s) => [s.name, s]));
    expect(byName.get('f1')?.instrumentationScope).toBe(frozen);
    expect(byName.get('f2')?.instrumentationScope).toBe(frozen);
    expect(byName.get('m1')?.instrumentationScope).toBe(mutable);
    expect(byName.get('m2')?.instrumentationScope).toBeUndefined();
  });
});
