/**
 * Tracewire's own health as metrics: the counters of `tracer.stats()`, read when the metrics are
 * collected (OpenTelemetry observable instruments, one batch callback), summed over the tracers
 * attached to the pipeline. Drop reasons and exporter names are the `error.type` and
 * `otel.component.name` attributes, as in the OpenTelemetry SDK's own self-observability metrics.
 */
import type { Meter } from '@opentelemetry/api';
import type { Tracer } from '@tracewire/core';

/** Registers the health instruments on `meter`; `tracers()` is read at each collection. */
export function registerHealth(meter: Meter, tracers: () => readonly Tracer[]): void {
  const live = meter.createObservableUpDownCounter('tracewire.traces.live', { unit: '{trace}', description: 'Local traces still open in the trace store.' });
  const started = meter.createObservableCounter('tracewire.traces.started', { unit: '{trace}', description: 'Local traces started (sampled requests and root spans).' });
  const exportedTraces = meter.createObservableCounter('tracewire.traces.exported', { unit: '{trace}', description: 'Finished traces (and late fragments) handed to the exporters.' });
  const exportedSpans = meter.createObservableCounter('tracewire.spans.exported', { unit: '{span}', description: 'Spans handed to the exporters.' });
  const dropped = meter.createObservableCounter('tracewire.dropped', {
    unit: '{item}',
    description: 'What did not reach an exporter, by reason (error.type): traces, or spans for spans_per_trace_cap.',
  });
  const exportErrors = meter.createObservableCounter('tracewire.export.errors', { unit: '{export}', description: 'Export batches that failed or timed out, by exporter (otel.component.name).' });
  meter.addBatchObservableCallback(
    (result) => {
      let liveTraces = 0;
      let startedTraces = 0;
      let traces = 0;
      let spans = 0;
      const reasons = new Map<string, number>();
      const failed = new Map<string, number>();
      for (const tracer of tracers()) {
        let stats;
        try {
          stats = tracer.stats();
        } catch {
          continue; // a tracer-like object whose stats() fails: the others still count
        }
        liveTraces += stats.liveTraces;
        startedTraces += stats.startedTraces;
        traces += stats.exportedTraces;
        spans += stats.exportedSpans;
        for (const reason in stats.dropped) reasons.set(reason, (reasons.get(reason) ?? 0) + stats.dropped[reason]);
        for (const name in stats.exporters) failed.set(name, (failed.get(name) ?? 0) + stats.exporters[name].failed);
      }
      result.observe(live, liveTraces);
      result.observe(started, startedTraces);
      result.observe(exportedTraces, traces);
      result.observe(exportedSpans, spans);
      for (const [reason, n] of reasons) result.observe(dropped, n, { 'error.type': reason });
      for (const [name, n] of failed) result.observe(exportErrors, n, { 'otel.component.name': name });
    },
    [live, started, exportedTraces, exportedSpans, dropped, exportErrors],
  );
}
