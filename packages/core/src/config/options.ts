import { createQueryRedactor } from '../internal/redact';
import type {
  AttributeValue,
  Attributes,
  BatchOptions,
  Exporter,
  SpanLimits,
  TracerOptions,
  TrustPolicy,
} from '../types';
import { toSampleFn } from '../sampling/head';
import type { SampleFn } from '../sampling/head';
import { compileTailPolicy } from '../sampling/tail';
import type { TailFn } from '../sampling/tail';
import {
  DEFAULT_BATCH,
  DEFAULT_REDACTED_QUERY_PARAMS,
  DEFAULT_SERVICE_NAME,
  DEFAULT_SPAN_LIMITS,
  DEFAULT_STORE,
  MAX_TIMER_MS,
  SDK_VERSION,
} from './defaults';
import type { StoreLimits } from '../store/store';
import { readEnv } from './env';
import { describeValue, isPlainObject, optionError, rejectUnknownKeys } from '../internal/validate';
import { DEFAULT_PROPAGATION, checkPropagators, compilePropagation } from '../propagation/composite';
import type { Propagation } from '../propagation/composite';
import { warnOnce } from '../diag/warn';
import { guardPredicate } from '../internal/guard';
import { checkObserver } from '../observe';
import type { TracerObserver } from '../observe';

/** Per-million-token prices, as in `TracerOptions.pricing`. */
export type Pricing = NonNullable<TracerOptions['pricing']>;

/** Everything the tracer needs, validated and normalised once at setup. */
export interface ResolvedConfig {
  /** false: the tracer is a no-op (`enabled: false` or `OTEL_SDK_DISABLED=true`). */
  enabled: boolean;
  resource: Attributes;
  /** Head sampling decision. Never throws. */
  sample: SampleFn;
  /**
   * Set when the effective sampler is parent-based trace-id ratio (the default, or a number): the
   * tracer then decides inline, without building a SamplingParams object per span.
   */
  parentBasedRatio?: number;
  /** Tail policy; undefined keeps every trace with no per-trace work. Never throws. */
  tail?: TailFn;
  /** Exporter names from `OTEL_TRACES_EXPORTER` (`[]` for none), when `exporters` is not given. */
  exporterNames?: string[];
  /** Exporters given in options (a copy of the array). */
  exporters?: Exporter[];
  /** A predicate given by the user is wrapped: a throw means "do not trust", reported once. */
  trustIncoming: TrustPolicy;
  /** A predicate given by the user is wrapped: a throw means "do not propagate", reported once. */
  propagateTo?: Array<string | RegExp> | ((url: URL) => boolean);
  /** The compiled `propagators` (option, else OTEL_PROPAGATORS, else tracecontext,baggage). */
  propagation: Propagation;
  captureContent: boolean;
  /**
   * Replaces the values of sensitive query parameters by REDACTED: the safe defaults plus
   * `redact.queryParams`, compiled once.
   */
  redactQuery: (query: string) => string;
  pricing?: Pricing;
  /** GenAI attribute names (`OTEL_SEMCONV_STABILITY_OPT_IN`): `latest`, or `dup` for the previous names too. */
  genAiNames: 'latest' | 'dup';
  spanLimits: Required<SpanLimits>;
  store: StoreLimits;
  batch: Required<BatchOptions>;
  /** Observers given in options (checked, a copy of the array). */
  observers?: TracerObserver[];
  /** `OTEL_METRICS_EXPORTER` names an exporter (not `none`): the tracer loads @tracewire/metrics. */
  metricsFromEnv: boolean;
}

const TOP_KEYS: ReadonlySet<string> = new Set([
  'serviceName',
  'serviceVersion',
  'environment',
  'resource',
  'sampler',
  'tail',
  'exporters',
  'trustIncoming',
  'propagateTo',
  'captureContent',
  'redact',
  'propagators',
  'pricing',
  'limits',
  'batch',
  'enabled',
  'observers',
]);
const COUNT_LIMIT_KEYS = [
  'attributeCountLimit',
  'eventCountLimit',
  'linkCountLimit',
  'attributePerEventCountLimit',
  'attributePerLinkCountLimit',
  'maxLiveTraces',
  'maxSpansPerTrace',
] as const;
const MS_LIMIT_KEYS = ['lingerMs', 'traceTtlMs'] as const;
const SPAN_LIMIT_KEYS = Object.keys(DEFAULT_SPAN_LIMITS) as (keyof SpanLimits)[];
const STORE_KEYS = Object.keys(DEFAULT_STORE) as (keyof StoreLimits)[];
const LIMIT_KEYS: ReadonlySet<string> = new Set([...SPAN_LIMIT_KEYS, ...STORE_KEYS]);
const BATCH_KEYS: ReadonlySet<string> = new Set(Object.keys(DEFAULT_BATCH));
const PRICE_KEYS: ReadonlySet<string> = new Set(['input', 'output', 'cachedInput', 'cacheWrite', 'reasoning', 'source', 'takenOn']);


