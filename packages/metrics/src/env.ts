/**
 * The metrics environment variables (OpenTelemetry SDK configuration): `OTEL_METRICS_EXPORTER`,
 * `OTEL_METRIC_EXPORT_INTERVAL`, `OTEL_METRIC_EXPORT_TIMEOUT`, `OTEL_EXPORTER_PROMETHEUS_HOST`,
 * `OTEL_EXPORTER_PROMETHEUS_PORT`, and the OTLP protocol (`OTEL_EXPORTER_OTLP_METRICS_PROTOCOL`,
 * else `OTEL_EXPORTER_OTLP_PROTOCOL`). The OTLP endpoint, headers, compression, timeout and
 * temporality preference are read by the OpenTelemetry OTLP exporters themselves, from the same
 * variables as traces (`OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/metrics`, or
 * `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`). An invalid value is reported once on stderr with the
 * variable's name and the default used.
 */
import { warnOnce } from '@tracewire/core';

export type MetricsExporterName = 'otlp' | 'prometheus' | 'console';
export const EXPORTER_NAMES: readonly MetricsExporterName[] = Object.freeze(['otlp', 'prometheus', 'console']);

export interface MetricsEnv {
  /** `OTEL_METRICS_EXPORTER`: undefined when unset; `[]` for none. */
  exporters?: MetricsExporterName[];
  intervalMillis?: number;
  timeoutMillis?: number;
  prometheusHost?: string;
  prometheusPort?: number;
  protocol?: 'http/protobuf' | 'http/json';
}

type Env = Record<string, string | undefined>;

function get(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (typeof raw !== 'string') return undefined;
  const v = raw.trim();
  return v === '' ? undefined : v;
}

function warnEnv(name: string, value: string, message: string): void {
  warnOnce(`metrics-env:${name}=${value}\n${message}`, message);
}

function readInt(env: Env, name: string, min: number, max: number, fallback: string): number | undefined {
  const v = get(env, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (/^\d+$/.test(v) && n >= min && n <= max) return n;
  warnEnv(name, v, `${name}=${JSON.stringify(env[name])} is not an integer in ${min}..${max}; using ${fallback}`);
  return undefined;
}

function readProtocol(env: Env, name: string, fallback: string): 'http/protobuf' | 'http/json' | undefined {
  const v = get(env, name);
  if (v === undefined) return undefined;
  const lower = v.toLowerCase();
  if (lower === 'http/protobuf' || lower === 'http/json') return lower;
  warnEnv(name, v, `${name}=${JSON.stringify(env[name])} is not supported for metrics (use http/protobuf or http/json); using ${fallback}`);
  return undefined;
}

/** The largest timer Node.js keeps (about 24.8 days); a longer interval would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Reads the metrics variables; each invalid value is reported once and left out. */
export function readMetricsEnv(env: NodeJS.ProcessEnv = process.env): MetricsEnv {
  const e = env as Env;
  const out: MetricsEnv = {};
  const value = get(e, 'OTEL_METRICS_EXPORTER');
  if (value !== undefined) {
    const names: MetricsExporterName[] = [];
    let none = false;
    for (const part of value.split(',')) {
      const n = part.trim().toLowerCase();
      if (n === '') continue;
      if (n === 'none') none = true;
      else if (!(EXPORTER_NAMES as readonly string[]).includes(n)) {
        warnEnv('OTEL_METRICS_EXPORTER', value, `OTEL_METRICS_EXPORTER names an unknown exporter ${JSON.stringify(n)} (known: ${EXPORTER_NAMES.join(', ')}, none); it is ignored`);
      } else if (!names.includes(n as MetricsExporterName)) names.push(n as MetricsExporterName);
    }
    out.exporters = none ? [] : names;
  }
  const interval = readInt(e, 'OTEL_METRIC_EXPORT_INTERVAL', 1, MAX_TIMER_MS, 'the default 60000');
  if (interval !== undefined) out.intervalMillis = interval;
  const timeout = readInt(e, 'OTEL_METRIC_EXPORT_TIMEOUT', 1, MAX_TIMER_MS, 'the default 30000');
  if (timeout !== undefined) out.timeoutMillis = timeout;
  const host = get(e, 'OTEL_EXPORTER_PROMETHEUS_HOST');
  if (host !== undefined) out.prometheusHost = host;
  const port = readInt(e, 'OTEL_EXPORTER_PROMETHEUS_PORT', 0, 65535, 'the default 9464');
  if (port !== undefined) out.prometheusPort = port;
  const general = readProtocol(e, 'OTEL_EXPORTER_OTLP_PROTOCOL', 'the default http/protobuf');
  const protocol = readProtocol(e, 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', general ? `OTEL_EXPORTER_OTLP_PROTOCOL=${general}` : 'the default http/protobuf') ?? general;
  if (protocol !== undefined) out.protocol = protocol;
  return out;
}
