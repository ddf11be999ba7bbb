/**
 * @tracewire/metrics — RED and GenAI metrics from every request Tracewire sees, sampled or not,
 * on the OpenTelemetry metrics SDK: OTLP/HTTP (protobuf or JSON), a Prometheus scrape endpoint,
 * the console. `createMetrics({ tracer })`, or `OTEL_METRICS_EXPORTER` with this package installed
 * beside @tracewire/core.
 */
import type { Tracer } from '@tracewire/core';
import { warnOnce } from '@tracewire/core';
import { readMetricsEnv } from './env';
import { createMetrics } from './metrics';
import type { TracewireMetrics } from './metrics';

export { createMetrics } from './metrics';
export type { MetricsOptions, MetricsOtlpOptions, MetricsPrometheusOptions, TracewireMetrics } from './metrics';
export type { MetricsExporterName } from './env';
export { OVERFLOW_ATTRIBUTES, DEFAULT_CARDINALITY_LIMIT } from './aggregate';
export { HTTP_DURATION_BUCKETS, GEN_AI_DURATION_BUCKETS, TOKEN_BUCKETS, SERVER_TTFT_BUCKETS, SERVER_TPOT_BUCKETS } from './instruments';

// One pipeline per process for OTEL_METRICS_EXPORTER, shared by every copy of this package.
const KEY = Symbol.for('tracewire.metrics.environment');
const g = globalThis as unknown as Record<symbol, TracewireMetrics | null | undefined>;

/**
 * What @tracewire/core calls when a tracer is created with `OTEL_METRICS_EXPORTER` set: the
 * process's metrics pipeline, built from the environment on the first call, observes `tracer`.
 * Returns that pipeline (undefined when the variable names no usable exporter).
 */
export function attachFromEnvironment(tracer: Tracer): TracewireMetrics | undefined {
  let metrics = g[KEY];
  if (metrics === undefined) {
    const env = readMetricsEnv();
    if (env.exporters === undefined || env.exporters.length === 0) {
      if (env.exporters !== undefined) g[KEY] = null;
      return undefined;
    }
    try {
      metrics = createMetrics({ tracer, exporters: env.exporters });
    } catch (err) {
      warnOnce('metrics-env-create', `OTEL_METRICS_EXPORTER: metrics could not start (${err instanceof Error ? err.message : String(err)}); no metrics are recorded`);
      g[KEY] = null;
      return undefined;
    }
    g[KEY] = metrics;
    // A process that ends on its own exports what it recorded since the last period.
    const pipeline = metrics;
    process.once('beforeExit', () => void pipeline.shutdown());
    return metrics;
  }
  if (metrics === null) return undefined;
  metrics.attach(tracer);
  return metrics;
}

/** The pipeline `OTEL_METRICS_EXPORTER` started in this process, if any (to flush or shut it down). */
export function environmentMetrics(): TracewireMetrics | undefined {
  return g[KEY] ?? undefined;
}
