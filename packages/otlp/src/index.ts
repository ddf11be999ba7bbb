/**
 * @tracewire/otlp — send Tracewire traces to every OpenTelemetry backend.
 * A plain list of named exports.
 */
export { SCOPE, INCOMPLETE_ATTRIBUTE, FRAGMENT_ATTRIBUTE } from './common';
export { splitEpochMs, unixNanosString, unixNanosBigInt, unixNanosHalves, hrTime, epochMicros } from './common';
export { exportMarks, exportedAttributes } from './common';
export { ZipkinExporter, toZipkinSpans } from './zipkin';
export type { ZipkinExporterOptions, ZipkinSpan, ZipkinEndpoint } from './zipkin';
export { fromOpenTelemetryExporter } from './opentelemetry';
export type {
  FromOpenTelemetryOptions,
  OtelSpanExporter,
  OtelReadableSpan,
  OtelExportResult,
  OtelResource,
  OtelSpanContext,
  OtelTraceState,
  OtelHrTime,
  OtelInstrumentationScope,
} from './opentelemetry';
export { OTLPTraceExporter } from './otlp-exporter';
export type { OTLPTraceExporterOptions } from './otlp-exporter';
export { encodeTraceRequest } from './otlp-protobuf';
export { encodeTraceRequestJson } from './otlp-json';
