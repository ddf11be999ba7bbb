/**
 * Metrics in the viewer (issue #18): `POST /v1/metrics` (OTLP/HTTP, protobuf or JSON, what
 * `@tracewire/metrics` or any OpenTelemetry SDK sends) into a bounded store of the latest value of
 * each series, and `GET /api/metrics`: requests per service and route (count, errors, p50/p95 from
 * the `http.server.request.duration` histogram) and LLM calls per model (calls, errors, tokens,
 * cost, time to first chunk) — every request, not only the sampled traces the list shows.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import zlib from 'node:zlib';
import type { Attributes } from '@tracewire/core';
import { decodeMetricsRequestJson, decodeMetricsRequestProtobuf } from './otlp/metrics';
import type { MetricBatch, WireMetric, WirePoint } from './otlp/metrics';
import { ProtobufError } from './otlp/protobuf';
import { serviceOf } from './store';

/** Series kept at most (each metric × attribute set × service); the oldest is evicted first. */
export const MAX_SERIES = 20000;

interface Series {
  service: string;
  name: string;
  kind: WireMetric['kind'];
  attributes: Attributes;
  /** Cumulative totals: the latest cumulative point, or delta points added up. */
  count: number;
  sum: number;
  value: number;
  bucketCounts: number[];
  bounds: number[];
  time: number;
}

/** Requests of one service and route, over every request the service measured. */
export interface RouteMetrics {
  service: string;
  /** `http.route`, or null for requests no route matched. */
  route: string | null;
  requests: number;
  errors: number;
  /** Seconds, estimated from the histogram's buckets (linear within a bucket, as PromQL's histogram_quantile). */
  p50: number | null;
  p95: number | null;
}

/** LLM calls of one service and model. */
export interface ModelMetrics {
  service: string;
  model: string;
  provider: string | null;
  calls: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cost: number;
  /** Median time to first chunk of the streamed calls, seconds. */
  ttfcP50: number | null;
  /** Token streams this service served itself with this model (gen_ai.server.request.duration). */
  served: number;
}

/** `GET /api/metrics`. */
export interface MetricsView {
  routes: RouteMetrics[];
  models: ModelMetrics[];
  /** Series held, requests received and refused, series evicted. */
  stats: { series: number; requests: number; rejectedRequests: number; evicted: number; time: number | null };
}

function keyOf(service: string, name: string, attributes: Attributes): string {
  const keys = Object.keys(attributes).sort();
  return JSON.stringify([service, name, ...keys.map((k) => [k, attributes[k]])]);
}

/** Bounded store of the latest value of every series received. */
export class MetricStore {
  private readonly series = new Map<string, Series>();
  requests = 0;
  rejectedRequests = 0;
  evicted = 0;
  private latest: number | null = null;

  constructor(private readonly maxSeries = MAX_SERIES) {}

  add(batches: MetricBatch[]): void {
    this.requests++;
    for (const b of batches) {
      const service = serviceOf(b.resource);
      for (const m of b.metrics) {
        if (m.kind === 'other' || m.name === '') continue;
        for (const p of m.points) this.point(service, m, p);
      }
    }
  }

  private point(service: string, m: WireMetric, p: WirePoint): void {
    const key = keyOf(service, m.name, p.attributes);
    let s = this.series.get(key);
    if (s === undefined) {
      if (this.series.size >= this.maxSeries) {
        this.series.delete(this.series.keys().next().value as string);
        this.evicted++;
      }
      s = { service, name: m.name, kind: m.kind, attributes: p.attributes, count: 0, sum: 0, value: 0, bucketCounts: [], bounds: [], time: 0 };
      this.series.set(key, s);
    }
    const delta = m.temporality === 1;
    if (!delta && p.time < s.time) return; // an older cumulative point than the one held
    if (m.kind === 'histogram') {
      const counts = p.bucketCounts ?? [];
      if (delta && sameBounds(s.bounds, p.bounds ?? [])) {
        s.count += p.count ?? 0;
        s.sum += p.sum ?? 0;
        s.bucketCounts = counts.map((c, i) => c + (s!.bucketCounts[i] ?? 0));
      } else {
        s.count = p.count ?? 0;
        s.sum = p.sum ?? 0;
        s.bucketCounts = counts.slice();
      }
      s.bounds = (p.bounds ?? []).slice();
    } else if (delta && m.kind === 'sum') s.value += p.value ?? 0;
    else s.value = p.value ?? 0;
    s.time = Math.max(s.time, p.time);
    if (this.latest === null || s.time > this.latest) this.latest = s.time;
  }