function checkString(value: unknown, path: string): string {
  if (typeof value !== 'string' || value === '') throw optionError(path, 'a non-empty string', value);
  return value;
}

function checkBoolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') throw optionError(path, 'a boolean', value);
  return value;
}

function checkCount(value: unknown, path: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw optionError(path, min === 0 ? 'a non-negative integer' : 'a positive integer', value);
  }
  return value;
}

function checkMs(value: unknown, path: string): number {
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
    throw optionError(path, 'a non-negative finite number', value);
  }
  if (value > MAX_TIMER_MS) throw optionError(path, `at most ${MAX_TIMER_MS} (the largest timer delay)`, value);
  return value;
}

function checkPrice(value: unknown, path: string): number {
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
    throw optionError(path, 'a non-negative finite number', value);
  }
  return value;
}

function checkObject(value: unknown, path: string, known: ReadonlySet<string>): Record<string, unknown> {
  if (!isPlainObject(value)) throw optionError(path, 'a plain object', value);
  rejectUnknownKeys(value, known, path + '.');
  return value;
}

function isAttributeValue(v: unknown): v is AttributeValue {
  const t = typeof v;
  if (t === 'string' || t === 'boolean' || (t === 'number' && Number.isFinite(v as number))) return true;
  if (!Array.isArray(v)) return false;
  const first = v.find((x) => x !== null && x !== undefined);
  const et = typeof first;
  if (first !== undefined && et !== 'string' && et !== 'number' && et !== 'boolean') return false;
  return v.every((x) => typeof x === et);
}

function checkResource(value: unknown): Attributes {
  if (!isPlainObject(value)) throw optionError('resource', 'a plain object of attributes', value);
  const out: Attributes = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined || v === null) continue;
    if (!isAttributeValue(v)) {
      throw optionError(
        `resource[${JSON.stringify(key)}]`,
        'a string, finite number, boolean or an array of one of those',
        v,
      );
    }
    out[key] = Array.isArray(v) ? (v.slice() as AttributeValue) : v;
  }
  return out;
}

function checkExporters(value: unknown): Exporter[] {
  if (!Array.isArray(value)) throw optionError('exporters', 'an array of exporters', value);
  return value.map((ex: unknown, i) => {
    const path = `exporters[${i}]`;
    if (ex === null || typeof ex !== 'object') throw optionError(path, 'an exporter object', ex);
    const e = ex as Record<string, unknown>;
    checkString(e.name, `${path}.name`);
    if (typeof e.export !== 'function') throw optionError(`${path}.export`, 'a function', e.export);
    for (const m of ['shutdown', 'forceFlush', 'stats']) {
      if (e[m] !== undefined && typeof e[m] !== 'function') throw optionError(`${path}.${m}`, 'a function', e[m]);
    }
    return ex as Exporter;
  });
}

function checkTrust(value: unknown): TrustPolicy {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'function') return guardPredicate(value as (h: unknown) => boolean, 'trustIncoming', false);
  throw optionError('trustIncoming', 'a boolean or a function (headers) => boolean', value);
}

function checkPropagateTo(value: unknown): NonNullable<ResolvedConfig['propagateTo']> {
  if (typeof value === 'function') return guardPredicate(value as (u: URL) => boolean, 'propagateTo', false);
  if (!Array.isArray(value)) {
    throw optionError('propagateTo', 'an array of strings and RegExps, or a function (url) => boolean', value);
  }
  return value.map((item: unknown, i) => {
    if ((typeof item === 'string' && item !== '') || item instanceof RegExp) return item;
    throw optionError(`propagateTo[${i}]`, 'a non-empty string or a RegExp', item);
  });
}

function checkRedact(value: unknown): string[] {
  const r = checkObject(value, 'redact', new Set(['queryParams']));
  if (r.queryParams === undefined) return [];
  if (!Array.isArray(r.queryParams)) throw optionError('redact.queryParams', 'an array of strings', r.queryParams);
  return r.queryParams.map((p: unknown, i) => checkString(p, `redact.queryParams[${i}]`).toLowerCase());
}

