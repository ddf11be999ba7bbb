import type { BatchOptions, SpanLimits } from '../types';
import type { StoreLimits } from '../store/store';

/** Version reported as `telemetry.sdk.version`. */
export const SDK_VERSION = '0.1.0';

/** OpenTelemetry's default when no service name is configured (without `process.argv0`). */
export const DEFAULT_SERVICE_NAME = 'unknown_service:node';

/** setTimeout fires at once for delays above 2^31-1 ms: larger delays are refused, not misread. */
export const MAX_TIMER_MS = 2147483647;

/** OpenTelemetry SpanLimits defaults. */
export const DEFAULT_SPAN_LIMITS: Readonly<Required<SpanLimits>> = Object.freeze({
  attributeCountLimit: 128,
  attributeValueLengthLimit: Infinity,
  eventCountLimit: 128,
  linkCountLimit: 128,
  attributePerEventCountLimit: 128,
  attributePerLinkCountLimit: 128,
});

/** OpenTelemetry BatchSpanProcessor defaults (`OTEL_BSP_*`), counted in traces here. */
export const DEFAULT_BATCH: Readonly<Required<BatchOptions>> = Object.freeze({
  maxQueueSize: 2048,
  maxExportBatchSize: 512,
  scheduledDelayMillis: 5000,
  exportTimeoutMillis: 30000,
});

/** Trace store limits (the type is the store's own). */
export const DEFAULT_STORE: Readonly<StoreLimits> = Object.freeze({
  maxLiveTraces: 10000,
  maxSpansPerTrace: 1000,
  lingerMs: 5000,
  traceTtlMs: 300000,
});

/**
 * Query parameters whose values are always replaced by REDACTED (lowercase; match names
 * case-insensitively). The cloud ones are the signed-URL parameters of AWS S3, Google Cloud
 * Storage and Azure SAS, as in the OpenTelemetry `url.query` semantic convention.
 */
export const DEFAULT_REDACTED_QUERY_PARAMS: readonly string[] = Object.freeze([
  'key',
  'api_key',
  'api-key',
  'apikey',
  'token',
  'sig',
  'signature',
  'password',
  'secret',
  'awsaccesskeyid',
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-security-token',
  'x-goog-signature',
  'x-goog-credential',
]);
