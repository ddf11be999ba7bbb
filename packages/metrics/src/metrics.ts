/**
 * `createMetrics()`: one metrics pipeline — the instruments (./instruments.ts) observing one or
 * more tracers, an OpenTelemetry MeterProvider with the tracer's resource, and its readers: OTLP
 * over HTTP (protobuf or JSON, the official exporters) on a period, a Prometheus scrape endpoint,
 * the console, or any MetricReader of yours. Bad options throw a TypeError naming the option.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AggregationTemporalityPreference } from '@opentelemetry/exporter-metrics-otlp-http';
import type { OTLPMetricExporterOptions } from '@opentelemetry/exporter-metrics-otlp-http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ConsoleMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { MetricProducer, MetricReader, PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { getTracer, warnOnce } from '@tracewire/core';
import type { Tracer } from '@tracewire/core';
import { DEFAULT_CARDINALITY_LIMIT } from './aggregate';
import { EXPORTER_NAMES, readMetricsEnv } from './env';
import type { MetricsExporterName } from './env';
import { registerHealth } from './health';
import { Instruments } from './instruments';
import { SCOPE, TracewireProducer } from './producer';

/** OTLP/HTTP export settings; each unset one comes from the `OTEL_EXPORTER_OTLP_*` variables, as for traces. */
export interface MetricsOtlpOptions {
  /** Full URL (default `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/metrics`, else `http://localhost:4318/v1/metrics`). */
  url?: string;
  headers?: Record<string, string>;
  /** `http/protobuf` (default) or `http/json`. */
  protocol?: 'http/protobuf' | 'http/json';
  compression?: 'gzip' | 'none';
  timeoutMillis?: number;
  /** Aggregation temporality asked of histograms and counters: `cumulative` (default) or `delta`. */
  temporality?: 'cumulative' | 'delta';
}

/** The Prometheus scrape endpoint. */
export interface MetricsPrometheusOptions {
  /** Default `OTEL_EXPORTER_PROMETHEUS_HOST`, else `127.0.0.1` (loopback: expose it on purpose). */
  host?: string;
  /** Default `OTEL_EXPORTER_PROMETHEUS_PORT`, else 9464; 0 picks a free port (see `prometheusUrl`). */
  port?: number;
  /** Default `/metrics`. */
  endpoint?: string;
}

export interface MetricsOptions {
  /** The tracer(s) to observe (default: the global tracer, `getTracer()`); more with `attach()`. */
  tracer?: Tracer | Tracer[];
  /** Where metrics go (default `OTEL_METRICS_EXPORTER`, else `['otlp']`). */
  exporters?: MetricsExporterName[];
  otlp?: MetricsOtlpOptions;
  prometheus?: MetricsPrometheusOptions;
  /** Period of the OTLP and console exports (default `OTEL_METRIC_EXPORT_INTERVAL`, else 60000 ms). */
  exportIntervalMillis?: number;
  /** Time one export may take (default `OTEL_METRIC_EXPORT_TIMEOUT`, else 30000 ms; at most the interval). */
  exportTimeoutMillis?: number;
  /** Attribute sets kept per instrument, the overflow set included (default 2000, as the OpenTelemetry SDK). */
  cardinalityLimit?: number;
  /** More readers: each factory gets its own producer of Tracewire's metrics to pass as `metricProducers`. */
  readers?: Array<(producer: MetricProducer) => MetricReader>;
  /** Tracewire's own health from `tracer.stats()` (live traces, exported, dropped by reason, export errors); default true. */
  health?: boolean;
}

/** A running metrics pipeline. */
export interface TracewireMetrics {
  /** The MeterProvider the readers are bound to: the place for your own instruments too (`getMeter()`). */
  readonly meterProvider: MeterProvider;
  /** Resolves once the Prometheus endpoint listens (at once without one); never rejects (a failure is logged). */
  readonly ready: Promise<void>;
  /** `http://host:port/metrics` once listening; undefined before, or without Prometheus. */
  readonly prometheusUrl: string | undefined;
  /** Observes one more tracer; returns the function that stops observing it. */
  attach(tracer: Tracer): () => void;
  /** Exports what the periodic readers hold now. */
  forceFlush(): Promise<void>;
  /** Stops observing, exports a last time, closes the Prometheus endpoint. Idempotent. */
  shutdown(): Promise<void>;
}

