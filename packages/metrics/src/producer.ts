/**
 * Hands the aggregated series (./aggregate.ts) to the OpenTelemetry SDK as a MetricProducer, one
 * per reader: each reader collects through its own, so a Prometheus scrape and the OTLP export
 * never disturb each other, and each gets the temporality it selects — cumulative (Prometheus, the
 * OTLP default) or delta (`OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta`), computed
 * here from the cumulative series: what changed since this reader's last collection. Delta points
 * carry no min/max (they are not known per interval without per-reader work on every measurement).
 */
import { ValueType } from '@opentelemetry/api';
import type { HrTime } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, InstrumentType } from '@opentelemetry/sdk-metrics';
import type { CollectionResult, DataPoint, MetricData, MetricProducer } from '@opentelemetry/sdk-metrics';
import type { Resource } from '@opentelemetry/resources';
import { SDK_VERSION } from '@tracewire/core';
import type { Histogram, HistogramSeries, Sum, SumSeries } from './aggregate';

/** The instrumentation scope of every metric this package records. */
export const SCOPE = Object.freeze({ name: '@tracewire/metrics', version: SDK_VERSION });

/** The instruments a producer reports. */
export interface Registry {
  histograms: readonly Histogram[];
  sums: readonly Sum[];
}

/** What decides a producer's temporality: its reader (`MetricReader#selectAggregationTemporality`). */
export interface TemporalitySource {
  selectAggregationTemporality(instrumentType: InstrumentType): AggregationTemporality;
}

type HistogramValue = { buckets: { boundaries: number[]; counts: number[] }; sum: number; count: number; min?: number; max?: number };

function hrTime(ms: number): HrTime {
  const s = Math.floor(ms / 1000);
  return [s, Math.round((ms - s * 1000) * 1e6)];
}

/** A MetricProducer over a registry, for one reader. */
export class TracewireProducer implements MetricProducer {
  private source: TemporalitySource | undefined = undefined;
  /** Delta readers: each series as it was at this reader's last collection. */
  private readonly lastHistograms = new WeakMap<HistogramSeries, { counts: Float64Array; sum: number; count: number; at: number }>();
  private readonly lastSums = new WeakMap<SumSeries, { value: number; at: number }>();

  constructor(
    private readonly registry: Registry,
    private readonly resource: Resource,
  ) {}

  /** The reader this producer serves (its temporality is asked at each collection). */
  bind(source: TemporalitySource): void {
    this.source = source;
  }

  async collect(): Promise<CollectionResult> {
    const errors: unknown[] = [];
    const metrics: MetricData[] = [];
    try {
      const now = Date.now();
      const end = hrTime(now);
      const select = (t: InstrumentType) => (this.source !== undefined ? this.source.selectAggregationTemporality(t) : AggregationTemporality.CUMULATIVE);
      const histogramTemporality = select(InstrumentType.HISTOGRAM);
      const sumTemporality = select(InstrumentType.COUNTER);
      for (const h of this.registry.histograms) {
        const points = histogramTemporality === AggregationTemporality.DELTA ? this.histogramDeltas(h, now, end) : histogramCumulative(h, end);
        if (points.length === 0) continue;
        metrics.push({
          descriptor: { name: h.descriptor.name, description: h.descriptor.description, unit: h.descriptor.unit, valueType: h.descriptor.integer ? ValueType.INT : ValueType.DOUBLE },
          aggregationTemporality: histogramTemporality,
          dataPointType: DataPointType.HISTOGRAM,
          dataPoints: points as DataPoint<HistogramValue>[],
        } as MetricData);
      }
      for (const c of this.registry.sums) {
        const points: DataPoint<number>[] = [];
        for (const s of c.all()) {
          if (sumTemporality === AggregationTemporality.DELTA) {
            const last = this.lastSums.get(s);
            const delta = s.value - (last !== undefined ? last.value : 0);
            if (delta === 0 && last !== undefined) continue;
            points.push({ startTime: hrTime(last !== undefined ? last.at : s.start), endTime: end, attributes: s.attributes, value: delta });
            this.lastSums.set(s, { value: s.value, at: now });
          } else points.push({ startTime: hrTime(s.start), endTime: end, attributes: s.attributes, value: s.value });
        }
        if (points.length === 0) continue;
        metrics.push({
          descriptor: { name: c.descriptor.name, description: c.descriptor.description, unit: c.descriptor.unit, valueType: c.descriptor.integer ? ValueType.INT : ValueType.DOUBLE },
          aggregationTemporality: sumTemporality,
          dataPointType: DataPointType.SUM,
          isMonotonic: true,
          dataPoints: points,
        });
      }
    } catch (err) {
      errors.push(err);
    }
    return { resourceMetrics: { resource: this.resource, scopeMetrics: metrics.length > 0 ? [{ scope: SCOPE, metrics }] : [] }, errors };
  }

  private histogramDeltas(h: Histogram, now: number, end: HrTime): DataPoint<HistogramValue>[] {
    const out: DataPoint<HistogramValue>[] = [];
    for (const s of h.all()) {
      const last = this.lastHistograms.get(s);
      const count = s.count - (last !== undefined ? last.count : 0);
      if (count === 0) continue;
      const counts = new Array<number>(s.counts.length);
      for (let i = 0; i < counts.length; i++) counts[i] = s.counts[i] - (last !== undefined ? last.counts[i] : 0);
      out.push({
        startTime: hrTime(last !== undefined ? last.at : s.start),
        endTime: end,
        attributes: s.attributes,
        value: { buckets: { boundaries: [...h.boundaries], counts }, sum: s.sum - (last !== undefined ? last.sum : 0), count },
      });
      this.lastHistograms.set(s, { counts: Float64Array.from(s.counts), sum: s.sum, count: s.count, at: now });
    }
    return out;
  }
}

function histogramCumulative(h: Histogram, end: HrTime): DataPoint<HistogramValue>[] {
  const out: DataPoint<HistogramValue>[] = [];
  for (const s of h.all()) {
    if (s.count === 0) continue;
    out.push({
      startTime: hrTime(s.start),
      endTime: end,
      attributes: s.attributes,
      value: { buckets: { boundaries: [...h.boundaries], counts: Array.from(s.counts) }, sum: s.sum, count: s.count, min: s.min, max: s.max },
    });
  }
  return out;
}
