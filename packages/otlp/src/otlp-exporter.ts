/**
 * `OTLPTraceExporter`: finished traces to any OTLP/HTTP receiver (an OpenTelemetry Collector,
 * Jaeger, Tempo, Honeycomb, Langfuse, Phoenix...), protobuf or JSON, following the OTLP exporter
 * specification: https://opentelemetry.io/docs/specs/otel/protocol/exporter/
 */
import { validateHeaderName, validateHeaderValue } from 'node:http';
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { SDK_VERSION, logThrottled, readOtlpEnv, warnOnce } from '@tracewire/core';
import type { Exporter, ExporterStats, FinishedTrace } from '@tracewire/core';
import { SCOPE } from './common';
import { encodeTraceRequest } from './otlp-protobuf';
import { encodeTraceRequestJson } from './otlp-json';
import { HttpTarget, RETRY, backoffDelay } from './otlp-http';
import type { AttemptResult } from './otlp-http';
import { readErrorMessage, readPartialSuccess } from './otlp-response';

const gzipAsync = promisify(gzip);

/** Options of `OTLPTraceExporter`; each falls back to its `OTEL_EXPORTER_OTLP_*` variable, then the default. */
export interface OTLPTraceExporterOptions {
  /**
   * Full URL traces are POSTed to. Default: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as is, else
   * `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`, else `http://localhost:4318/v1/traces`.
   */
  url?: string;
  /** `http/protobuf` (default) or `http/json` (`OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, `OTEL_EXPORTER_OTLP_PROTOCOL`). */
  protocol?: 'http/protobuf' | 'http/json';
  /** Extra request headers (API keys...), over `OTEL_EXPORTER_OTLP_HEADERS` / `OTEL_EXPORTER_OTLP_TRACES_HEADERS`. */
  headers?: Record<string, string>;
  /** `gzip` or `none` (default; `OTEL_EXPORTER_OTLP_TRACES_COMPRESSION`, `OTEL_EXPORTER_OTLP_COMPRESSION`). */
  compression?: 'gzip' | 'none';
  /** Time for one export, retries included, in ms (default 10000; `OTEL_EXPORTER_OTLP_TIMEOUT`). */
  timeoutMillis?: number;
}

const OPTION_KEYS: ReadonlySet<string> = new Set(['url', 'protocol', 'headers', 'compression', 'timeoutMillis']);
const DEFAULT_URL = 'http://localhost:4318/v1/traces';
const DEFAULT_TIMEOUT = 10000;
const MAX_TIMER_MS = 2147483647;
// Set by the exporter itself: a user header of the same name would corrupt the request.
const OWN_HEADERS: ReadonlySet<string> = new Set(['content-type', 'content-length', 'content-encoding', 'transfer-encoding', 'host', 'connection']);

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? value.slice(0, 60) + '…' : value);
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'function') return 'a function';
  return String(value);
}

function optionError(path: string, expected: string, got: unknown): TypeError {
  return new TypeError(`tracewire: OTLPTraceExporter option "${path}" must be ${expected}, got ${describe(got)}`);
}

function checkUrl(value: unknown, path: string): URL {
  let url: URL | undefined;
  if (typeof value === 'string') {
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    // The URL may carry credentials: show only whether it was a string.
    throw new TypeError(`tracewire: OTLPTraceExporter option "${path}" must be an http(s) URL${typeof value === 'string' ? '' : `, got ${describe(value)}`}`);
  }
  return url;
}

/** `OTEL_EXPORTER_OTLP_ENDPOINT` is a base: the signal's path is appended to its path. */
function withTracesPath(base: string): URL {
  const url = new URL(base);
  url.pathname = url.pathname.replace(/\/?$/, '/v1/traces');
  return url;
}

/**
 * Checks a header; a bad one from options throws (naming it, never printing its value: header values
 * are credentials), a bad one from the environment is reported once and skipped.
 */
