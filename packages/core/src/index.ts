/**
 * @tracewire/core — spans, context, W3C propagation, sampling, trace store and export pipeline.
 * Everything public is exported here by name; implementation classes stay private.
 */
export type {
  AttributeValue,
  Attributes,
  AttributesInput,
  BatchOptions,
  Exporter,
  ExporterStats,
  FinishedTrace,
  InstrumentationScope,
  Link,
  Sampler,
  SamplingParams,
  Span,
  SpanContext,
  SpanData,
  SpanEventData,
  SpanKind,
  SpanLimits,
  SpanLinkData,
  SpanStatus,
  SpanStatusCode,
  StartSpanOptions,
  TailPolicy,
  TimeInput,
  TracerLimits,
  TracerOptions,
  TracerStats,
  TrustPolicy,
} from './types';
export { TraceFlags } from './types';
/** Tracewire's version (`telemetry.sdk.version`, and the instrumentation scope version exporters send). */
export { SDK_VERSION } from './config/defaults';
/** The `OTEL_EXPORTER_OTLP_*` trace settings from the environment, for exporter packages (validated, warns once). */
export { readOtlpEnv } from './config/env';
export type { OtlpEnvConfig } from './config/env';
/** Diagnostics for exporter packages: `[tracewire] ` lines on stderr, once per key or at most once a minute per key. */
export { warnOnce, logThrottled } from './diag/warn';

/** Observers of every request, tracedFetch call and LLM call, sampled or not (what @tracewire/metrics uses). */
export type { TracerObserver, ObserverSet, ServerRequestOutcome, ClientRequestOutcome, LLMCallOutcome } from './observe';
export { createTracer, recordError, tracerOwning } from './tracer/tracer';
export type { Tracer } from './tracer/tracer';
export { getTracer, setGlobalTracer, withSpan, startSpan, activeSpan, traceLogFields } from './tracer/global';
export { suppressTracing, isTracingSuppressed } from './context/storage';
/** For bridges to another context API (@tracewire/opentelemetry): read and set Tracewire's active context in one step. */
export { CONTEXT_SCOPE, readContext, runWithContext } from './context/storage';
export type { ContextState } from './context/storage';
export { errorTypeOf } from './trace/span';

export {
  parseTraceparent,
  formatTraceparent,
  parseTracestate,
  formatTracestate,
  extractContext,
  injectContext,
  defaultGetter,
  defaultSetter,
  isValidTraceId,
  isValidSpanId,
  extractBaggage,
  parseBaggage,
  formatBaggage,
} from './propagation';
export type { CarrierGetter, CarrierSetter, Baggage, BaggageEntry, BaggageProperty, PropagatorEntry, PropagatorName, PropagatorsOption } from './propagation';
export { getBaggage, withBaggage } from './context/baggage';
export type { BaggageInput } from './context/baggage';

export { alwaysOn, alwaysOff, traceIdRatio, parentBased } from './sampling';

export { ConsoleExporter } from './export/console';
export { InMemoryExporter } from './export/memory';

export { ServerInstrumentation, createServerInstrumentation, nodeHeaderGetter, compileIgnore, createQueryRedactor, redactUrl, SENSITIVE_HEADERS } from './http';
export type { ServerTracingOptions, ServerRequestState, HttpAdapter, IgnoreOption } from './http';
/** The transport-neutral server span (gRPC and other non-HTTP servers): a carrier in, a handle, one end with the outcome. */
export { ServerSpans, createServerSpans } from './server';
export type { ServerSpan, ServerCarrier, ServerSpanOptions, ServerStartOptions, ServerOutcome, ServerError } from './server';
export type { AttributeWrite } from './trace/span';

export { createStreamAccumulator } from './stream';
export type { StreamAccumulator, StreamAccumulatorOptions, StreamFormat, StreamOutcome, StreamError, AttributeTarget } from './stream';
export { LLM_PRICES } from './llm';
export type { LLMResult, LLMChoice, LLMToolCall, LLMUsage, LLMError, LLMProvider, LLMApi, ModelPrice, PricingTable, PriceTable, PriceSource, GenAINames } from './llm';
/** LLM, agent and tool spans by hand: the GenAI helpers. */
export {
  withLLMSpan,
  recordLLMResponse,
  recordLLMStream,
  withToolSpan,
  withAgentSpan,
  withEmbeddingsSpan,
  withSpeechSpan,
  withTranscriptionSpan,
  withPipelineStep,
} from './llm';
export type {
  LLMSpanParams,
  EmbeddingsSpanParams,
  SpeechSpanParams,
  TranscriptionSpanParams,
  ToolSpanOptions,
  AgentSpanOptions,
  PipelineFrames,
} from './llm';

export { tracedFetch, createTracedFetch, instrumentGlobalFetch, isTracedFetchSpan } from './fetch';
export type { FetchFunction, TracedFetchOptions, PropagateToOption } from './fetch';
