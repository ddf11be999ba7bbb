/** Public types of @tracewire/core. The plain data exporters receive is described in docs/data-model.md. */
import type { PropagatorsOption } from './propagation/composite';
import type { TracerObserver } from './observe';

/** An attribute value, as in the OpenTelemetry API. */
export type AttributeValue = string | number | boolean | string[] | number[] | boolean[];
/** A set of attributes. `undefined` values are ignored on write. */
export type Attributes = Record<string, AttributeValue>;
/** Attributes as callers may pass them (undefined/null values are skipped). */
export type AttributesInput = Record<string, AttributeValue | undefined | null>;

export type SpanKind = 'server' | 'client' | 'internal' | 'producer' | 'consumer';
export type SpanStatusCode = 'unset' | 'ok' | 'error';
export interface SpanStatus {
  code: SpanStatusCode;
  message?: string;
}

/** W3C trace flags: bit 0 sampled, bit 1 random (Trace Context Level 2). */
export const TraceFlags = { NONE: 0x00, SAMPLED: 0x01, RANDOM: 0x02 } as const;

/** Identity of a span, as carried by `traceparent`/`tracestate`. */
export interface SpanContext {
  traceId: string; // 32 lowercase hex, not all zero
  spanId: string; // 16 lowercase hex, not all zero
  traceFlags: number; // 8-bit
  traceState?: string; // the normalised tracestate header value, if any
  isRemote?: boolean; // true when extracted from an incoming carrier
}

/** A link to another span (e.g. the caller's context when `trustIncoming` is false). */
export interface Link {
  context: SpanContext;
  attributes?: AttributesInput;
}

/** Time input: epoch milliseconds (fraction allowed) or a Date. */
export type TimeInput = number | Date;

/** The OpenTelemetry-API-shaped span handed to users. */
export interface Span {
  spanContext(): SpanContext;
  setAttribute(key: string, value: AttributeValue | undefined | null): this;
  setAttributes(attributes: AttributesInput): this;
  addEvent(name: string, attributesOrTime?: AttributesInput | TimeInput, time?: TimeInput): this;
  addLink(link: Link): this;
  recordException(exception: unknown, time?: TimeInput): this;
  setStatus(status: SpanStatus): this;
  updateName(name: string): this;
  end(endTime?: TimeInput): void;
  isRecording(): boolean;
}

/**
 * The instrumentation scope of a span: the library that made it, as OpenTelemetry names it
 * (`trace.getTracer(name, version, { schemaUrl })`). OTLP exporters write it as the span's
 * `ScopeSpans.scope`.
 */
export interface InstrumentationScope {
  name: string;
  version?: string;
  schemaUrl?: string;
}

export interface StartSpanOptions {
  kind?: SpanKind;
  attributes?: AttributesInput;
  links?: Link[];
  /** Epoch milliseconds or Date; defaults to now. */
  startTime?: TimeInput;
  /**
   * The parent: a local Span, a (usually remote) SpanContext, `null` for a new root.
   * Undefined: the active span.
   */
  parent?: Span | SpanContext | null;
  /**
   * The library that made the span (`@tracewire/opentelemetry` passes the OpenTelemetry tracer's
   * name and version). Omit it for Tracewire's own spans: exporters then write `@tracewire/core`.
   * Kept by reference on the span's data: treat it as immutable. One without a non-empty `name`
   * is ignored.
   */
  instrumentationScope?: InstrumentationScope;
}

/** What exporters receive: one local trace (or a late fragment of it). Safe to JSON-serialise. */
export interface FinishedTrace {
  traceId: string;
  rootSpanId: string;
  resource: Attributes;
  spans: SpanData[];
  incomplete: boolean;
  fragment: number;
}

export interface SpanEventData {
  name: string;
  time: number;
  attributes: Attributes;
}
export interface SpanLinkData {
  traceId: string;
  spanId: string;
  attributes: Attributes;
}