function headerProblem(name: string, value: unknown): string | undefined {
  try {
    validateHeaderName(name);
  } catch {
    return 'is not a valid header name';
  }
  if (typeof value !== 'string') return 'must be a string';
  try {
    validateHeaderValue(name, value);
  } catch {
    return 'has a character not allowed in a header value';
  }
  if (OWN_HEADERS.has(name.toLowerCase())) return 'is set by the exporter itself';
  return undefined;
}

/** Sends finished traces to an OTLP/HTTP receiver. Delivery failures are counted, never thrown into requests. */
export class OTLPTraceExporter implements Exporter {
  readonly name = 'otlp';
  /** Where traces go (credentials, if the URL has any, included). */
  readonly url: string;
  readonly protocol: 'http/protobuf' | 'http/json';
  readonly compression: 'gzip' | 'none';
  readonly timeoutMillis: number;
  private readonly target: HttpTarget;
  private readonly json: boolean;
  private readonly counters = { requests: 0, retries: 0, rejectedSpans: 0, failedSpans: 0 };
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  /** Bad options throw a `TypeError` naming the option; bad environment values warn once and use the default. */
  constructor(options?: OTLPTraceExporterOptions) {
    if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
      throw new TypeError(`tracewire: OTLPTraceExporter options must be an object, got ${describe(options)}`);
    }
    const o = options ?? {};
    for (const key of Object.keys(o)) {
      if (!OPTION_KEYS.has(key)) {
        throw new TypeError(`tracewire: unknown OTLPTraceExporter option "${key}" (known: ${[...OPTION_KEYS].join(', ')})`);
      }
    }
    const optUrl = o.url === undefined ? undefined : checkUrl(o.url, 'url');
    if (o.protocol !== undefined && o.protocol !== 'http/protobuf' && o.protocol !== 'http/json') {
      throw optionError('protocol', '"http/protobuf" or "http/json"', o.protocol);
    }
    if (o.compression !== undefined && o.compression !== 'gzip' && o.compression !== 'none') {
      throw optionError('compression', '"gzip" or "none"', o.compression);
    }
    if (
      o.timeoutMillis !== undefined &&
      (typeof o.timeoutMillis !== 'number' || !Number.isFinite(o.timeoutMillis) || o.timeoutMillis <= 0 || o.timeoutMillis > MAX_TIMER_MS)
    ) {
      throw optionError('timeoutMillis', `a positive number of milliseconds up to ${MAX_TIMER_MS}`, o.timeoutMillis);
    }
    const optHeaders: Record<string, string> = {};
    if (o.headers !== undefined) {
      if (o.headers === null || typeof o.headers !== 'object' || Array.isArray(o.headers)) {
        throw optionError('headers', 'an object of header names to string values', o.headers);
      }
      for (const [name, value] of Object.entries(o.headers)) {
        const problem = headerProblem(name, value);
        if (problem) throw new TypeError(`tracewire: OTLPTraceExporter option "headers[${JSON.stringify(name)}]" ${problem}`);
        optHeaders[name.toLowerCase()] = value;
      }
    }

