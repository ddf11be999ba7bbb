import type { Attributes, BatchOptions, Sampler, SpanLimits } from '../types';
import { samplerFromEnv } from '../sampling/head';
import { DEFAULT_BATCH, DEFAULT_SPAN_LIMITS, MAX_TIMER_MS } from './defaults';
import { PROPAGATOR_NAMES } from '../propagation/composite';
import type { PropagatorName } from '../propagation/composite';
import { warnOnce } from '../diag/warn';

/** OTLP export settings from the environment. */
export interface OtlpEnvConfig {
  /** `OTEL_EXPORTER_OTLP_ENDPOINT`: base URL, `/v1/traces` to be appended by the exporter. */
  endpoint?: string;
  /** `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`: full URL, used as is. */
  tracesEndpoint?: string;
  /** `OTEL_EXPORTER_OTLP_HEADERS` overlaid with `OTEL_EXPORTER_OTLP_TRACES_HEADERS`, percent-decoded. */
  headers: Record<string, string>;
  /** `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`, else `http/protobuf`. */
  protocol: 'http/protobuf' | 'http/json';
  /** `OTEL_EXPORTER_OTLP_TRACES_COMPRESSION`, else `OTEL_EXPORTER_OTLP_COMPRESSION`; undefined when unset. */
  compression?: 'gzip' | 'none';
  /** `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`, else `OTEL_EXPORTER_OTLP_TIMEOUT` (milliseconds); undefined when unset. */
  timeoutMillis?: number;
}

/** What the `OTEL_*` environment variables configure. Invalid values are reported and left out. */
export interface EnvConfig {
  serviceName?: string;
  resourceAttributes: Attributes;
  disabled: boolean;
  sampler?: Sampler;
  /** Exporter names (`console`, `otlp`); `[]` for `none`; undefined when not set. */
  exporters?: string[];
  otlp: OtlpEnvConfig;
  batch: BatchOptions;
  limits: SpanLimits;
  captureContent?: boolean;
  /** `OTEL_SEMCONV_STABILITY_OPT_IN`: `dup` for `gen_ai_latest_experimental/dup`, `latest` for `gen_ai_latest_experimental`. */
  genAiNames?: 'latest' | 'dup';
  /** `OTEL_PROPAGATORS`: format names in order (`[]` for `none`); undefined when unset or all invalid. */
  propagators?: PropagatorName[];
  /**
   * `OTEL_METRICS_EXPORTER` names something other than `none` (`otlp`, `prometheus`, `console`):
   * metrics are wanted, from @tracewire/metrics, which reads and checks the names itself.
   */
  metricsExporter?: true;
}

/** Exporter names accepted in `OTEL_TRACES_EXPORTER` (`otlp` and `zipkin` come from @tracewire/otlp). */
export const ENV_EXPORTER_NAMES: readonly string[] = Object.freeze(['console', 'otlp', 'zipkin', 'none']);

type Env = Record<string, string | undefined>;

/**
 * `OTEL_PROPAGATORS`, a comma list of tracecontext, baggage, b3, b3multi, xtrace and none. Unknown
 * names (OpenTelemetry's jaeger, xray, ottrace...) are reported once and ignored; `none` anywhere
 * turns propagation off, as in OpenTelemetry JS; a list with nothing valid falls back to the default.
 */
function readPropagators(env: Env): PropagatorName[] | undefined {
  const name = 'OTEL_PROPAGATORS';
  const value = get(env, name);
  if (value === undefined) return undefined;
  const names: PropagatorName[] = [];
  let none = false;
  for (const part of value.split(',')) {
    const n = part.trim().toLowerCase();
    if (n === '') continue;
    if (n === 'none') none = true;
    else if (!PROPAGATOR_NAMES.includes(n)) {
      warnEnv(name, value, `${name} names an unknown propagator ${JSON.stringify(n)} (known: ${PROPAGATOR_NAMES.join(', ')}); it is ignored`);
    } else if (!names.includes(n as PropagatorName)) names.push(n as PropagatorName);
  }
  if (none) {
    if (names.length > 0) warnEnv(name, value, `${name}=${JSON.stringify(env[name])} contains "none"; nothing is propagated`);
    return [];
  }
  if (names.length === 0) {
    warnEnv(name, value, `${name}=${JSON.stringify(env[name])} names no known propagator; using the default tracecontext,baggage`);
    return undefined;
  }
  return names;
}