export interface SpanData {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: SpanKind;
  startTime: number;
  endTime: number;
  ended: boolean;
  status: SpanStatus;
  attributes: Attributes;
  events: SpanEventData[];
  links: SpanLinkData[];
  traceFlags: number;
  traceState?: string;
  /**
   * `true` when the parent came from an incoming carrier (an extracted `traceparent`, a remote
   * `SpanContext`); absent or `false` when the parent is local or there is none. Exporters map it to
   * OTLP's span flags (0x100 "remote-ness known", 0x200 "parent is remote").
   */
  parentIsRemote?: boolean;
  /**
   * The library that made the span, when it was not Tracewire itself: set for spans started
   * through `@tracewire/opentelemetry` (the OpenTelemetry tracer's name and version). Absent for
   * Tracewire's own spans, which exporters put under the scope `@tracewire/core`.
   */
  instrumentationScope?: InstrumentationScope;
  dropped: { attributes: number; events: number; links: number };
}

/** A destination for finished traces. */
export interface Exporter {
  name: string;
  /**
   * How long this exporter's batches wait for more traces, overriding the tracer's
   * `batch.scheduledDelayMillis`. 0 exports each trace as soon as it is complete (the console
   * exporter: a developer sees the request at once); network exporters keep batching.
   */
  readonly scheduledDelayMillis?: number;
  /** Resolves when delivered; a rejection counts the batch's traces as `failed`. */
  export(traces: FinishedTrace[]): Promise<void>;
  shutdown?(): Promise<void>;
  forceFlush?(): Promise<void>;
  /**
   * Optional: the exporter's own counters (OTLP's `rejectedSpans` from partial successes,
   * `retries`, ...), merged into `tracer.stats().exporters[name]` beside the pipeline's counters,
   * which win on a name clash. Called by `stats()`: cheap, and a throw is logged, not raised.
   */
  stats?(): ExporterStats;
}

/** An exporter's own counters: finite non-negative numbers by name (others are ignored). */
export type ExporterStats = Record<string, number>;

/** What a sampler is asked. */
export interface SamplingParams {
  traceId: string;
  name: string;
  kind: SpanKind;
  attributes?: AttributesInput;
  /** The parent context, local or remote, when there is one. */
  parent?: SpanContext;
}

/** A head sampler: an object with `shouldSample`, or a plain function. */
export type Sampler =
  | { shouldSample(params: SamplingParams): boolean; toString?(): string }
  | ((params: SamplingParams) => boolean);

/** Tail policy: decides keep/drop on a whole finished trace. */
export type TailPolicy =
  | {
      /** Keep traces with a span of status error (default true). */
      keepErrors?: boolean;
      /** Keep traces whose root lasted at least this long. */
      slowerThanMs?: number;
      /** Fraction (0..1) of the remaining traces to keep, by trace id (default 1). */
      ratio?: number;
    }
  | ((trace: FinishedTrace) => boolean);

/** Per-span limits (OpenTelemetry SpanLimits, with its defaults). */
export interface SpanLimits {
  attributeCountLimit?: number; // 128
  attributeValueLengthLimit?: number; // Infinity
  eventCountLimit?: number; // 128
  linkCountLimit?: number; // 128
  attributePerEventCountLimit?: number; // 128
  attributePerLinkCountLimit?: number; // 128
}

/** Limits of the trace store and export queue. */
export interface TracerLimits extends SpanLimits {
  /** Live (not yet exported) local traces; past it, new traces are non-recording (default 10000). */
  maxLiveTraces?: number;
  /** Spans recorded per local trace; past it, new spans are non-recording (default 1000). */
  maxSpansPerTrace?: number;
  /** After the root ends, wait this long for open children (default 5000 ms). */
  lingerMs?: number;
  /** A trace whose root never ends is exported as partial after this (default 300000 ms). */
  traceTtlMs?: number;
}

