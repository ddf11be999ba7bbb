/**
 * tracedFetch: a CLIENT span per outbound call, W3C context injected into the request, the span
 * ended when the response body has really been consumed. LLM calls are recognised and decoded.
 * Issue #5; OpenTelemetry HTTP client semantic conventions.
 */
import type { Attributes, Span } from '../types';
import type { Tracer } from '../tracer/tracer';
import { getTracer } from '../tracer/global';
import { currentSpan, isTracingSuppressed, runWithSpan } from '../context/storage';
import { redactUrl } from '../internal/redact';
import { KNOWN_METHODS } from '../internal/methods';
import type { ResolvedConfig } from '../config';
import { MAX_TIMER_MS } from '../config/defaults';
import { isPlainObject, optionError, rejectUnknownKeys } from '../internal/validate';
import { compilePropagateTo, injectOutgoing } from './propagate';
import { DEFAULT_PROPAGATION } from '../propagation/composite';
import type { PropagateMatcher, PropagateToOption } from './propagate';
import { internalError, recordFetchError, tapResponse } from './body';
import type { BodyObserver } from './body';
import { bodyForm, bodyText, detectLLMEndpoint, readLLMRequest, withStreamUsage } from './llm';
import type { LLMRequest } from './llm';
import { createLLMObserver } from './llm-response';
import { fetchErrorType } from './body';
import type { BodyOutcome } from './body';
import type { ObserverSet } from '../observe';
import { llmOutcome } from '../llm/outcome';
import { now } from '../internal/clock';
import { startTimeOf } from '../trace/span';

/** A function with the signature of the global `fetch`. */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Options of `createTracedFetch` and `instrumentGlobalFetch`. */
export interface TracedFetchOptions {
  /** The tracer (default: the global one, as it is at each call). */
  tracer?: Tracer;
  /** Destinations that receive `traceparent`/`tracestate` (default: the tracer's, else all). */
  propagateTo?: PropagateToOption;
  /**
   * Add `stream_options: { include_usage: true }` to OpenAI Chat Completions streaming requests
   * that lack it, so token usage and cost are known (default false: the request is sent as is).
   */
  ensureStreamUsage?: boolean;
  /** Record LLM prompts and outputs (default: the tracer's `captureContent`). */
  captureContent?: boolean;
  /**
   * A response body nobody reads for this long ends the span, marked `tracewire.body.unread`
   * (or `tracewire.body.abandoned` once partly read); default 60000 ms.
   */
  bodyTimeoutMs?: number;
}

/** Default of `bodyTimeoutMs`. */
export const DEFAULT_BODY_TIMEOUT_MS = 60000;

const OPTION_KEYS: ReadonlySet<string> = new Set(['tracer', 'propagateTo', 'ensureStreamUsage', 'captureContent', 'bodyTimeoutMs']);

/** On every function we return: the fetch it calls, so wrapping a traced fetch never traces twice. */
export const UNDERLYING: unique symbol = Symbol.for('tracewire.fetch.underlying') as never;
type Traced = FetchFunction & { [UNDERLYING]?: () => unknown };

/** The fetch a (possibly traced) function ends up calling. */
export function unwrapFetch(fn: unknown): unknown {
  for (let i = 0; i < 8 && typeof fn === 'function' && typeof (fn as Traced)[UNDERLYING] === 'function'; i++) {
    fn = (fn as Traced)[UNDERLYING]!();
  }
  return fn;
}

// RequestInit members read through getters when a caller passes a class instance (a Request) as
// init; a spread copies only own properties.
const INIT_KEYS = [
  'method', 'headers', 'body', 'referrer', 'referrerPolicy', 'mode', 'credentials', 'cache', 'redirect',
  'integrity', 'keepalive', 'signal', 'window', 'duplex', 'priority', 'dispatcher',
] as const;

function copyInit(init: RequestInit | undefined): Record<string, unknown> {
  if (init === undefined || init === null) return {};
  const out: Record<string, unknown> = { ...init };
  if (!isPlainObject(init)) {
    for (const k of INIT_KEYS) {
      if (!(k in out)) {
        const v = (init as Record<string, unknown>)[k];
        if (v !== undefined) out[k] = v;
      }
    }
  }
  return out;
}

/** A client span being made: everything decided before the call. */
interface Call {
  input: string | URL | Request;
  init: RequestInit | undefined;
  span: Span;
  signal: AbortSignal | undefined;
  llm: LLMRequest | undefined;
  startTime: number;
  /** The tracer's query redactor, for URLs quoted in error messages. */
  redact: (q: string) => string;
  /** The tracer's observers when the call was made (undefined: none, nothing to report). */
  observer: ObserverSet | undefined;
  /** The span records (the trace is sampled). */
  sampled: boolean;
  method: string;
  scheme: 'http' | 'https';
  serverAddress: string;
  serverPort: number;
}