const OPTION_KEYS = new Set(['tracer', 'exporters', 'otlp', 'prometheus', 'exportIntervalMillis', 'exportTimeoutMillis', 'cardinalityLimit', 'readers', 'health']);
const MAX_TIMER_MS = 2 ** 31 - 1;

function fail(option: string, expected: string, value: unknown): TypeError {
  let shown: string;
  try {
    shown = typeof value === 'string' ? JSON.stringify(value) : typeof value === 'function' ? 'a function' : JSON.stringify(value) ?? String(value);
  } catch {
    shown = String(value);
  }
  return new TypeError(`tracewire metrics: option "${option}" must be ${expected}, got ${shown}`);
}

function isObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

function checkMillis(value: unknown, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_TIMER_MS) throw fail(option, `an integer number of milliseconds in 1..${MAX_TIMER_MS}`, value);
  return value;
}

function isTracer(x: unknown): x is Tracer {
  return isObject(x) && typeof (x as { addObserver?: unknown }).addObserver === 'function' && typeof (x as { stats?: unknown }).stats === 'function';
}

function checkOptions(o: MetricsOptions): void {
  if (!isObject(o)) throw fail('options', 'an object', o);
  for (const k of Object.keys(o)) if (!OPTION_KEYS.has(k)) throw new TypeError(`tracewire metrics: unknown option "${k}" (known: ${[...OPTION_KEYS].join(', ')})`);
  if (o.tracer !== undefined) {
    const list = Array.isArray(o.tracer) ? o.tracer : [o.tracer];
    list.forEach((t, i) => {
      if (!isTracer(t)) throw fail(Array.isArray(o.tracer) ? `tracer[${i}]` : 'tracer', 'a Tracer from createTracer()', t);
    });
  }
  if (o.exporters !== undefined) {
    if (!Array.isArray(o.exporters) || o.exporters.some((n) => !(EXPORTER_NAMES as readonly string[]).includes(n))) throw fail('exporters', `a list of ${EXPORTER_NAMES.join(', ')}`, o.exporters);
  }
  if (o.otlp !== undefined) {
    if (!isObject(o.otlp)) throw fail('otlp', 'an object', o.otlp);
    const p = o.otlp;
    if (p.url !== undefined) {
      let ok = false;
      try {
        ok = typeof p.url === 'string' && /^https?:$/.test(new URL(p.url).protocol);
      } catch {
        ok = false;
      }
      if (!ok) throw fail('otlp.url', 'an http(s) URL', p.url);
    }
    if (p.headers !== undefined && (!isObject(p.headers) || Object.values(p.headers).some((v) => typeof v !== 'string'))) throw fail('otlp.headers', 'an object of string values', p.headers);
    if (p.protocol !== undefined && p.protocol !== 'http/protobuf' && p.protocol !== 'http/json') throw fail('otlp.protocol', '"http/protobuf" or "http/json"', p.protocol);
    if (p.compression !== undefined && p.compression !== 'gzip' && p.compression !== 'none') throw fail('otlp.compression', '"gzip" or "none"', p.compression);
    if (p.temporality !== undefined && p.temporality !== 'cumulative' && p.temporality !== 'delta') throw fail('otlp.temporality', '"cumulative" or "delta"', p.temporality);
    checkMillis(p.timeoutMillis, 'otlp.timeoutMillis');
  }
  if (o.prometheus !== undefined) {
    if (!isObject(o.prometheus)) throw fail('prometheus', 'an object', o.prometheus);
    const p = o.prometheus;
    if (p.host !== undefined && (typeof p.host !== 'string' || p.host === '')) throw fail('prometheus.host', 'a non-empty string', p.host);
    if (p.port !== undefined && (typeof p.port !== 'number' || !Number.isInteger(p.port) || p.port < 0 || p.port > 65535)) throw fail('prometheus.port', 'an integer in 0..65535', p.port);
    if (p.endpoint !== undefined && (typeof p.endpoint !== 'string' || !p.endpoint.startsWith('/'))) throw fail('prometheus.endpoint', 'a path starting with /', p.endpoint);
  }
  checkMillis(o.exportIntervalMillis, 'exportIntervalMillis');
  checkMillis(o.exportTimeoutMillis, 'exportTimeoutMillis');
  if (o.cardinalityLimit !== undefined && (typeof o.cardinalityLimit !== 'number' || !Number.isInteger(o.cardinalityLimit) || o.cardinalityLimit < 2)) throw fail('cardinalityLimit', 'an integer of at least 2', o.cardinalityLimit);
  if (o.readers !== undefined && (!Array.isArray(o.readers) || o.readers.some((r) => typeof r !== 'function'))) throw fail('readers', 'a list of functions (producer) => MetricReader', o.readers);
  if (o.health !== undefined && typeof o.health !== 'boolean') throw fail('health', 'a boolean', o.health);
}