function checkPricing(value: unknown): Pricing {
  if (!isPlainObject(value)) throw optionError('pricing', 'a plain object of model prices', value);
  const out: Pricing = {};
  for (const [model, entry] of Object.entries(value)) {
    const path = `pricing[${JSON.stringify(model)}]`;
    const p = checkObject(entry, path, PRICE_KEYS);
    const price: Pricing[string] = {
      input: checkPrice(p.input, `${path}.input`),
      output: checkPrice(p.output, `${path}.output`),
    };
    if (p.cachedInput !== undefined) price.cachedInput = checkPrice(p.cachedInput, `${path}.cachedInput`);
    if (p.cacheWrite !== undefined) price.cacheWrite = checkPrice(p.cacheWrite, `${path}.cacheWrite`);
    if (p.reasoning !== undefined) price.reasoning = checkPrice(p.reasoning, `${path}.reasoning`);
    if (p.source !== undefined) price.source = checkString(p.source, `${path}.source`);
    if (p.takenOn !== undefined) price.takenOn = checkString(p.takenOn, `${path}.takenOn`);
    out[model] = price;
  }
  return out;
}

/** Validated `limits`, undefined entries left out. */
function checkLimits(value: unknown): Record<string, number> {
  const l = checkObject(value, 'limits', LIMIT_KEYS);
  const out: Record<string, number> = {};
  for (const key of COUNT_LIMIT_KEYS) {
    if (l[key] !== undefined) out[key] = checkCount(l[key], `limits.${key}`);
  }
  for (const key of MS_LIMIT_KEYS) {
    if (l[key] !== undefined) out[key] = checkMs(l[key], `limits.${key}`);
  }
  const len = l.attributeValueLengthLimit;
  if (len !== undefined) {
    out.attributeValueLengthLimit =
      len === Infinity ? Infinity : checkCount(len, 'limits.attributeValueLengthLimit');
  }
  return out;
}

function checkBatch(value: unknown): BatchOptions {
  const b = checkObject(value, 'batch', BATCH_KEYS);
  const out: BatchOptions = {};
  if (b.maxQueueSize !== undefined) out.maxQueueSize = checkCount(b.maxQueueSize, 'batch.maxQueueSize', 1);
  if (b.maxExportBatchSize !== undefined) {
    out.maxExportBatchSize = checkCount(b.maxExportBatchSize, 'batch.maxExportBatchSize', 1);
  }
  if (b.scheduledDelayMillis !== undefined) {
    out.scheduledDelayMillis = checkMs(b.scheduledDelayMillis, 'batch.scheduledDelayMillis');
  }
  if (b.exportTimeoutMillis !== undefined) {
    out.exportTimeoutMillis = checkMs(b.exportTimeoutMillis, 'batch.exportTimeoutMillis');
  }
  return out;
}

function pick<K extends string>(from: Record<string, number>, keys: readonly K[]): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const k of keys) if (from[k] !== undefined) out[k] = from[k];
  return out;
}

function rejectUnknownTopLevel(options: object): void {
  for (const key of Object.keys(options)) {
    if (TOP_KEYS.has(key)) continue;
    const hint = LIMIT_KEYS.has(key) ? ` (did you mean limits.${key}?)` : BATCH_KEYS.has(key) ? ` (did you mean batch.${key}?)` : '';
    throw new TypeError(`tracewire: unknown option "${key}"${hint} (known: ${[...TOP_KEYS].join(', ')})`);
  }
}

/**
 * Merge explicit options over `OTEL_*` environment variables over defaults, validating the
 * options: a bad one throws a `TypeError` naming it, at setup, never later.
 * Bad environment values only warn (once) and fall back to the defaults.
 */
