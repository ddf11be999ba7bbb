/**
 * Readers for OTLP/HTTP metrics requests (`ExportMetricsServiceRequest`,
 * opentelemetry/proto/collector/metrics/v1/metrics_service.proto and metrics/v1/metrics.proto):
 * protobuf with the trace reader's primitives, and the JSON mapping. Sums, gauges and explicit-bucket
 * histograms are read; exponential histograms and summaries are skipped (counted by the store as
 * not shown). The tests check both against payloads the OpenTelemetry SDK's exporters encode.
 */
import type { Attributes } from '@tracewire/core';
import { epochMsFromNanoParts } from './model';
import { I64, LEN, Reader, VARINT, readAttribute, readResource } from './protobuf';
import { arr, enumNumber, field, isObj, jsonAttributes, jsonNanos } from './json';

/** One data point: a number (sum, gauge) or an explicit-bucket histogram; times in epoch ms. */
export interface WirePoint {
  attributes: Attributes;
  start: number;
  time: number;
  value?: number;
  count?: number;
  sum?: number;
  min?: number;
  max?: number;
  bucketCounts?: number[];
  bounds?: number[];
}

export interface WireMetric {
  name: string;
  unit: string;
  description: string;
  kind: 'sum' | 'gauge' | 'histogram' | 'other';
  /** AggregationTemporality: 1 delta, 2 cumulative (0 for gauges). */
  temporality: number;
  monotonic: boolean;
  points: WirePoint[];
}

/** The metrics of one resource in one request. */
export interface MetricBatch {
  resource: Attributes;
  metrics: WireMetric[];
}

function fixed64Number(r: Reader): number {
  const [low, high] = r.fixed64();
  return high * 4294967296 + low;
}

/** A packed (LEN) or single (I64) repeated fixed64 / double field. */
function repeated8(r: Reader, wt: number, read: (r: Reader) => number, into: number[]): void {
  if (wt === LEN) {
    const sub = r.sub();
    while (!sub.done()) into.push(read(sub));
  } else if (wt === I64) into.push(read(r));
  else r.skip(wt);
}

function readNumberPoint(r: Reader): WirePoint {
  const p: WirePoint = { attributes: {}, start: 0, time: 0 };
  while (!r.done()) {
    const [f, wt] = r.tag();
    if (f === 7 && wt === LEN) readAttribute(r.sub(), p.attributes);
    else if (f === 2 && wt === I64) p.start = epochMsFromNanoParts(...r.fixed64());
    else if (f === 3 && wt === I64) p.time = epochMsFromNanoParts(...r.fixed64());
    else if (f === 4 && wt === I64) p.value = r.double();
    else if (f === 6 && wt === I64) {
      // sfixed64
      const [low, high] = r.fixed64();
      p.value = (high | 0) * 4294967296 + low;
    } else r.skip(wt);
  }
  return p;
}

function readHistogramPoint(r: Reader): WirePoint {
  const p: WirePoint = { attributes: {}, start: 0, time: 0, count: 0, bucketCounts: [], bounds: [] };
  while (!r.done()) {
    const [f, wt] = r.tag();
    if (f === 9 && wt === LEN) readAttribute(r.sub(), p.attributes);
    else if (f === 2 && wt === I64) p.start = epochMsFromNanoParts(...r.fixed64());
    else if (f === 3 && wt === I64) p.time = epochMsFromNanoParts(...r.fixed64());
    else if (f === 4 && wt === I64) p.count = fixed64Number(r);
    else if (f === 5 && wt === I64) p.sum = r.double();
    else if (f === 6) repeated8(r, wt, fixed64Number, p.bucketCounts!);
    else if (f === 7) repeated8(r, wt, (x) => x.double(), p.bounds!);
    else if (f === 11 && wt === I64) p.min = r.double();
    else if (f === 12 && wt === I64) p.max = r.double();
    else r.skip(wt);
  }
  return p;
}

/** Gauge (points only), Sum (points, temporality, monotonic) and Histogram (points, temporality). */
function readData(r: Reader, m: WireMetric, histogram: boolean): void {
  while (!r.done()) {
    const [f, wt] = r.tag();
    if (f === 1 && wt === LEN) m.points.push(histogram ? readHistogramPoint(r.sub()) : readNumberPoint(r.sub()));
    else if (f === 2 && wt === VARINT) m.temporality = r.uint32();
    else if (f === 3 && wt === VARINT) m.monotonic = r.bool();
    else r.skip(wt);
  }
}

