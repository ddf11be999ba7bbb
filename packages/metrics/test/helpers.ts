/**
 * Test helpers: a real OTLP/HTTP metrics receiver (protobuf decoded by protobufjs over the official
 * opentelemetry-proto files in fixtures/, JSON checked field by field against the same message
 * types), a Prometheus scrape read by parse-prometheus-text-format, and a model server replaying
 * the recorded LLM streams.
 */
import http from 'node:http';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as protobuf from 'protobufjs';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { listen } from '../../../test-utils/http';
import type { Listening } from '../../../test-utils/http';

const PROTO_DIR = join(__dirname, 'fixtures', 'opentelemetry-proto');

function loadRoot(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(PROTO_DIR, target.replace(/^.*?opentelemetry\/proto\//, 'opentelemetry/proto/'));
  root.loadSync(['opentelemetry/proto/collector/metrics/v1/metrics_service.proto'], { keepCase: false });
  root.resolveAll();
  return root;
}

const root = loadRoot();
const RequestType = root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest');
const ResponseType = root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse');

/** A decoded ExportMetricsServiceRequest: 64-bit ints as decimal strings, enums as numbers. */
export type MetricsRequest = Record<string, any>;

function canonical(message: protobuf.Message): MetricsRequest {
  return RequestType.toObject(message, { longs: String, enums: Number, bytes: String, defaults: false, arrays: true, json: true });
}

/** Fails on a JSON key that is not a field of its message, so a misspelt OTLP/JSON field cannot pass. */
function checkKnownFields(type: protobuf.Type, obj: unknown, path: string): void {
  if (!obj || typeof obj !== 'object') throw new Error(`${path}: expected an object for ${type.name}`);
  for (const [key, value] of Object.entries(obj)) {
    const field = type.fields[key] ?? Object.values(type.fields).find((f) => f.name === key);
    if (!field) throw new Error(`${path}.${key}: not a field of ${type.fullName}`);
    const resolved = field.resolve().resolvedType;
    if (resolved instanceof protobuf.Type) {
      if (field.repeated) {
        if (!Array.isArray(value)) throw new Error(`${path}.${key}: expected an array`);
        value.forEach((v, i) => checkKnownFields(resolved, v, `${path}.${key}[${i}]`));
      } else checkKnownFields(resolved, value, `${path}.${key}`);
    } else if (resolved instanceof protobuf.Enum) {
      if (typeof value !== 'number') throw new Error(`${path}.${key}: OTLP/JSON enums are integers, got ${JSON.stringify(value)}`);
    } else if (['int64', 'uint64', 'fixed64', 'sfixed64', 'sint64'].includes(field.type)) {
      // The proto3 JSON mapping writes 64-bit ints as decimal strings and reads numbers too; a
      // number is only exact as a safe integer (nanosecond timestamps are not).
      for (const v of field.repeated && Array.isArray(value) ? value : [value]) {
        if (!(typeof v === 'string' ? /^-?\d+$/.test(v) : Number.isSafeInteger(v))) throw new Error(`${path}.${key}: not an exact 64-bit integer: ${JSON.stringify(v)}`);
      }
    }
  }
}

export interface OtlpReceiver extends Listening {
  /** Every request received, decoded, with the content type it came with. */
  requests: Array<{ contentType: string; body: MetricsRequest }>;
  /** Resolves with the requests once `n` have arrived. */
  waitFor(n: number, ms?: number): Promise<Array<{ contentType: string; body: MetricsRequest }>>;
}

/** An OTLP/HTTP metrics receiver on 127.0.0.1:0 (`/v1/metrics`). */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const requests: OtlpReceiver['requests'] = [];
  const errors: unknown[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        if (req.url !== '/v1/metrics' || req.method !== 'POST') throw new Error(`unexpected ${req.method} ${req.url}`);
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        const contentType = String(req.headers['content-type'] ?? '');
        if (contentType.startsWith('application/x-protobuf')) {
          requests.push({ contentType, body: canonical(RequestType.decode(body)) });
          res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(ResponseType.encode(ResponseType.create({})).finish());
        } else if (contentType.startsWith('application/json')) {
          const json = JSON.parse(body.toString('utf8'));
          checkKnownFields(RequestType, json, 'request');
          requests.push({ contentType, body: canonical(RequestType.fromObject(json)) });
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } else throw new Error(`unexpected content-type ${contentType}`);
      } catch (err) {
        errors.push(err);
        res.writeHead(400).end(String(err));
      }
    });
  });
  const l = await listen(server);
  return {
    ...l,
    requests,
    async waitFor(n, ms = 10000) {
      const end = Date.now() + ms;
      while (requests.length < n) {
        if (Date.now() > end) throw new Error(`OTLP receiver: ${requests.length} of ${n} requests${errors.length > 0 ? `; refused: ${errors.map(String).join('; ')}` : ''}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return requests;
    },
  };
}

type AnyValue = { stringValue?: string; intValue?: string; doubleValue?: number; boolValue?: boolean };
function anyValue(v: AnyValue): string | number | boolean {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  throw new Error(`unexpected attribute value ${JSON.stringify(v)}`);
}

/** One data point of an OTLP metric, flattened. */
export interface OtlpPoint {
  attributes: Record<string, string | number | boolean>;
  count?: number;
  sum?: number;
  min?: number;
  max?: number;
  bucketCounts?: number[];
  explicitBounds?: number[];
  value?: number;
  startTimeUnixNano: string;
  timeUnixNano: string;
}

/** An OTLP metric by name: its unit, kind, temporality and points. */
export interface OtlpMetric {
  name: string;
  unit: string;
  kind: 'histogram' | 'sum' | 'gauge';
  temporality?: number;
  monotonic?: boolean;
  points: OtlpPoint[];
  scope: string;
}

/** Every metric of a decoded request by name (two metrics of one name in a request fail the test). */
export function metricsOf(request: MetricsRequest): Map<string, OtlpMetric> {
  const out = new Map<string, OtlpMetric>();
  for (const rm of request.resourceMetrics ?? []) {
    for (const sm of rm.scopeMetrics ?? []) {
      for (const m of sm.metrics ?? []) {
        if (out.has(m.name)) throw new Error(`metric ${m.name} appears twice`);
        const attrs = (list: Array<{ key: string; value: AnyValue }> | undefined) => Object.fromEntries((list ?? []).map((a) => [a.key, anyValue(a.value)]));
        let metric: OtlpMetric;
        if (m.histogram) {
          metric = {
            name: m.name,
            unit: m.unit ?? '',
            kind: 'histogram',
            temporality: m.histogram.aggregationTemporality,
            scope: sm.scope?.name,
            points: m.histogram.dataPoints.map((p: any) => ({
              attributes: attrs(p.attributes),
              count: Number(p.count ?? 0),
              sum: p.sum,
              min: p.min,
              max: p.max,
              bucketCounts: (p.bucketCounts ?? []).map(Number),
              explicitBounds: p.explicitBounds ?? [],
              startTimeUnixNano: p.startTimeUnixNano,
              timeUnixNano: p.timeUnixNano,
            })),
          };
        } else if (m.sum || m.gauge) {
          const data = m.sum ?? m.gauge;
          metric = {
            name: m.name,
            unit: m.unit ?? '',
            kind: m.sum ? 'sum' : 'gauge',
            temporality: m.sum?.aggregationTemporality,
            monotonic: m.sum?.isMonotonic ?? false,
            scope: sm.scope?.name,
            points: data.dataPoints.map((p: any) => ({
              attributes: attrs(p.attributes),
              value: p.asDouble !== undefined ? p.asDouble : Number(p.asInt ?? 0),
              startTimeUnixNano: p.startTimeUnixNano,
              timeUnixNano: p.timeUnixNano,
            })),
          };
        } else throw new Error(`unexpected metric kind in ${m.name}`);
        out.set(m.name, metric);
      }
    }
  }
  return out;
}

/** The resource attributes of a decoded request. */
export function resourceOf(request: MetricsRequest): Record<string, string | number | boolean> {
  const list = request.resourceMetrics?.[0]?.resource?.attributes ?? [];
  return Object.fromEntries(list.map((a: { key: string; value: AnyValue }) => [a.key, anyValue(a.value)]));
}

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** A Prometheus scrape: metric families (name → type, help) and every sample by name. */
export interface Scrape {
  types: Map<string, string>;
  samples: Map<string, Sample[]>;
  text: string;
}

/**
 * Scrapes `url` and reads the text exposition with parse-prometheus-text-format. Its histogram
 * grouping keeps one series per family (flattenMetrics), so families are read once as typed (the
 * types) and once untyped, where each `_bucket` / `_sum` / `_count` sample keeps its own labels.
 */
export async function scrape(url: string): Promise<Scrape> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`scrape: HTTP ${res.status}`);
  const text = await res.text();
  const types = new Map<string, string>();
  for (const family of parsePrometheusTextFormat(text)) types.set(family.name, family.type);
  const untyped = text.replace(/^# TYPE (\S+) (histogram|summary)$/gm, '# TYPE $1 untyped');
  const samples = new Map<string, Sample[]>();
  for (const family of parsePrometheusTextFormat(untyped)) {
    // The untyped `_count` / `_sum` / `_bucket` lines of consecutive series come as families of their own.
    const list = samples.get(family.name) ?? [];
    for (const m of family.metrics as Array<{ value: string; labels?: Record<string, string> }>) list.push({ labels: m.labels ?? {}, value: Number(m.value) });
    samples.set(family.name, list);
  }
  return { types, samples, text };
}

/** The one sample of `name` whose labels include `labels` (fails when there is not exactly one). */
export function sampleOf(s: Scrape, name: string, labels: Record<string, string>): number {
  const found = (s.samples.get(name) ?? []).filter((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v) && Object.keys(x.labels).filter((k) => !k.startsWith('otel_scope_') && k !== 'le').length === Object.keys(labels).filter((k) => k !== 'le').length);
  if (found.length !== 1) throw new Error(`${name}${JSON.stringify(labels)}: ${found.length} samples\n${s.text}`);
  return found[0].value;
}

/** Polls `cond` every 5 ms until true (or fails after `ms`). */
export async function waitUntil(cond: () => boolean, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}