interface PerConfig {
  redact: (q: string) => string;
  propagate: PropagateMatcher | undefined;
}

/**
 * Per-tracer work done once: the compiled `propagateTo`. Keyed by the tracer's resolved config,
 * so the global tracer being replaced is picked up.
 */
const perConfig = new WeakMap<ResolvedConfig, PerConfig>();

function configOf(cfg: ResolvedConfig): PerConfig {
  let c = perConfig.get(cfg);
  if (c === undefined) {
    let propagate: PropagateMatcher | undefined;
    try {
      propagate = compilePropagateTo(cfg.propagateTo);
    } catch {
      // The tracer validated it already; an unreadable value propagates nowhere rather than throw.
      propagate = () => false;
    }
    c = { redact: cfg.redactQuery, propagate };
    perConfig.set(cfg, c);
  }
  return c;
}

/**
 * Spans of calls between the moment they are made and their response. A fetch called while one of
 * them is active is the same call made by a wrapped fetch (a retrying wrapper, an instrumented
 * global fetch): it is passed through, so one call is one span.
 */
const inFlight = new WeakSet<Span>();

/**
 * True while `span` is the client span of a `tracedFetch` call that is under way (its inner fetch
 * runs with it active), sampled or not. The call already has its span and its `traceparent`:
 * `@tracewire/opentelemetry` records no second client span under it, and writes no second set of
 * headers, when OpenTelemetry's undici or http instrumentation sees the same request.
 */
export function isTracedFetchSpan(span: Span | undefined): boolean {
  return span !== undefined && inFlight.has(span);
}

function isRequest(x: unknown): x is Request {
  return x !== null && typeof x === 'object' && !(x instanceof URL) && typeof (x as Request).url === 'string' && typeof (x as Request).method === 'string';
}

function checkOptions(options: unknown): TracedFetchOptions {
  if (options === undefined) return {};
  if (!isPlainObject(options)) throw optionError('createTracedFetch options', 'a plain object', options);
  rejectUnknownKeys(options, OPTION_KEYS, '');
  const o = options as TracedFetchOptions;
  if (o.tracer !== undefined && (o.tracer === null || typeof o.tracer !== 'object' || typeof o.tracer.startSpan !== 'function')) {
    throw optionError('tracer', 'a Tracer from createTracer()', o.tracer);
  }
  for (const k of ['ensureStreamUsage', 'captureContent'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw optionError(k, 'a boolean', o[k]);
  }
  if (o.bodyTimeoutMs !== undefined) {
    const v = o.bodyTimeoutMs;
    if (typeof v !== 'number' || !(v > 0) || v > MAX_TIMER_MS) throw optionError('bodyTimeoutMs', `a number of milliseconds in 1..${MAX_TIMER_MS}`, v);
  }
  return o;
}

/**
 * Wraps a fetch-compatible function (default: `globalThis.fetch`, looked up at each call) so that
 * every call is a CLIENT span and carries the trace to the next service. Bad options throw a
 * TypeError naming the option.
 */
export function createTracedFetch(fetchImpl?: FetchFunction, options?: TracedFetchOptions): FetchFunction {
  if (fetchImpl !== undefined && typeof fetchImpl !== 'function') throw optionError('fetchImpl', 'a fetch function', fetchImpl);
  const o = checkOptions(options);
  const fixedTracer = o.tracer;
  const ownPropagate = compilePropagateTo(o.propagateTo);
  const hasOwnPropagate = o.propagateTo !== undefined;
  const ensureStreamUsage = o.ensureStreamUsage === true;
  const captureOption = o.captureContent;
  const idleMs = o.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  const underlying = (): unknown => (fetchImpl !== undefined ? fetchImpl : globalThis.fetch);

  const traced: Traced = function fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const impl = unwrapFetch(underlying()) as FetchFunction;
    // Exporters' own calls, and the inner fetch of a call we already trace: straight through.
    if (isTracingSuppressed()) return impl(input, init);
    const active = currentSpan();
    if (active !== undefined && inFlight.has(active)) return impl(input, init);
    const tracer = fixedTracer ?? getTracer();
    const cfg = tracer.config;
    if (!cfg.enabled) return impl(input, init);

    let call: Call | undefined;
    try {
      const per = configOf(cfg);
      call = prepare(tracer, per, hasOwnPropagate ? ownPropagate : per.propagate, ensureStreamUsage, input, init);
    } catch (err) {
      internalError(err);
    }
    if (call === undefined) return impl(input, init);
    const { span } = call;
    const own = span !== active; // false: an ignored request's span, which only passes context on
    let promise: Promise<Response>;
    if (own) inFlight.add(span);
    try {
      const args = call;
      promise = own ? runWithSpan(span, () => impl(args.input, args.init)) : impl(args.input, args.init);
    } catch (err) {
      inFlight.delete(span);
      recordFetchError(span, err, call.redact);
      if (own) {
        span.end();
        if (call.observer !== undefined) report(call, cfg, undefined, fetchErrorType(err), undefined);
      }
      throw err;
    }
    const started = call;
    return Promise.resolve(promise).then(
      (res) => {
        inFlight.delete(span);
        if (!own) return res;
        return onResponse(started, res, cfg, captureOption, idleMs);
      },
      (err: unknown) => {
        inFlight.delete(span);
        if (own) {
          recordFetchError(span, err, started.redact);
          span.end();
          if (started.observer !== undefined) report(started, cfg, undefined, fetchErrorType(err), undefined);
        }
        throw err;
      },
    );
  };
  traced[UNDERLYING] = underlying;
  return traced;
}