/** What the Node.js OTLP exporters take (their `compression` is the string enum "gzip" / "none"). */
type OtlpSettings = OTLPMetricExporterOptions & { compression?: 'gzip' | 'none' };

/** The official OTLP/HTTP metric exporter for the protocol (loaded only when used). */
function otlpExporter(protocol: 'http/protobuf' | 'http/json', options: OtlpSettings): PushMetricExporter {
  const pkg = protocol === 'http/json' ? '@opentelemetry/exporter-metrics-otlp-http' : '@opentelemetry/exporter-metrics-otlp-proto';
  const { OTLPMetricExporter } = require(pkg) as { OTLPMetricExporter: new (o: OtlpSettings) => PushMetricExporter };
  return new OTLPMetricExporter(options);
}

/**
 * Starts a metrics pipeline observing `tracer` (default: the global tracer): RED metrics of every
 * request and outbound call, GenAI metrics of every LLM call and served stream, sampled or not,
 * and Tracewire's health, to OTLP, Prometheus and/or the console.
 */
export function createMetrics(options: MetricsOptions = {}): TracewireMetrics {
  checkOptions(options);
  const env = readMetricsEnv();
  const tracers: Tracer[] = options.tracer === undefined ? [getTracer()] : Array.isArray(options.tracer) ? [...options.tracer] : [options.tracer];
  const exporters = options.exporters ?? env.exporters ?? ['otlp'];
  const interval = options.exportIntervalMillis ?? env.intervalMillis ?? 60000;
  let timeout = options.exportTimeoutMillis ?? env.timeoutMillis ?? 30000;
  if (timeout > interval) {
    if (options.exportTimeoutMillis !== undefined) throw fail('exportTimeoutMillis', `at most exportIntervalMillis (${interval})`, timeout);
    timeout = interval; // the SDK refuses a timeout longer than the interval
  }
  const instruments = new Instruments(options.cardinalityLimit ?? DEFAULT_CARDINALITY_LIMIT);
  const first = tracers[0];
  const resource = resourceFromAttributes(first !== undefined && first.config !== undefined ? { ...first.config.resource } : {});

  const readers: MetricReader[] = [];
  const produce = (make: (producer: MetricProducer) => MetricReader): MetricReader => {
    const producer = new TracewireProducer(instruments, resource);
    const reader = make(producer);
    producer.bind(reader);
    readers.push(reader);
    return reader;
  };
  const periodic = (exporter: PushMetricExporter) => (producer: MetricProducer) =>
    new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: interval, exportTimeoutMillis: timeout, metricProducers: [producer] });

  let prometheus: PrometheusExporter | undefined;
  for (const name of exporters) {
    if (name === 'otlp') {
      const o = options.otlp ?? {};
      const settings: OtlpSettings = {};
      if (o.url !== undefined) settings.url = o.url;
      if (o.headers !== undefined) settings.headers = { ...o.headers };
      if (o.compression !== undefined) settings.compression = o.compression;
      if (o.timeoutMillis !== undefined) settings.timeoutMillis = o.timeoutMillis;
      if (o.temporality !== undefined) settings.temporalityPreference = o.temporality === 'delta' ? AggregationTemporalityPreference.DELTA : AggregationTemporalityPreference.CUMULATIVE;
      produce(periodic(otlpExporter(o.protocol ?? env.protocol ?? 'http/protobuf', settings)));
    } else if (name === 'console') {
      produce(periodic(new ConsoleMetricExporter()));
    } else if (name === 'prometheus' && prometheus === undefined) {
      // The exporter's own server treats port 0 as "unset" (9464): it is served from ours.
      prometheus = produce((producer) => new PrometheusExporter({ preventServerStart: true, metricProducers: [producer] })) as PrometheusExporter;
    }
  }
  for (const make of options.readers ?? []) produce(make);

  const meterProvider = new MeterProvider({ resource, readers });
  const attached = new Map<Tracer, () => void>();
  const attach = (tracer: Tracer): (() => void) => {
    if (!isTracer(tracer)) throw fail('tracer', 'a Tracer from createTracer()', tracer);
    const existing = attached.get(tracer);
    if (existing !== undefined) return existing;
    const remove = tracer.addObserver!(instruments.observer);
    const detach = () => {
      if (attached.get(tracer) !== detach) return;
      attached.delete(tracer);
      remove();
    };
    attached.set(tracer, detach);
    return detach;
  };
  for (const t of tracers) attach(t);
  if (options.health !== false) registerHealth(meterProvider.getMeter(SCOPE.name, SCOPE.version), () => [...attached.keys()]);

  let prometheusUrl: string | undefined;
  let server: http.Server | undefined;
  let ready: Promise<void> = Promise.resolve();
  if (prometheus !== undefined) {
    const exporter = prometheus;
    const p = options.prometheus ?? {};
    const host = p.host ?? env.prometheusHost ?? '127.0.0.1';
    const port = p.port ?? env.prometheusPort ?? 9464;
    const endpoint = p.endpoint ?? '/metrics';
    server = http.createServer((req, res) => {
      let path: string;
      try {
        path = new URL(req.url ?? '/', 'http://localhost').pathname;
      } catch {
        res.writeHead(400).end();
        return;
      }
      if (path !== endpoint || (req.method !== 'GET' && req.method !== 'HEAD')) {
        res.writeHead(path === endpoint ? 405 : 404).end();
        return;
      }
      exporter.getMetricsRequestHandler(req, res);
    });
    const s = server;
    ready = new Promise<void>((resolve) => {
      s.once('error', (err: NodeJS.ErrnoException) => {
        warnOnce(`metrics-prometheus:${host}:${port}`, `the Prometheus endpoint could not listen on ${host}:${port} (${err.code ?? err.message}); metrics are not served there`);
        resolve();
      });
      s.listen(port, host, () => {
        const a = s.address() as AddressInfo;
        prometheusUrl = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}${endpoint}`;
        resolve();
      });
    });
    // A scrape endpoint must not keep a script alive (the app's own server does that for a service).
    server.unref();
  }

  let shut: Promise<void> | undefined;
  return {
    meterProvider,
    ready,
    get prometheusUrl() {
      return prometheusUrl;
    },
    attach,
    forceFlush: () => meterProvider.forceFlush(),
    shutdown() {
      if (shut === undefined) {
        shut = (async () => {
          for (const detach of [...attached.values()]) detach();
          await meterProvider.shutdown().catch((err: unknown) => warnOnce('metrics-shutdown', `metrics shutdown failed: ${err instanceof Error ? err.message : String(err)}`));
          if (server !== undefined) {
            const s = server;
            await new Promise<void>((resolve) => {
              s.closeAllConnections?.();
              s.close(() => resolve());
            });
          }
        })();
      }
      return shut;
    },
  };
}