export function resolveConfig(options?: TracerOptions, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
    throw new TypeError(`tracewire: options must be an object, got ${describeValue(options)}`);
  }
  const o: TracerOptions = options ?? {};
  rejectUnknownTopLevel(o);

  // Validate everything before reading the environment, so a bad option fails without side effects.
  const serviceName = o.serviceName === undefined ? undefined : checkString(o.serviceName, 'serviceName');
  const serviceVersion = o.serviceVersion === undefined ? undefined : checkString(o.serviceVersion, 'serviceVersion');
  const environment = o.environment === undefined ? undefined : checkString(o.environment, 'environment');
  const resourceOpt = o.resource === undefined ? undefined : checkResource(o.resource);
  if (o.sampler !== undefined) {
    const s: unknown = o.sampler;
    const ok =
      typeof s === 'function' ||
      (typeof s === 'number' && s >= 0 && s <= 1) ||
      (s !== null && typeof s === 'object' && typeof (s as { shouldSample?: unknown }).shouldSample === 'function');
    if (!ok) {
      throw optionError('sampler', 'an object with shouldSample(), a function, or a number between 0 and 1', s);
    }
  }
  const tail = compileTailPolicy(o.tail);
  const exporters = o.exporters === undefined ? undefined : checkExporters(o.exporters);
  const trustIncoming = o.trustIncoming === undefined ? true : checkTrust(o.trustIncoming);
  const propagateTo = o.propagateTo === undefined ? undefined : checkPropagateTo(o.propagateTo);
  const captureOpt = o.captureContent === undefined ? undefined : checkBoolean(o.captureContent, 'captureContent');
  const enabledOpt = o.enabled === undefined ? undefined : checkBoolean(o.enabled, 'enabled');
  const extraRedact = o.redact === undefined ? [] : checkRedact(o.redact);
  const pricing = o.pricing === undefined ? undefined : checkPricing(o.pricing);
  const limits = o.limits === undefined ? {} : checkLimits(o.limits);
  const propagatorsOpt = o.propagators === undefined ? undefined : checkPropagators(o.propagators);
  const batchOpt = o.batch === undefined ? {} : checkBatch(o.batch);
  let observers: TracerObserver[] | undefined;
  if (o.observers !== undefined) {
    if (!Array.isArray(o.observers)) throw optionError('observers', 'an array of observers', o.observers);
    observers = o.observers.map((x, i) => checkObserver(x, `observers[${i}]`));
  }

  const e = readEnv(env);

  const resource: Attributes = {
    'service.name': DEFAULT_SERVICE_NAME,
    'telemetry.sdk.name': 'tracewire',
    'telemetry.sdk.language': 'nodejs',
    'telemetry.sdk.version': SDK_VERSION,
    ...e.resourceAttributes,
  };
  if (e.serviceName !== undefined) resource['service.name'] = e.serviceName;
  Object.assign(resource, resourceOpt);
  if (serviceName !== undefined) resource['service.name'] = serviceName;
  if (serviceVersion !== undefined) resource['service.version'] = serviceVersion;
  if (environment !== undefined) resource['deployment.environment.name'] = environment;

  const batch: Required<BatchOptions> = { ...DEFAULT_BATCH, ...e.batch, ...batchOpt };
  if (batch.maxExportBatchSize > batch.maxQueueSize) {
    if (batchOpt.maxExportBatchSize !== undefined) {
      throw optionError(
        'batch.maxExportBatchSize',
        `at most the queue size (batch.maxQueueSize = ${batch.maxQueueSize})`,
        batchOpt.maxExportBatchSize,
      );
    }
    if (e.batch.maxExportBatchSize !== undefined) {
      warnOnce(
        `env:OTEL_BSP_MAX_EXPORT_BATCH_SIZE>${batch.maxQueueSize}`,
        `OTEL_BSP_MAX_EXPORT_BATCH_SIZE=${batch.maxExportBatchSize} is larger than the queue size ` +
          `${batch.maxQueueSize}; using ${batch.maxQueueSize}`,
      );
    }
    batch.maxExportBatchSize = batch.maxQueueSize;
  }

  const redactQueryParams = [...new Set([...DEFAULT_REDACTED_QUERY_PARAMS, ...extraRedact])];
  const config: ResolvedConfig = {
    enabled: enabledOpt ?? !e.disabled,
    resource,
    sample: toSampleFn(o.sampler !== undefined ? o.sampler : e.sampler),
    trustIncoming,
    captureContent: captureOpt ?? e.captureContent ?? false,
    genAiNames: e.genAiNames ?? 'latest',
    redactQuery: createQueryRedactor(redactQueryParams),
    spanLimits: { ...DEFAULT_SPAN_LIMITS, ...e.limits, ...pick(limits, SPAN_LIMIT_KEYS) },
    store: { ...DEFAULT_STORE, ...pick(limits, STORE_KEYS) },
    propagation:
      propagatorsOpt !== undefined
        ? compilePropagation(propagatorsOpt)
        : e.propagators !== undefined
          ? compilePropagation(e.propagators)
          : DEFAULT_PROPAGATION,
    batch,
    metricsFromEnv: e.metricsExporter === true,
  };
  if (observers !== undefined) config.observers = observers;
  if (tail !== undefined) config.tail = tail;
  if (typeof o.sampler === 'number') config.parentBasedRatio = o.sampler;
  else if (o.sampler === undefined && e.sampler === undefined) config.parentBasedRatio = 1;
  if (exporters !== undefined) {
    config.exporters = exporters;
    // Code wins over the environment (as in OpenTelemetry SDKs), but not silently.
    if (e.exporters !== undefined) {
      warnOnce('exporters-over-env', `OTEL_TRACES_EXPORTER=${JSON.stringify(env.OTEL_TRACES_EXPORTER)} is ignored: createTracer() was given exporters (${exporters.map((x) => JSON.stringify(x.name)).join(', ') || 'none'})`);
    }
  } else if (e.exporters !== undefined) config.exporterNames = e.exporters;
  if (propagateTo !== undefined) config.propagateTo = propagateTo;
  if (pricing !== undefined) config.pricing = pricing;
  return config;
}