/** Decides everything about a call before it is made; undefined: call through untraced. */
function prepare(
  tracer: Tracer,
  per: PerConfig,
  propagate: PropagateMatcher | undefined,
  ensureStreamUsage: boolean,
  input: string | URL | Request,
  init: RequestInit | undefined,
): Call | undefined {
  const request = isRequest(input) ? input : undefined;
  const href = request ? request.url : input instanceof URL ? input.href : String(input);
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return undefined; // fetch rejects it itself, with its own error
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined; // data:, blob:, file:
  const rawMethod = init && init.method !== undefined && init.method !== null ? String(init.method) : request ? request.method : 'GET';
  const upper = rawMethod.toUpperCase();
  const method = KNOWN_METHODS.has(upper) ? upper : '_OTHER';

  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const attributes: Attributes = {
    'http.request.method': method,
    'url.full': redactUrl(url, per.redact),
    'server.address': hostname,
    'server.port': url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
  };
  if (method === '_OTHER') attributes['http.request.method_original'] = rawMethod;

  let llm: LLMRequest | undefined;
  let newBody: string | undefined;
  const endpoint = detectLLMEndpoint(method, url);
  if (endpoint !== undefined) {
    const body = init !== undefined && init !== null ? init.body : undefined;
    llm = readLLMRequest(endpoint, bodyText(body), bodyForm(body));
    if (llm !== undefined) {
      Object.assign(attributes, llm.attributes);
      if (ensureStreamUsage && typeof body === 'string') newBody = withStreamUsage(llm);
    }
  }
  // GenAI span name: `{operation} {model}`, or the operation alone for calls without a model (batches, files).
  const name = llm !== undefined ? (llm.model !== undefined ? `${llm.operation} ${llm.model}` : llm.operation) : method === '_OTHER' ? 'HTTP' : method;
  const span = tracer.startSpan(name, { kind: 'client', attributes });
  try {
    let outInit = init;
    const allowed = propagate === undefined || propagate(url);
    if (allowed || newBody !== undefined) {
      const source = init && init.headers !== undefined && init.headers !== null ? init.headers : request ? request.headers : undefined;
      let headers: Headers | undefined;
      try {
        // Always a new Headers: the caller's Headers, array or object is never written to.
        headers = new Headers(source as ConstructorParameters<typeof Headers>[0]);
      } catch {
        headers = undefined; // fetch will reject the same headers itself
      }
      if (headers !== undefined) {
        // Every configured format and the baggage; one the caller set is theirs and left alone.
        if (allowed) injectOutgoing(tracer.config.propagation ?? DEFAULT_PROPAGATION, headers, span);
        const copy = copyInit(init);
        copy.headers = headers;
        if (newBody !== undefined) {
          copy.body = newBody;
          headers.delete('content-length');
        }
        outInit = copy as RequestInit;
      }
    }
    const signal = (init && init.signal) || (request ? request.signal : undefined) || undefined;
    const recording = span.isRecording();
    // Not sampled but observed (metrics): the call is still timed and its LLM response decoded.
    const observer = tracer.observer !== undefined && span !== currentSpan() ? tracer.observer : undefined;
    const startTime = recording ? (startTimeOf(span) ?? now()) : observer !== undefined ? now() : 0;
    return {
      input,
      init: outInit,
      span,
      signal,
      llm: recording || observer !== undefined ? llm : undefined,
      startTime,
      redact: per.redact,
      observer,
      sampled: recording,
      method,
      scheme: url.protocol === 'https:' ? 'https' : 'http',
      serverAddress: hostname,
      serverPort: attributes['server.port'] as number,
    };
  } catch (err) {
    // Our own failure after the span started: end it (unless it is an ignored request's span,
    // handed back by startSpan); the call goes through untraced.
    if (span !== currentSpan()) span.end();
    throw err;
  }
}