    const env = readOtlpEnv();
    const url = optUrl ?? (env.tracesEndpoint ? new URL(env.tracesEndpoint) : env.endpoint ? withTracesPath(env.endpoint) : new URL(DEFAULT_URL));
    this.url = url.href;
    this.protocol = o.protocol ?? env.protocol;
    this.compression = o.compression ?? env.compression ?? 'none';
    this.timeoutMillis = o.timeoutMillis ?? env.timeoutMillis ?? DEFAULT_TIMEOUT;
    this.json = this.protocol === 'http/json';

    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(env.headers)) {
      const problem = headerProblem(name, value);
      if (problem) {
        warnOnce(`otlp-env-header:${name}`, `OTEL_EXPORTER_OTLP_HEADERS: header ${JSON.stringify(name)} ${problem}; it is skipped`);
        continue;
      }
      headers[name.toLowerCase()] = value;
    }
    Object.assign(headers, optHeaders);
    headers['user-agent'] ??= `Tracewire-OTLP-Exporter-JavaScript/${SDK_VERSION}`;
    headers['content-type'] = this.json ? 'application/json' : 'application/x-protobuf';
    if (this.compression === 'gzip') headers['content-encoding'] = 'gzip';
    this.target = new HttpTarget(url, headers);
  }

  /** Encodes and delivers one batch; rejects (the pipeline counts the traces as failed) when it could not. */
  export(traces: FinishedTrace[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('OTLPTraceExporter is shut down'));
    if (traces.length === 0) return Promise.resolve();
    const p = this.send(traces);
    this.inFlight.add(p);
    const forget = (): void => {
      this.inFlight.delete(p);
    };
    p.then(forget, forget);
    return p;
  }

  /** Waits for the exports in flight (their retries included, each within its timeout). */
  async forceFlush(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  /** Delivers what is in flight, then closes the connections; later exports reject. */
  async shutdown(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
    this.target.close();
  }

  /**
   * Counters merged into `tracer.stats().exporters.otlp`: HTTP `requests` made, `retries` among
   * them, spans the receiver refused in a partial success (`rejectedSpans`), spans in batches that
   * could not be delivered (`failedSpans`).
   */
  stats(): ExporterStats {
    return { ...this.counters };
  }

  private async send(traces: FinishedTrace[]): Promise<void> {
    let spans = 0;
    for (let i = 0; i < traces.length; i++) spans += traces[i].spans.length;
    const deadline = Date.now() + this.timeoutMillis;
    let body: Buffer;
    try {
      body = this.json
        ? encodeTraceRequestJson(traces, SCOPE.name, SCOPE.version)
        : encodeTraceRequest(traces, SCOPE.name, SCOPE.version);
      if (this.compression === 'gzip') body = await gzipAsync(body);
    } catch (err) {
      this.counters.failedSpans += spans;
      throw new Error(`OTLP export could not encode ${spans} span(s): ${err instanceof Error ? err.message : String(err)}`);
    }
    for (let attempt = 1; ; attempt++) {
      this.counters.requests++;
      const r: AttemptResult = await this.target.attempt(body, deadline);
      if (r.kind === 'ok') {
        this.partialSuccess(r.body, r.contentType, spans);
        return;
      }
      let reason = r.reason;
      if (r.kind === 'retryable') {
        if (attempt < RETRY.maxAttempts) {
          const delay = r.retryAfterMs ?? backoffDelay(attempt);
          if (Date.now() + delay < deadline) {
            this.counters.retries++;
            await new Promise<void>((resolve) => setTimeout(resolve, delay));
            continue;
          }
          reason += r.retryAfterMs !== undefined ? `, Retry-After ${Math.round(delay)} ms is past the export timeout` : ', no time left to retry';
        }
      } else if (r.kind === 'failed') {
        const message = readErrorMessage(r.body, r.contentType ?? '', this.json);
        if (message) reason += ` (${message})`;
      }
      this.counters.failedSpans += spans;
      throw new Error(
        `OTLP export to ${this.target.display} failed: ${reason}; ${attempt} attempt${attempt === 1 ? '' : 's'} in ${this.timeoutMillis} ms at most; ${spans} span(s) not delivered`,
      );
    }
  }

  private partialSuccess(body: Buffer, contentType: string, spans: number): void {
    const ps = readPartialSuccess(body, contentType, this.json);
    if (ps === undefined) return;
    if (ps.rejectedSpans > 0) {
      this.counters.rejectedSpans += ps.rejectedSpans;
      logThrottled(
        `otlp-partial:${this.target.display}`,
        `OTLP receiver ${this.target.display} rejected ${ps.rejectedSpans} of ${spans} span(s)${ps.errorMessage ? `: ${ps.errorMessage.slice(0, 200)}` : ''}`,
      );
    } else {
      logThrottled(`otlp-partial:${this.target.display}`, `OTLP receiver ${this.target.display} accepted the spans with a warning: ${ps.errorMessage.slice(0, 200)}`);
    }
  }
}
