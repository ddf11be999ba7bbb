/**
 * Spans made through the bridge leave with their instrumentation scope: OTLP (protobuf and JSON,
 * decoded with protobufjs over the official protos) writes one ScopeSpans per scope, Zipkin tags
 * each span with its scope, an OpenTelemetry SpanExporter gets each span's own scope, and the
 * viewer shows the scope whichever way the spans reach it.
 */
import { SpanKind, context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { SDK_VERSION, createTracer, getTracer, setGlobalTracer, withSpan } from '@tracewire/core';
import type { Exporter, FinishedTrace } from '@tracewire/core';
import { OTLPTraceExporter, fromOpenTelemetryExporter, toZipkinSpans } from '@tracewire/otlp';
import { createViewer } from '@tracewire/viewer';
import type { TraceDetail } from '@tracewire/viewer';
import { registerOpenTelemetry } from '../src';
import { startReceiver } from '../../otlp/test/otlp-receiver';

/** Polls the async `fn` until it resolves truthy (3 s at most). */
async function poll<T>(fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('poll: condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const previous = getTracer();
afterAll(() => setGlobalTracer(previous));

/** One trace: a Tracewire root, an `ai` span under it, a dns span (name and version) under that. */
async function recordTrace(exporters: Exporter[]): Promise<{ traceId: string; shutdown: () => Promise<void>; flush: () => Promise<void> }> {
  const tracer = createTracer({ serviceName: 'scoped', exporters, batch: { scheduledDelayMillis: 1 } });
  setGlobalTracer(tracer);
  const unregister = registerOpenTelemetry();
  let traceId = '';
  await withSpan('POST /chat', async (root) => {
    traceId = root.spanContext().traceId;
    await trace.getTracer('ai').startActiveSpan('ai.generateText', async (span) => {
      trace.getTracerProvider().getTracer('@opentelemetry/instrumentation-dns', '0.66.0', { schemaUrl: 'https://opentelemetry.io/schemas/1.27.0' })
        .startSpan('dns.lookup', { kind: SpanKind.CLIENT }, context.active())
        .end();
      span.end();
    });
  }, { kind: 'server' });
  unregister();
  return { traceId, shutdown: () => tracer.shutdown(), flush: () => tracer.forceFlush() };
}

describe('instrumentation scope on export', () => {
  it.each(['http/protobuf', 'http/json'] as const)('OTLP %s: one ScopeSpans per scope, Tracewire\'s own first', async (protocol) => {
    const receiver = await startReceiver();
    try {
      const { traceId, shutdown } = await recordTrace([new OTLPTraceExporter({ url: `${receiver.url}/v1/traces`, protocol })]);
      await shutdown();
      await receiver.waitForSpans(3);
      const scopeSpans = receiver.delivered[0].request.resourceSpans[0].scopeSpans;
      expect(scopeSpans.map((ss: any) => [ss.scope.name, ss.scope.version, ss.schemaUrl, ss.spans.map((s: any) => s.name)])).toEqual([
        ['@tracewire/core', SDK_VERSION, undefined, ['POST /chat']],
        ['ai', undefined, undefined, ['ai.generateText']],
        ['@opentelemetry/instrumentation-dns', '0.66.0', 'https://opentelemetry.io/schemas/1.27.0', ['dns.lookup']],
      ]);
      const spans = receiver.spans();
      const byName = (n: string) => spans.find((s) => s.name === n)!;
      expect(byName('ai.generateText').parentSpanId).toBe(byName('POST /chat').spanId);
      expect(byName('dns.lookup').parentSpanId).toBe(byName('ai.generateText').spanId);
      for (const s of spans) expect(s.traceId).toBe(traceId);
    } finally {
      await receiver.close();
    }
  });

  it('Zipkin: each span tagged with its own scope', async () => {
    const traces: FinishedTrace[] = [];
    const { shutdown } = await recordTrace([{ name: 'collect', export: async (t) => void traces.push(...t) }]);
    await shutdown();
    const tags = Object.fromEntries(toZipkinSpans(traces).map((s) => [s.name, [s.tags['otel.scope.name'], s.tags['otel.scope.version'], s.tags['otel.library.name']]]));
    expect(tags).toEqual({
      'POST /chat': ['@tracewire/core', SDK_VERSION, '@tracewire/core'],
      'ai.generateText': ['ai', undefined, 'ai'],
      'dns.lookup': ['@opentelemetry/instrumentation-dns', '0.66.0', '@opentelemetry/instrumentation-dns'],
    });
  });

  it('an OpenTelemetry SpanExporter (fromOpenTelemetryExporter) gets each span\'s own scope', async () => {
    const otel = new InMemorySpanExporter();
    const { flush, shutdown } = await recordTrace([fromOpenTelemetryExporter(otel)]);
    // Before shutdown: InMemorySpanExporter forgets its spans when shut down.
    await poll(async () => (await flush(), otel.getFinishedSpans().length >= 3 || undefined));
    const scopes = Object.fromEntries(otel.getFinishedSpans().map((s) => [s.name, s.instrumentationScope]));
    await shutdown();
    expect(scopes).toEqual({
      'POST /chat': { name: '@tracewire/core', version: SDK_VERSION },
      'ai.generateText': { name: 'ai' },
      'dns.lookup': { name: '@opentelemetry/instrumentation-dns', version: '0.66.0', schemaUrl: 'https://opentelemetry.io/schemas/1.27.0' },
    });
  });

  it('the viewer shows the scope as otel.scope.* attributes, over OTLP and in process alike', async () => {
    const viewer = await createViewer();
    try {
      const overOtlp = await recordTrace([new OTLPTraceExporter({ url: `${viewer.url}/v1/traces` })]);
      await overOtlp.shutdown();
      const inProcess = await recordTrace([viewer.exporter]);
      await inProcess.shutdown();
      for (const traceId of [overOtlp.traceId, inProcess.traceId]) {
        const detail = await poll(async () => {
          const res = await fetch(`${viewer.url}/api/traces/${traceId}`);
          return res.status === 200 ? ((await res.json()) as TraceDetail) : undefined;
        });
        const shown = Object.fromEntries(detail.spans.map((s) => [s.name, [s.attributes['otel.scope.name'], s.attributes['otel.scope.version'], s.instrumentationScope]]));
        expect(shown['ai.generateText']).toEqual(['ai', undefined, undefined]);
        expect(shown['dns.lookup']).toEqual(['@opentelemetry/instrumentation-dns', '0.66.0', undefined]);
        expect(detail.spans.map((s) => s.service)).toEqual(['scoped', 'scoped', 'scoped']);
      }
    } finally {
      await viewer.close();
    }
  });
});