  /** The dashboard: routes and models, busiest first. */
  view(): MetricsView {
    const routes = new Map<string, RouteMetrics & { counts: number[]; bounds: number[] }>();
    const models = new Map<string, ModelMetrics & { ttfc: number[]; ttfcBounds: number[] }>();
    const model = (s: Series): ModelMetrics & { ttfc: number[]; ttfcBounds: number[] } => {
      const name = str(s.attributes['gen_ai.request.model']) ?? str(s.attributes['gen_ai.response.model']) ?? '(unknown)';
      const key = JSON.stringify([s.service, name]);
      let m = models.get(key);
      if (m === undefined) {
        m = { service: s.service, model: name, provider: str(s.attributes['gen_ai.provider.name']) ?? null, calls: 0, errors: 0, inputTokens: 0, outputTokens: 0, cost: 0, ttfcP50: null, served: 0, ttfc: [], ttfcBounds: [] };
        models.set(key, m);
      }
      return m;
    };
    for (const s of this.series.values()) {
      switch (s.name) {
        case 'http.server.request.duration': {
          const route = str(s.attributes['http.route']) ?? null;
          const key = JSON.stringify([s.service, route]);
          let r = routes.get(key);
          if (r === undefined) {
            r = { service: s.service, route, requests: 0, errors: 0, p50: null, p95: null, counts: [], bounds: s.bounds };
            routes.set(key, r);
          }
          r.requests += s.count;
          if (s.attributes['error.type'] !== undefined) r.errors += s.count;
          if (sameBounds(r.bounds, s.bounds)) r.counts = s.bucketCounts.map((c, i) => c + (r!.counts[i] ?? 0));
          break;
        }
        case 'gen_ai.client.operation.duration': {
          const m = model(s);
          m.calls += s.count;
          if (s.attributes['error.type'] !== undefined) m.errors += s.count;
          break;
        }
        case 'gen_ai.client.token.usage': {
          const m = model(s);
          if (s.attributes['gen_ai.token.type'] === 'input') m.inputTokens += s.sum;
          else if (s.attributes['gen_ai.token.type'] === 'output') m.outputTokens += s.sum;
          break;
        }
        case 'tracewire.usage.cost':
          model(s).cost += s.value;
          break;
        case 'gen_ai.client.operation.time_to_first_chunk': {
          const m = model(s);
          if (m.ttfcBounds.length === 0) m.ttfcBounds = s.bounds;
          if (sameBounds(m.ttfcBounds, s.bounds)) m.ttfc = s.bucketCounts.map((c, i) => c + (m.ttfc[i] ?? 0));
          break;
        }
        case 'gen_ai.server.request.duration':
          model(s).served += s.count;
          break;
        default:
      }
    }
    const routeList = [...routes.values()].map(({ counts, bounds, ...r }) => ({ ...r, p50: quantile(0.5, bounds, counts), p95: quantile(0.95, bounds, counts) }));
    const modelList = [...models.values()].map(({ ttfc, ttfcBounds, ...m }) => ({ ...m, cost: Math.round(m.cost * 1e10) / 1e10, ttfcP50: quantile(0.5, ttfcBounds, ttfc) }));
    routeList.sort((a, b) => b.requests - a.requests || a.service.localeCompare(b.service));
    modelList.sort((a, b) => b.calls + b.served - (a.calls + a.served) || a.model.localeCompare(b.model));
    return {
      routes: routeList,
      models: modelList,
      stats: { series: this.series.size, requests: this.requests, rejectedRequests: this.rejectedRequests, evicted: this.evicted, time: this.latest },
    };
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function sameBounds(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * The q-quantile of a histogram (bucket i holds values up to bounds[i]; the last one the rest),
 * linear within the bucket as Prometheus' histogram_quantile; the highest bound for the last one.
 */
export function quantile(q: number, bounds: number[], counts: number[]): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0 || counts.length !== bounds.length + 1) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    if (seen + counts[i] >= rank && counts[i] > 0) {
      if (i === bounds.length) return bounds.length > 0 ? bounds[bounds.length - 1] : null;
      const lower = i === 0 ? 0 : bounds[i - 1];
      return lower + (bounds[i] - lower) * ((rank - seen) / counts[i]);
    }
    seen += counts[i];
  }
  return bounds.length > 0 ? bounds[bounds.length - 1] : null;
}

function encodingOf(contentType: string | undefined): 'protobuf' | 'json' | undefined {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  return undefined;
}

function reply(res: ServerResponse, status: number, encoding: 'protobuf' | 'json', message?: string): void {
  if (res.headersSent || res.destroyed) return;
  // An empty ExportMetricsServiceResponse is an empty message in protobuf and `{}` in JSON.
  const body = status === 200 ? (encoding === 'protobuf' ? Buffer.alloc(0) : '{}') : JSON.stringify({ code: 3, message: message ?? '' });
  res.writeHead(status, { 'content-type': status === 200 && encoding === 'protobuf' ? 'application/x-protobuf' : 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Handles `POST /v1/metrics`. Never throws; a refused request is counted. */
export function receiveMetrics(req: IncomingMessage, res: ServerResponse, store: MetricStore, maxBodyBytes: number): void {
  const encoding = encodingOf(req.headers['content-type']);
  if (encoding === undefined) {
    store.rejectedRequests++;
    req.resume();
    reply(res, 415, 'json', 'content-type must be application/x-protobuf or application/json');
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let refused = false;
  req.on('data', (c: Buffer) => {
    if (refused) return;
    size += c.length;
    if (size > maxBodyBytes) {
      refused = true;
      store.rejectedRequests++;
      reply(res, 413, encoding, `request body is over the limit of ${maxBodyBytes} bytes`);
      res.once('finish', () => req.destroy());
    } else chunks.push(c);
  });
  req.on('error', () => {
    refused = true;
  });
  req.on('end', () => {
    if (refused) return;
    try {
      let body = Buffer.concat(chunks);
      const enc = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
      if (enc === 'gzip' || enc === 'x-gzip') body = zlib.gunzipSync(body, { maxOutputLength: maxBodyBytes });
      else if (enc === 'deflate') body = zlib.inflateSync(body, { maxOutputLength: maxBodyBytes });
      else if (enc !== 'identity' && enc !== '') throw new Error(`content-encoding "${enc}" is not supported`);
      const batches = encoding === 'protobuf' ? decodeMetricsRequestProtobuf(body) : decodeMetricsRequestJson(JSON.parse(body.toString('utf8')));
      store.add(batches);
      reply(res, 200, encoding);
    } catch (err) {
      store.rejectedRequests++;
      reply(res, 400, encoding, `not an OTLP metrics request: ${err instanceof ProtobufError || err instanceof Error ? err.message : String(err)}`);
    }
  });
}