function readMetric(r: Reader): WireMetric {
  const m: WireMetric = { name: '', unit: '', description: '', kind: 'other', temporality: 0, monotonic: false, points: [] };
  while (!r.done()) {
    const [f, wt] = r.tag();
    if (f === 1 && wt === LEN) m.name = r.string();
    else if (f === 2 && wt === LEN) m.description = r.string();
    else if (f === 3 && wt === LEN) m.unit = r.string();
    else if (f === 5 && wt === LEN) {
      m.kind = 'gauge';
      readData(r.sub(), m, false);
    } else if (f === 7 && wt === LEN) {
      m.kind = 'sum';
      readData(r.sub(), m, false);
    } else if (f === 9 && wt === LEN) {
      m.kind = 'histogram';
      readData(r.sub(), m, true);
    } else r.skip(wt);
  }
  return m;
}

/** Decodes an `ExportMetricsServiceRequest`; throws ProtobufError for a malformed body. */
export function decodeMetricsRequestProtobuf(body: Uint8Array): MetricBatch[] {
  const out: MetricBatch[] = [];
  const top = new Reader(body, 0, body.length);
  while (!top.done()) {
    const [f, wt] = top.tag();
    if (f !== 1 || wt !== LEN) {
      top.skip(wt);
      continue;
    }
    const rm = top.sub();
    const batch: MetricBatch = { resource: {}, metrics: [] };
    while (!rm.done()) {
      const [g, wt2] = rm.tag();
      if (g === 1 && wt2 === LEN) batch.resource = readResource(rm.sub());
      else if (g === 2 && wt2 === LEN) {
        const sm = rm.sub();
        while (!sm.done()) {
          const [h, wt3] = sm.tag();
          if (h === 2 && wt3 === LEN) batch.metrics.push(readMetric(sm.sub()));
          else sm.skip(wt3);
        }
      } else rm.skip(wt2);
    }
    out.push(batch);
  }
  return out;
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

function jsonPoint(p: Record<string, unknown>, histogram: boolean): WirePoint {
  const point: WirePoint = { attributes: jsonAttributes(p.attributes), start: jsonNanos(field(p as never, 'startTimeUnixNano')), time: jsonNanos(field(p as never, 'timeUnixNano')) };
  if (histogram) {
    point.count = num(p.count) ?? 0;
    const sum = num(p.sum);
    if (sum !== undefined) point.sum = sum;
    const min = num(p.min);
    if (min !== undefined) point.min = min;
    const max = num(p.max);
    if (max !== undefined) point.max = max;
    point.bucketCounts = arr(field(p as never, 'bucketCounts')).map((x) => num(x) ?? 0);
    point.bounds = arr(field(p as never, 'explicitBounds')).map((x) => num(x) ?? 0);
  } else {
    const v = num(field(p as never, 'asDouble')) ?? num(field(p as never, 'asInt'));
    if (v !== undefined) point.value = v;
  }
  return point;
}

const TEMPORALITY_NAMES = ['AGGREGATION_TEMPORALITY_UNSPECIFIED', 'AGGREGATION_TEMPORALITY_DELTA', 'AGGREGATION_TEMPORALITY_CUMULATIVE'];

/** Decodes an OTLP/JSON metrics request; what is not shaped like one is skipped. */
export function decodeMetricsRequestJson(value: unknown): MetricBatch[] {
  const out: MetricBatch[] = [];
  if (!isObj(value)) return out;
  for (const rm of arr(field(value, 'resourceMetrics'))) {
    if (!isObj(rm)) continue;
    const resource = isObj(rm.resource) ? jsonAttributes(rm.resource.attributes) : {};
    const batch: MetricBatch = { resource, metrics: [] };
    for (const sm of arr(field(rm, 'scopeMetrics'))) {
      if (!isObj(sm)) continue;
      for (const m of arr(sm.metrics)) {
        if (!isObj(m) || typeof m.name !== 'string') continue;
        const metric: WireMetric = { name: m.name, unit: typeof m.unit === 'string' ? m.unit : '', description: typeof m.description === 'string' ? m.description : '', kind: 'other', temporality: 0, monotonic: false, points: [] };
        const data = isObj(m.histogram) ? m.histogram : isObj(m.sum) ? m.sum : isObj(m.gauge) ? m.gauge : undefined;
        if (data !== undefined) {
          metric.kind = data === m.histogram ? 'histogram' : data === m.sum ? 'sum' : 'gauge';
          metric.temporality = enumNumber(field(data, 'aggregationTemporality'), TEMPORALITY_NAMES);
          metric.monotonic = field(data, 'isMonotonic') === true;
          for (const p of arr(field(data, 'dataPoints'))) if (isObj(p)) metric.points.push(jsonPoint(p, metric.kind === 'histogram'));
        }
        batch.metrics.push(metric);
      }
    }
    out.push(batch);
  }
  return out;
}