/**
 * Batching of the export queue (OpenTelemetry BatchSpanProcessor defaults, `OTEL_BSP_*`). Sizes
 * count spans, as OpenTelemetry's do, but whole traces are queued and batched: a trace that does not
 * fit in the queue is dropped whole (counted as `queue_full`).
 */
export interface BatchOptions {
  maxQueueSize?: number; // 2048 spans
  maxExportBatchSize?: number; // 512 spans
  scheduledDelayMillis?: number; // 5000
  exportTimeoutMillis?: number; // 30000
}

export type TrustPolicy = boolean | ((headers: unknown) => boolean);

export interface TracerOptions {
  serviceName?: string;
  serviceVersion?: string;
  environment?: string;
  resource?: Attributes;
  /** A Sampler, or a ratio 0..1 (parent-based trace-id ratio). */
  sampler?: Sampler | number;
  tail?: TailPolicy;
  exporters?: Exporter[];
  /** true: continue the caller's trace; false or predicate=false: new trace linked to the caller's. */
  trustIncoming?: TrustPolicy;
  /** Outbound destinations that receive traceparent from tracedFetch (hosts, globs, RegExp, predicate). */
  propagateTo?: Array<string | RegExp> | ((url: URL) => boolean);
  /**
   * Header formats read and written, in order (default `OTEL_PROPAGATORS`, else
   * `['tracecontext', 'baggage']`): `tracecontext`, `baggage`, `b3`, `b3multi`, `xtrace`, or
   * `'none'`. On extract the first valid context wins; on inject every format is written.
   */
  propagators?: PropagatorsOption;
  /** Record LLM prompts and outputs (default false). */
  captureContent?: boolean;
  /** Extra query parameter names whose values are replaced by REDACTED. */
  redact?: { queryParams?: string[] };
  /** Per-million-token prices overriding the shipped table. */
  pricing?: Record<string, { input: number; output: number; cachedInput?: number; cacheWrite?: number; reasoning?: number; source?: string; takenOn?: string }>;
  limits?: TracerLimits;
  batch?: BatchOptions;
  /** false: a no-op tracer (OTEL_SDK_DISABLED=true). */
  enabled?: boolean;
  /**
   * Receive the outcome of every request, `tracedFetch` call and LLM call, sampled or not
   * (`@tracewire/metrics` registers one); more can be added later with `tracer.addObserver()`.
   */
  observers?: TracerObserver[];
}

/**
 * Counters reported by `tracer.stats()`: what became of every trace, by outcome
 * (docs/data-model.md "Counters"). Kept by the trace store (live, started), the trace processor
 * (dropped, submitted, exported) and each exporter's queue.
 */
export interface TracerStats {
  /** Local traces still open (not yet exported). */
  liveTraces: number;
  /** Local traces opened (sampled roots that got a place in the store). */
  startedTraces: number;
  /** Traces and late fragments handed to the exporters' queues (after the tail policy). */
  submittedTraces: number;
  /** Traces and late fragments delivered: at least one exporter's `export()` resolved for them. */
  exportedTraces: number;
  /** Spans of the delivered traces. */
  exportedSpans: number;
  /** Of the delivered: exported while spans under their ended root were still open (after `lingerMs`). */
  incompleteTraces: number;
  /** Of the delivered: exported before their root ended (after `traceTtlMs`, or at shutdown). */
  partialTraces: number;
  /** Drops by reason: live_traces_cap, spans_per_trace_cap, tail, queue_full, no_exporter, shutdown, after_shutdown. */
  dropped: Record<string, number>;
  /** Traces whose export failed, summed over the exporters (`exporters[name].failed`). */
  exportErrors: number;
  /**
   * Per exporter: traces exported, failed (export rejected or timed out), timeouts, queued and
   * dropped (queue full), counted by the pipeline, plus the exporter's own `stats()`.
   */
  exporters: Record<string, { exported: number; failed: number; timeouts: number; queued: number; dropped: number; [counter: string]: number }>;
}
