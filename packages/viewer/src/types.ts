/** Public types of @tracewire/viewer. */
import type { Exporter, SpanData } from '@tracewire/core';

/** A span as the viewer stores and serves it: `SpanData` plus the `service.name` of its resource. */
export interface ViewerSpan extends SpanData {
  service: string;
}

/** `GET /api/traces/:traceId`. */
export interface TraceDetail {
  traceId: string;
  /** Every span received for the trace, from every service and fragment, in start order. */
  spans: ViewerSpan[];
}

/** LLM figures of one trace, counted once per model call (see README: which spans count). */
export interface TraceLLMSummary {
  /** Model calls in the trace (0 when none). */
  calls: number;
  /** Sum over the calls that reported it; `null` when none did (usage not carried is not 0). */
  inputTokens: number | null;
  outputTokens: number | null;
  /** USD, sum over the calls priced; `null` when none was. */
  cost: number | null;
  /** From the trace's start to its first generated token, in ms; `null` without a streamed call. */
  ttftMs: number | null;
}

/** One row of `GET /api/traces`. */
export interface TraceSummary {
  traceId: string;
  /** Name of the trace's root span (the earliest span whose parent is not in the trace). */
  rootName: string;
  /** `service.name`s of the trace's spans, in order of their first span's start. */
  services: string[];
  /** Epoch milliseconds of the earliest span. */
  startTime: number;
  /** From the earliest start to the latest end. */
  durationMs: number;
  spanCount: number;
  /** Some span has status error. */
  error: boolean;
  llm: TraceLLMSummary;
}

/** Filters of `GET /api/traces` and `GET /api/totals` (all optional, combined with AND). */
export interface TraceQuery {
  /** A span of the trace belongs to this service. */
  service?: string;
  /** A span of the trace has this `http.route`. */
  route?: string;
  /** `error`: traces with an error span; `ok`: the others. */
  status?: 'error' | 'ok';
  /** Traces lasting at least this long. */
  minMs?: number;
  /** Only traces with at least one LLM call. */
  llm?: boolean;
  /** Case-insensitive text found in the trace id, a span name, a service, a route, a path or a model. */
  q?: string;
  /** At most this many, newest first (default 100, at most the store's size). */
  limit?: number;
}

/** Percentiles of a set of values (nearest rank); `null` when the set is empty. */
export interface Percentiles {
  p50: number | null;
  p95: number | null;
}

/** LLM use of one model over a set of traces. */
export interface ModelTotals {
  model: string;
  provider: string | null;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  reasoningTokens: number;
  cost: number;
}

/** `GET /api/totals`: figures over the traces a query selects. */
export interface TraceTotals {
  requests: number;
  errors: number;
  durationMs: Percentiles;
  ttftMs: Percentiles;
  llmCalls: number;
  inputTokens: number;
  outputTokens: number;
  cost: number;
  models: ModelTotals[];
}

/** Counters of the viewer's store and receiver. */
export interface ViewerStats {
  /** Traces held now. */
  traces: number;
  /** Spans held now. */
  spans: number;
  /** Spans received in total (OTLP, in-process exporter and files). */
  receivedSpans: number;
  /** Whole traces evicted, oldest first, to stay within `maxTraces`. */
  evictedTraces: number;
  /** Spans not stored: over `maxSpansPerTrace`, or without a valid trace or span id. */
  droppedSpans: number;
  /** OTLP requests refused (bad body, too large, unsupported type or encoding). */
  rejectedRequests: number;
}

/** Options of `createViewer`. */
export interface ViewerOptions {
  /** TCP port (default 0: any free port; the CLI defaults to 4318, OTLP/HTTP's port). */
  port?: number;
  /** Interface to bind (default `127.0.0.1`: only this machine can reach the viewer). */
  host?: string;
  /** Traces kept in memory; past it the oldest is evicted (default 1000). */
  maxTraces?: number;
  /** Spans kept per trace; later ones are dropped and counted (default 10000). */
  maxSpansPerTrace?: number;
  /** Largest accepted OTLP request body, compressed and decompressed (default 16 MiB). */
  maxBodyBytes?: number;
}

/** A running viewer. */
export interface Viewer {
  /** `http://host:port` of the page, the API and the OTLP receiver (`${url}/v1/traces`). */
  url: string;
  /** Hand this to `createTracer({ exporters: [viewer.exporter] })` to send traces without a network hop. */
  exporter: Exporter;
  /** Counters of the store and receiver. */
  stats(): ViewerStats;
  /** Closes the server and every live connection. */
  close(): Promise<void>;
}