function onResponse(call: Call, res: Response, cfg: ResolvedConfig, captureOption: boolean | undefined, idleMs: number): Response {
  const { span, observer } = call;
  if (!span.isRecording() && observer === undefined) return res;
  let body: BodyObserver | undefined;
  const status = res.status;
  try {
    span.setAttribute('http.response.status_code', status);
    if (status >= 500) {
      span.setAttribute('error.type', String(status));
      span.setStatus({ code: 'error' });
    }
    if (call.llm !== undefined) {
      body = createLLMObserver(call.llm, res, {
        startTime: call.startTime,
        captureContent: captureOption ?? cfg.captureContent,
        pricing: cfg.pricing,
        genAiNames: cfg.genAiNames,
        observed: observer !== undefined,
      });
    }
  } catch (err) {
    internalError(err);
  }
  const onEnd =
    observer === undefined
      ? undefined
      : (outcome: BodyOutcome, err: unknown) => {
          const errorType = outcome === 'error' || outcome === 'abort' ? fetchErrorType(err) : status >= 500 ? String(status) : undefined;
          report(call, cfg, status, errorType, body);
        };
  try {
    return tapResponse(res, span, body, call.signal, idleMs, call.redact, onEnd);
  } catch (err) {
    internalError(err);
    span.end();
    return res;
  }
}

/**
 * Hands a finished call to the observers: `clientRequest`, and `llmCall` for an LLM call (its
 * response as the body observer decoded it, or only its error when none came). Never throws.
 */
function report(call: Call, cfg: ResolvedConfig, statusCode: number | undefined, errorType: string | undefined, body: BodyObserver | undefined): void {
  const observer = call.observer;
  if (observer === undefined) return;
  try {
    const endTime = now();
    const sampled = call.sampled;
    const llm = call.llm;
    if (llm !== undefined) {
      const seen = body !== undefined && body.llm !== undefined ? body.llm() : undefined;
      // The LLM call failed if the provider says so, or the HTTP call did (a 429 is an LLM error).
      const llmError = seen?.errorType ?? errorType ?? (statusCode !== undefined && statusCode >= 400 ? String(statusCode) : undefined);
      observer.llmCall(
        llmOutcome(seen?.result, {
          side: 'client',
          provider: llm.provider,
          operation: llm.operation,
          requestModel: llm.model,
          serverAddress: call.serverAddress,
          serverPort: call.serverPort,
          stream: seen !== undefined ? seen.stream : llm.stream,
          startTime: call.startTime,
          endTime,
          firstChunkTime: seen?.firstChunkTime,
          contentChunks: seen?.contentChunks,
          chunkIntervals: seen?.chunkIntervals,
          estimateOutputFrom: seen?.estimateOutputFrom,
          aborted: false,
          pricing: cfg.pricing,
          errorType: llmError,
          sampled,
        }),
      );
    }
    observer.clientRequest({
      method: call.method,
      scheme: call.scheme,
      serverAddress: call.serverAddress,
      serverPort: call.serverPort,
      statusCode,
      errorType,
      duration: Math.max(0, endTime - call.startTime) / 1000,
      sampled,
    });
  } catch (err) {
    internalError(err);
  }
}

/** `fetch` with tracing: the global tracer and `globalThis.fetch`, both as they are at each call. */
export const tracedFetch: FetchFunction = createTracedFetch();

const INSTALLED: unique symbol = Symbol.for('tracewire.fetch.installed') as never;
type Installed = Traced & { [INSTALLED]?: () => void };

/**
 * Replaces `globalThis.fetch` with a traced one and returns the function that restores it.
 * Calling it again while installed returns the same restore function (nothing is wrapped twice).
 */
export function instrumentGlobalFetch(options?: TracedFetchOptions): () => void {
  const g = globalThis as unknown as { fetch?: unknown };
  const current = g.fetch as Installed | undefined;
  if (typeof current === 'function' && typeof current[INSTALLED] === 'function') return current[INSTALLED]!;
  if (typeof current !== 'function') throw new TypeError('tracewire: instrumentGlobalFetch needs a global fetch (Node.js 18 or later)');
  const original = current as FetchFunction;
  const traced = createTracedFetch(original, options);
  let active = true;
  const wrapper: Installed = function fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    return active ? traced(input, init) : original(input, init);
  };
  wrapper[UNDERLYING] = () => original;
  const restore = (): void => {
    active = false;
    // Someone may have wrapped ours since: then ours stays in their chain, as a pass-through.
    if (g.fetch === wrapper) g.fetch = original;
  };
  wrapper[INSTALLED] = restore;
  g.fetch = wrapper;
  return restore;
}