/** A variable's value, trimmed; empty (or blank) counts as unset, as the OpenTelemetry spec says. */
function get(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (typeof raw !== 'string') return undefined;
  const value = raw.trim();
  return value === '' ? undefined : value;
}

// Keyed by variable, value and message: each distinct problem is reported once per process.
function warnEnv(name: string, value: string, message: string): void {
  warnOnce(`env:${name}=${value}\n${message}`, message);
}

function defaultText(n: number): string {
  return n === Infinity ? 'the default (no limit)' : `the default ${n}`;
}

/**
 * A non-negative (or, with `positive`, at least 1) decimal integer. Anything else (fractions,
 * signs, exponents, hex) is reported with the fallback that will be used instead.
 */
function readInt(env: Env, name: string, fallbackText: string, positive = false, max = Infinity): number | undefined {
  const value = get(env, name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (/^\d+$/.test(value) && Number.isSafeInteger(n) && (!positive || n >= 1) && n <= max) return n;
  const kind =
    (positive ? 'a positive integer' : 'a non-negative integer') + (max < Infinity ? ` up to ${max}` : '');
  warnEnv(name, value, `${name}=${JSON.stringify(env[name])} is not ${kind}; using ${fallbackText}`);
  return undefined;
}

function readBool(env: Env, name: string, fallback: boolean): boolean | undefined {
  const value = get(env, name);
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  warnEnv(name, value, `${name}=${JSON.stringify(env[name])} is not true or false; using the default ${fallback}`);
  return undefined;
}

function percentDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/**
 * Parse a W3C-Baggage-like `key=value,key2=value2` list, percent-decoding keys and values.
 * Bad entries are reported and skipped. With `secret`, reports name the entry by position only:
 * header values carry API keys and must not reach the logs.
 */
function readPairs(env: Env, name: string, secret: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  const value = get(env, name);
  if (value === undefined) return out;
  const entries = value.split(',');
  entries.forEach((entry, i) => {
    const trimmed = entry.trim();
    if (trimmed === '') return;
    const eq = trimmed.indexOf('=');
    const rawKey = eq > 0 ? trimmed.slice(0, eq).trim() : '';
    const key = rawKey === '' ? undefined : percentDecode(rawKey);
    const val = eq > 0 ? percentDecode(trimmed.slice(eq + 1).trim()) : undefined;
    // `__proto__` would set the prototype of the result instead of a key.
    if (key === undefined || key === '' || key === '__proto__' || val === undefined) {
      const what = secret
        ? `entry ${i + 1}${key ? ` (${JSON.stringify(key)})` : ''}`
        : `entry ${JSON.stringify(trimmed)}`;
      warnEnv(name, value, `${name} has an invalid ${what} (expected key=value, percent-encoded); it is skipped`);
      return;
    }
    out[key] = val;
  });
  return out;
}

function readUrl(env: Env, name: string): string | undefined {
  const value = get(env, name);
  if (value === undefined) return undefined;
  let ok = false;
  try {
    const url = new URL(value);
    ok = url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    ok = false;
  }
  if (ok) return value;
  warnEnv(name, value, `${name}=${JSON.stringify(env[name])} is not an http(s) URL; it is ignored`);
  return undefined;
}

function readProtocol(env: Env, name: string, fallbackText: string): 'http/protobuf' | 'http/json' | undefined {
  const value = get(env, name);
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  if (lower === 'http/protobuf' || lower === 'http/json') return lower;
  warnEnv(
    name,
    value,
    `${name}=${JSON.stringify(env[name])} is not supported (use http/protobuf or http/json); using ${fallbackText}`,
  );
  return undefined;
}

function readCompression(env: Env, name: string, fallbackText: string): 'gzip' | 'none' | undefined {
  const value = get(env, name);
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  if (lower === 'gzip' || lower === 'none') return lower;
  warnEnv(name, value, `${name}=${JSON.stringify(env[name])} is not supported (use gzip or none); using ${fallbackText}`);
  return undefined;
}

/**
 * The `OTEL_EXPORTER_OTLP_*` variables of traces (endpoint, headers, protocol, compression,
 * timeout), signal-specific ones first. Invalid values are reported once, naming the variable and
 * the default used, and left out. https://opentelemetry.io/docs/specs/otel/protocol/exporter/
 */
export function readOtlpEnv(env: NodeJS.ProcessEnv = process.env): OtlpEnvConfig {
  const e = env as Env;
  const generalProtocol = readProtocol(e, 'OTEL_EXPORTER_OTLP_PROTOCOL', 'the default http/protobuf');
  const protocol =
    readProtocol(
      e,
      'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
      generalProtocol ? `OTEL_EXPORTER_OTLP_PROTOCOL=${generalProtocol}` : 'the default http/protobuf',
    ) ??
    generalProtocol ??
    'http/protobuf';
  const out: OtlpEnvConfig = {
    headers: {
      ...readPairs(e, 'OTEL_EXPORTER_OTLP_HEADERS', true),
      ...readPairs(e, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS', true),
    },
    protocol,
  };
  const endpoint = readUrl(e, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (endpoint !== undefined) out.endpoint = endpoint;
  const tracesEndpoint = readUrl(e, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  if (tracesEndpoint !== undefined) out.tracesEndpoint = tracesEndpoint;
  const generalCompression = readCompression(e, 'OTEL_EXPORTER_OTLP_COMPRESSION', 'the default none');
  const compression =
    readCompression(
      e,
      'OTEL_EXPORTER_OTLP_TRACES_COMPRESSION',
      generalCompression ? `OTEL_EXPORTER_OTLP_COMPRESSION=${generalCompression}` : 'the default none',
    ) ?? generalCompression;
  if (compression !== undefined) out.compression = compression;
  const generalTimeout = readInt(e, 'OTEL_EXPORTER_OTLP_TIMEOUT', 'the default 10000', true, MAX_TIMER_MS);
  const timeout =
    readInt(
      e,
      'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT',
      generalTimeout !== undefined ? `OTEL_EXPORTER_OTLP_TIMEOUT=${generalTimeout}` : 'the default 10000',
      true,
      MAX_TIMER_MS,
    ) ?? generalTimeout;
  if (timeout !== undefined) out.timeoutMillis = timeout;
  return out;
}

function readExporters(env: Env): string[] | undefined {
  const name = 'OTEL_TRACES_EXPORTER';
  const value = get(env, name);
  if (value === undefined) return undefined;
  const names: string[] = [];
  let none = false;
  for (const part of value.split(',')) {
    const n = part.trim().toLowerCase();
    if (n === '') continue;
    if (n === 'none') {
      none = true;
    } else if (!ENV_EXPORTER_NAMES.includes(n)) {
      warnEnv(name, value, `${name} names an unknown exporter ${JSON.stringify(n)} (known: ${ENV_EXPORTER_NAMES.join(', ')}); it is ignored`);
    } else if (!names.includes(n)) {
      names.push(n);
    }
  }
  if (none) {
    // As OpenTelemetry JS: "none" anywhere in the list turns exporting off.
    if (names.length > 0) warnEnv(name, value, `${name}=${JSON.stringify(env[name])} contains "none"; no exporter is configured`);
    return [];
  }
  return names.length > 0 ? names : undefined;
}

/**
 * Whether `OTEL_METRICS_EXPORTER` asks for metrics: set, and without `none` (which turns them off
 * wherever it appears, as in OpenTelemetry JS). The names themselves are @tracewire/metrics' to check.
 */
function readMetricsWanted(env: Env): boolean {
  const value = get(env, 'OTEL_METRICS_EXPORTER');
  if (value === undefined) return false;
  const names = value.split(',').map((n) => n.trim().toLowerCase()).filter((n) => n !== '');
  return names.length > 0 && !names.includes('none');
}

// Categories other instrumentations read from OTEL_SEMCONV_STABILITY_OPT_IN: left to them, not reported.
const OTHER_SEMCONV_CATEGORIES = /^(?:http|database|messaging|rpc|code|k8s|db|faas|aws|azure|gcp)(?:\/dup)?$/;

/**
 * `OTEL_SEMCONV_STABILITY_OPT_IN`, a comma list: `gen_ai_latest_experimental` (the current GenAI
 * names, as without it) or `gen_ai_latest_experimental/dup` (also the previous names). Other
 * categories (`http`, `database/dup`...) belong to other instrumentations and are ignored; anything
 * else is reported once. https://github.com/open-telemetry/semantic-conventions-genai (gen-ai-spans.md)
 */
function readSemconvOptIn(env: Env): 'latest' | 'dup' | undefined {
  const name = 'OTEL_SEMCONV_STABILITY_OPT_IN';
  const value = get(env, name);
  if (value === undefined) return undefined;
  let names: 'latest' | 'dup' | undefined;
  for (const part of value.split(',')) {
    const v = part.trim().toLowerCase();
    if (v === '') continue;
    if (v === 'gen_ai_latest_experimental/dup') names = 'dup';
    else if (v === 'gen_ai_latest_experimental') names = names ?? 'latest';
    else if (!OTHER_SEMCONV_CATEGORIES.test(v)) {
      warnEnv(name, value, `${name} has an unknown value ${JSON.stringify(part.trim())} (for GenAI: gen_ai_latest_experimental or gen_ai_latest_experimental/dup); it is ignored`);
    }
  }
  return names;
}

/** Span-specific variable, else the general one, else the OpenTelemetry default. */
function readLimit(env: Env, specific: string, general: string | undefined, dflt: number): number | undefined {
  let generalValue: number | undefined;
  if (general !== undefined) generalValue = readInt(env, general, defaultText(dflt));
  const fallback = generalValue !== undefined ? `${general}=${generalValue}` : defaultText(dflt);
  return readInt(env, specific, fallback) ?? generalValue;
}

/**
 * Read the `OTEL_*` variables Tracewire understands. Called once at setup; each invalid value is
 * reported once on stderr with the variable's name and the default used, and left out of the result.
 * https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/
 */
export function readEnv(env: NodeJS.ProcessEnv = process.env): EnvConfig {
  const e = env as Env;
  const samplerName = get(e, 'OTEL_TRACES_SAMPLER');
  const sampler =
    samplerName === undefined
      ? undefined
      : samplerFromEnv(samplerName, get(e, 'OTEL_TRACES_SAMPLER_ARG'), (m) => warnOnce(m, m));

  const batch: BatchOptions = {};
  const queue = readInt(e, 'OTEL_BSP_MAX_QUEUE_SIZE', defaultText(DEFAULT_BATCH.maxQueueSize), true);
  const size = readInt(e, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', defaultText(DEFAULT_BATCH.maxExportBatchSize), true);
  const delay = readInt(e, 'OTEL_BSP_SCHEDULE_DELAY', defaultText(DEFAULT_BATCH.scheduledDelayMillis), false, MAX_TIMER_MS);
  const timeout = readInt(e, 'OTEL_BSP_EXPORT_TIMEOUT', defaultText(DEFAULT_BATCH.exportTimeoutMillis), false, MAX_TIMER_MS);
  if (queue !== undefined) batch.maxQueueSize = queue;
  if (size !== undefined) batch.maxExportBatchSize = size;
  if (delay !== undefined) batch.scheduledDelayMillis = delay;
  if (timeout !== undefined) batch.exportTimeoutMillis = timeout;

  const limits: SpanLimits = {};
  const d = DEFAULT_SPAN_LIMITS;
  const set = <K extends keyof SpanLimits>(key: K, v: number | undefined): void => {
    if (v !== undefined) limits[key] = v;
  };
  set('attributeCountLimit', readLimit(e, 'OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', 'OTEL_ATTRIBUTE_COUNT_LIMIT', d.attributeCountLimit));
  set(
    'attributeValueLengthLimit',
    readLimit(e, 'OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT', 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', d.attributeValueLengthLimit),
  );
  set('eventCountLimit', readLimit(e, 'OTEL_SPAN_EVENT_COUNT_LIMIT', undefined, d.eventCountLimit));
  set('linkCountLimit', readLimit(e, 'OTEL_SPAN_LINK_COUNT_LIMIT', undefined, d.linkCountLimit));
  set('attributePerEventCountLimit', readLimit(e, 'OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT', undefined, d.attributePerEventCountLimit));
  set('attributePerLinkCountLimit', readLimit(e, 'OTEL_LINK_ATTRIBUTE_COUNT_LIMIT', undefined, d.attributePerLinkCountLimit));

  const result: EnvConfig = {
    resourceAttributes: readPairs(e, 'OTEL_RESOURCE_ATTRIBUTES', false),
    disabled: readBool(e, 'OTEL_SDK_DISABLED', false) ?? false,
    otlp: readOtlpEnv(env),
    batch,
    limits,
  };
  if (readMetricsWanted(e)) result.metricsExporter = true;
  const serviceName = get(e, 'OTEL_SERVICE_NAME');
  if (serviceName !== undefined) result.serviceName = serviceName;
  if (sampler !== undefined) result.sampler = sampler;
  const exporters = readExporters(e);
  if (exporters !== undefined) result.exporters = exporters;
  const capture = readBool(e, 'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT', false);
  if (capture !== undefined) result.captureContent = capture;
  const genAiNames = readSemconvOptIn(e);
  if (genAiNames !== undefined) result.genAiNames = genAiNames;
  const propagators = readPropagators(e);
  if (propagators !== undefined) result.propagators = propagators;
  return result;
}
