import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Attributes, Span, StartSpanOptions } from '../types';
import { INVALID_SPAN_CONTEXT, NonRecordingSpan, adoptAttributes, errorTypeOf, mergeTrustedAttributes } from '../trace/span';
import { newSpanId } from '../trace/ids';
import { runWithSpan, runWithSpanAndBaggage } from '../context/storage';
import type { Baggage, CarrierGetter } from '../propagation';
import { isTraceIdOnly } from '../propagation/remote';
import { DEFAULT_PROPAGATION } from '../propagation/composite';
import { getTracer } from '../tracer/global';
import { incomingSpan } from '../tracer/tracer';
import type { IncomingOut, Tracer } from '../tracer/tracer';
import { warnOnce } from '../diag/warn';
import { compileIgnore } from './ignore';
import type { IgnoreOption } from './ignore';
import { SENSITIVE_HEADERS } from '../internal/redact';
import { ResponseTap } from './tap';
import type { TapSettings } from './tap';
import type { StreamFormat } from '../stream';
import { now } from '../internal/clock';
import type { ObserverSet } from '../observe';
import { llmOutcome } from '../llm/outcome';
import type { Accumulator } from '../stream/accumulator';

/** Options shared by every adapter (README.md "Adapter options"). */
export interface ServerTracingOptions {
  /** The tracer to use (default: the global one, `getTracer()`). */
  tracer?: Tracer;
  /** Requests not to trace (context still propagates): paths, globs, RegExps or a predicate. */
  ignore?: IgnoreOption<IncomingMessage>;
  /** The span name, from the method and the route template (undefined when nothing matched). */
  spanName?: (info: { method: string; route: string | undefined; req: IncomingMessage }) => string;
  /** Header names to record as `http.request.header.*` / `http.response.header.*`. */
  captureHeaders?: string[] | { request?: string[]; response?: string[] };
  /** Streamed-response tapping: `false` to turn it off (see the stream accumulator). */
  stream?: boolean | { formats?: Array<'sse' | 'ndjson' | 'chunked'>; maxBytes?: number };
  /** Called after the server span starts; an exception is logged once and ignored. */
  onRequest?: (span: Span, req: IncomingMessage) => void;
  /** Called just before the server span ends; an exception is logged once and ignored. */
  onResponse?: (span: Span, req: IncomingMessage, res: ServerResponse) => void;
}

/** Per-request state, held by the adapter (in a WeakMap or a Symbol property). */
export interface ServerRequestState {
  readonly span: Span;
  /** The tracer that started the span (undefined for an ignored request). */
  readonly tracer: Tracer | undefined;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Whether the span records; adapters skip optional work when false. */
  readonly recording: boolean;
  /**
   * Whether the adapter must report the route and call finish(): the span records, or an
   * observer (metrics) waits for the outcome of this request even though it is not sampled.
   */
  readonly needsFinish: boolean;
  /** The tracer's observers when the request started (undefined: none, nothing to report). */
  readonly observer: ObserverSet | undefined;
  /** Route template, when the adapter learnt it before finish. */
  route: string | undefined;
  /** A fixed span name (e.g. a route's own config) that wins over the default naming. */
  name?: string;
  /** An error the handler threw or passed on (recorded once). */
  error: unknown;
  finished: boolean;
  readonly startTime: number;
  /** Watches the response body (streamed responses), when the `stream` option allows. */
  tap?: ResponseTap;
  /** The incoming W3C baggage the trust policy let in: active while the handler runs. */
  baggage: Baggage | undefined;
}

const ALL_FORMATS: ReadonlySet<StreamFormat> = new Set<StreamFormat>(['sse', 'ndjson', 'chunked']);

function normaliseStream(option: ServerTracingOptions['stream']): { formats: ReadonlySet<StreamFormat>; maxBytes: number | undefined } | undefined {
  if (option === false) return undefined;
  if (option === undefined || option === true) return { formats: ALL_FORMATS, maxBytes: undefined };
  if (typeof option !== 'object' || option === null) throw new TypeError('tracewire: option "stream" must be false or { formats, maxBytes }');
  let formats = ALL_FORMATS;
  if (option.formats !== undefined) {
    if (!Array.isArray(option.formats) || option.formats.some((f) => !ALL_FORMATS.has(f))) {
      throw new TypeError('tracewire: option "stream.formats" must be a list of "sse", "ndjson", "chunked"');
    }
    formats = new Set(option.formats);
  }
  const maxBytes = option.maxBytes;
  if (maxBytes !== undefined && !(Number.isInteger(maxBytes) && maxBytes >= 0)) {
    throw new TypeError('tracewire: option "stream.maxBytes" must be a non-negative integer');
  }
  return { formats, maxBytes };
}

const SERVER: StartSpanOptions = Object.freeze({ kind: 'server' });
const SERVER_ROOT: StartSpanOptions = Object.freeze({ kind: 'server', parent: null });

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY']);

/** Reads node:http headers (lowercase keys, string or string[]). */
export const nodeHeaderGetter: CarrierGetter<IncomingMessage['headers']> = {
  get(headers, key) {
    return headers[key];
  },
};

function normaliseHeaderList(list: unknown, name: string): string[] {
  if (list === undefined) return [];
  if (!Array.isArray(list) || list.some((h) => typeof h !== 'string')) {
    throw new TypeError(`tracewire: option "${name}" must be an array of header names`);
  }
  const out: string[] = [];
  for (const h of list as string[]) {
    const lower = h.toLowerCase();
    // Sensitive headers are never recorded, even when listed (docs/design.md "Safety defaults").
    if (SENSITIVE_HEADERS.has(lower)) {
      warnOnce(`sensitive-header:${lower}`, `captureHeaders lists "${lower}", which is never recorded`);
      continue;
    }
    if (!out.includes(lower)) out.push(lower);
  }
  return out;
}

function headerValue(v: string | string[] | number | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.map(String) : [String(v)];
}

/** Splits `host[:port]`, with IPv6 literals in brackets. */
function parseHost(host: string | undefined): [string | undefined, number | undefined] {
  if (!host) return [undefined, undefined];
  let name = host;
  let port: number | undefined;
  const close = host.lastIndexOf(']');
  const colon = host.lastIndexOf(':');
  if (colon > close) {
    const p = Number(host.slice(colon + 1));
    if (Number.isInteger(p) && p > 0 && p < 65536) port = p;
    name = host.slice(0, colon);
  }
  if (name.startsWith('[') && name.endsWith(']')) name = name.slice(1, -1);
  return [name || undefined, port];
}

/**
 * The server-span lifecycle every adapter shares: start from the incoming headers (trust policy,
 * sampling), attributes, run the handler in the span's context, record errors, and one idempotent
 * finish that names the span from the route template and maps status. Adapters only tell it the
 * route, the finish moment and the errors; nothing here ever throws into the application.
 */
export class ServerInstrumentation {
  private readonly tracerOption: Tracer | undefined;
  private readonly ignore: ((req: IncomingMessage, path: string) => boolean) | undefined;
  private readonly spanName: ServerTracingOptions['spanName'];
  private readonly requestHeaders: string[];
  private readonly responseHeaders: string[];
  private readonly onRequest: ServerTracingOptions['onRequest'];
  private readonly onResponse: ServerTracingOptions['onResponse'];
  private readonly stream: { formats: ReadonlySet<StreamFormat>; maxBytes: number | undefined } | undefined;
  private tapSettings: TapSettings | undefined;
  private tapFor: Tracer | undefined;
  /** Scratch for incomingSpan's second result; start() is synchronous, so one per instance is enough. */
  private readonly incomingOut: IncomingOut = { baggage: undefined };

  constructor(options: ServerTracingOptions = {}, readonly adapter = 'http') {
    if (options === null || typeof options !== 'object') throw new TypeError(`tracewire: ${adapter} options must be an object`);
    if (options.tracer !== undefined && (typeof options.tracer !== 'object' || typeof options.tracer.startIncomingSpan !== 'function')) {
      throw new TypeError('tracewire: option "tracer" must be a Tracer from createTracer()');
    }
    for (const hook of ['onRequest', 'onResponse', 'spanName'] as const) {
      if (options[hook] !== undefined && typeof options[hook] !== 'function') throw new TypeError(`tracewire: option "${hook}" must be a function`);
    }
    this.tracerOption = options.tracer;
    this.ignore = compileIgnore(options.ignore);
    this.spanName = options.spanName;
    const ch = options.captureHeaders;
    if (Array.isArray(ch) || ch === undefined) {
      this.requestHeaders = normaliseHeaderList(ch, 'captureHeaders');
      this.responseHeaders = this.requestHeaders;
    } else if (typeof ch === 'object' && ch !== null) {
      this.requestHeaders = normaliseHeaderList(ch.request, 'captureHeaders.request');
      this.responseHeaders = normaliseHeaderList(ch.response, 'captureHeaders.response');
    } else {
      throw new TypeError('tracewire: option "captureHeaders" must be an array of header names or { request, response }');
    }
    this.onRequest = options.onRequest;
    this.onResponse = options.onResponse;
    this.stream = normaliseStream(options.stream);
  }

  /** The tracer: explicit, or the global one as it is when the request arrives. */
  tracer(): Tracer {
    return this.tracerOption ?? getTracer();
  }

  private tapSettingsFor(tracer: Tracer): TapSettings {
    if (this.tapFor !== tracer || !this.tapSettings) {
      const c = tracer.config;
      this.tapSettings = { formats: this.stream!.formats, maxBytes: this.stream!.maxBytes, captureContent: c.captureContent, pricing: c.pricing, genAiNames: c.genAiNames };
      this.tapFor = tracer;
    }
    return this.tapSettings;
  }


  /**
   * Starts the server span for `req`. Returns undefined when the request is ignored and carries no
   * incoming context (then the adapter does nothing more), or when Tracewire itself failed.
   * `ignore` lets an adapter skip a request it knows more about (a route's own config).
   */
  start(req: IncomingMessage, res: ServerResponse, ignore = false): ServerRequestState | undefined {
    try {
      const url = req.url || '/';
      const q = url.indexOf('?');
      const path = q === -1 ? url : url.slice(0, q);
      const tracer = this.tracer();
      // A tracer-like object without our config still gets the default formats.
      const propagation = tracer.config.propagation ?? DEFAULT_PROPAGATION;
      const headers = req.headers;
      if (ignore || (this.ignore !== undefined && this.ignore(req, path))) {
        // Ignored: no span, but the caller's context and baggage still flow to outbound calls
        // (when the trust policy lets them in).
        return propagation.present(headers) ? this.passThrough(tracer, req, res) : undefined;
      }
      const rawMethod = req.method || 'GET';
      const method = KNOWN_METHODS.has(rawMethod) ? rawMethod : '_OTHER';
      const name = method === '_OTHER' ? 'HTTP' : method;
      // No header any configured format reads: nothing to extract or trust, a new trace (the
      // common case for edge services).
      let baggage: Baggage | undefined;
      let span: Span;
      if (!propagation.present(headers)) {
        span = tracer.startSpan(name, SERVER_ROOT);
      } else {
        const out = this.incomingOut;
        span = incomingSpan(tracer, name, headers, SERVER, nodeHeaderGetter as CarrierGetter<unknown>, out);
        baggage = out.baggage;
        out.baggage = undefined;
      }
      const recording = span.isRecording();
      const observer = tracer.observer;
      if (!recording) {
        if (observer === undefined) return { span, tracer, req, res, recording, needsFinish: false, observer, route: undefined, error: undefined, finished: false, startTime: 0, baggage };
        // Not sampled, but observed: the outcome (and an LLM stream's figures) is still measured.
        const unsampled: ServerRequestState = { span, tracer, req, res, recording, needsFinish: true, observer, route: undefined, error: undefined, finished: false, startTime: now(), baggage };
        if (this.stream) unsampled.tap = new ResponseTap(res, this.tapSettingsFor(tracer), unsampled.startTime);
        return unsampled;
      }
      const state: ServerRequestState = { span, tracer, req, res, recording, needsFinish: true, observer, route: undefined, error: undefined, finished: false, startTime: (span as unknown as { startTime: number }).startTime, baggage };
      const socket = req.socket as (typeof req.socket & { encrypted?: boolean }) | undefined;
      const [host, port] = parseHost(req.headers.host);
      const attrs: Attributes = {
        'http.request.method': method,
        'url.path': path,
        'url.scheme': socket && socket.encrypted ? 'https' : 'http',
        'network.protocol.version': req.httpVersion,
      };
      // Counted as they are added: adoptAttributes needs the count, and re-counting keys costs.
      let count = 4;
      if (method === '_OTHER') {
        attrs['http.request.method_original'] = rawMethod;
        count++;
      }
      if (q !== -1 && q < url.length - 1) {
        attrs['url.query'] = tracer.config.redactQuery(url.slice(q + 1));
        count++;
      }
      if (host !== undefined) {
        attrs['server.address'] = host;
        count++;
      }
      if (port !== undefined || host !== undefined) {
        attrs['server.port'] = port !== undefined ? port : attrs['url.scheme'] === 'https' ? 443 : 80;
        count++;
      }
      if (socket && socket.remoteAddress) {
        attrs['client.address'] = socket.remoteAddress;
        count++;
      }
      const ua = req.headers['user-agent'];
      if (ua) {
        attrs['user_agent.original'] = ua;
        count++;
      }
      for (const h of this.requestHeaders) {
        const v = headerValue(req.headers[h]);
        if (v) {
          attrs[`http.request.header.${h}`] = v;
          count++;
        }
      }
      adoptAttributes(span, attrs, count);
      if (this.stream) state.tap = new ResponseTap(res, this.tapSettingsFor(tracer), state.startTime);
      if (this.onRequest) this.callHook('onRequest', () => this.onRequest!(span, req));
      return state;
    } catch (err) {
      this.internalError(err);
      return undefined;
    }
  }

  /**
   * The state of an ignored request that carries a context or baggage: a span that records nothing
   * (nor does anything under it) and passes the caller's context on, with a fresh span id when
   * the caller sent a trace id alone.
   */
  private passThrough(tracer: Tracer, req: IncomingMessage, res: ServerResponse): ServerRequestState | undefined {
    const propagation = tracer.config.propagation ?? DEFAULT_PROPAGATION;
    const trustIncoming = tracer.config.trustIncoming;
    const getter = nodeHeaderGetter as CarrierGetter<unknown>;
    const remote = propagation.extract(req.headers, getter);
    const baggage = propagation.extractBaggage(req.headers, getter);
    if (remote === null && baggage === undefined) return undefined;
    // The predicate is wrapped by the config (a throw answers false).
    if (!(typeof trustIncoming === 'function' ? trustIncoming(req.headers) : trustIncoming)) return undefined;
    const ctx = remote === null ? INVALID_SPAN_CONTEXT : isTraceIdOnly(remote) ? { traceId: remote.traceId, spanId: newSpanId(), traceFlags: remote.traceFlags } : remote;
    return { span: new NonRecordingSpan(ctx, true), tracer: undefined, req, res, recording: false, needsFinish: false, observer: undefined, route: undefined, error: undefined, finished: false, startTime: 0, baggage };
  }

  /** Runs `fn` with the request's span active (a no-op wrapper without state). */
  run<T>(state: ServerRequestState | undefined, fn: () => T): T {
    if (!state) return fn();
    return state.baggage === undefined ? runWithSpan(state.span, fn) : runWithSpanAndBaggage(state.span, state.baggage, fn);
  }

  /**
   * Records a handler error on the root span: the exception event now, once per distinct error;
   * status and `error.type` at finish, where the response status is known (an error the app turns
   * into a 4xx is not a server failure, per the HTTP semantic conventions). Never throws.
   */
  error(state: ServerRequestState | undefined, err: unknown): void {
    // After finish the span has ended: an error thrown once the client left is not recorded.
    if (!state || !state.needsFinish || state.finished || state.error === err) return;
    try {
      state.error = err;
      if (state.recording) state.span.recordException(err);
    } catch (e) {
      this.internalError(e);
    }
  }

  /**
   * Ends the server span: route name, status code, abort, response headers. Idempotent; call it
   * from the response's `close` (or on-finished), never from a framework's send hook. With
   * observers, reports the outcome too, for unsampled requests as well.
   */
  finish(state: ServerRequestState | undefined, route?: string): void {
    if (!state || state.finished) return;
    state.finished = true;
    if (!state.needsFinish) return;
    if (route !== undefined) state.route = route;
    if (!state.recording) {
      this.finishUnsampled(state);
      return;
    }
    try {
      const { span, req, res } = state;
      const method = req.method && KNOWN_METHODS.has(req.method) ? req.method : 'HTTP';
      const r = state.route;
      const name = state.name ?? (this.spanName ? this.safeName(method, r, req) : r ? `${method} ${r}` : method);
      span.updateName(name);
      const attrs: Attributes = {};
      if (r) attrs['http.route'] = r;
      const status = res.statusCode;
      // A response that was never completely written means the client went away first.
      const aborted = !res.writableFinished;
      const sent = res.headersSent || !aborted;
      if (sent) attrs['http.response.status_code'] = status;
      for (const h of this.responseHeaders) {
        const v = headerValue(res.getHeader(h) as string | string[] | number | undefined);
        if (v) attrs[`http.response.header.${h}`] = v;
      }
      mergeTrustedAttributes(span, attrs);
      const err = state.error;
      const errorType = errorTypeFor(aborted, err, status);
      if (aborted) {
        span.setAttribute('tracewire.stream.aborted', true);
        span.setAttribute('error.type', 'client_aborted');
        span.setStatus({ code: 'error', message: 'client closed the connection before the response ended' });
      } else if (errorType !== undefined) {
        span.setAttribute('error.type', errorType);
        // The handler failed and the response says so (5xx), or it never became an HTTP error.
        if (err !== undefined && (status >= 500 || status < 400)) span.setStatus({ code: 'error', message: err instanceof Error ? err.message : typeof err === 'string' ? err : undefined });
        else span.setStatus({ code: 'error' });
      }
      const observer = state.observer;
      const end = (acc: Accumulator | undefined) => {
        if (acc !== undefined) acc.applyTo(span);
        if (this.onResponse) this.callHook('onResponse', () => this.onResponse!(span, req, res));
        span.end(endTime);
        if (observer !== undefined) this.report(state, observer, sent ? status : undefined, errorType, endTime, acc);
      };
      // The span's end is the response's end, even when a compressed body is still being inflated
      // for the accumulator.
      const endTime = now();
      const closed = state.tap ? state.tap.finish(aborted) : undefined;
      if (closed instanceof Promise) {
        closed.then(end, (e: unknown) => {
          this.internalError(e);
          end(undefined);
        });
      } else end(closed);
    } catch (err) {
      this.internalError(err);
      try {
        state.span.end();
      } catch {
        // the span is lost; internalError already counted the failure
      }
    }
  }

  /** The outcome of a request that was not sampled but is observed: no span, the same figures. */
  private finishUnsampled(state: ServerRequestState): void {
    try {
      const observer = state.observer;
      if (observer === undefined) return;
      const res = state.res;
      const status = res.statusCode;
      const aborted = !res.writableFinished;
      const sent = res.headersSent || !aborted;
      const errorType = errorTypeFor(aborted, state.error, status);
      const endTime = now();
      const closed = state.tap ? state.tap.finish(aborted) : undefined;
      const report = (acc: Accumulator | undefined) => this.report(state, observer, sent ? status : undefined, errorType, endTime, acc);
      if (closed instanceof Promise) {
        closed.then(report, (e: unknown) => {
          this.internalError(e);
          report(undefined);
        });
      } else report(closed);
    } catch (err) {
      this.internalError(err);
    }
  }

  /** Hands the request's outcome, and its LLM stream's when there was one, to the observers. */
  private report(state: ServerRequestState, observer: ObserverSet, statusCode: number | undefined, errorType: string | undefined, endTime: number, acc: Accumulator | undefined): void {
    try {
      const req = state.req;
      const rawMethod = req.method || 'GET';
      const socket = req.socket as (typeof req.socket & { encrypted?: boolean }) | undefined;
      const scheme = socket && socket.encrypted ? 'https' : 'http';
      if (acc !== undefined) {
        const result = acc.finalResult();
        if (result !== undefined) {
          const [host, port] = parseHost(req.headers.host);
          observer.llmCall(
            llmOutcome(result, {
              side: 'server',
              requestModel: undefined,
              serverAddress: host,
              serverPort: port !== undefined ? port : host !== undefined ? (scheme === 'https' ? 443 : 80) : undefined,
              stream: true,
              startTime: state.startTime,
              endTime,
              firstChunkTime: acc.firstContentAt(),
              contentChunks: acc.contentChunks,
              chunkIntervals: undefined,
              estimateOutputFrom: acc.aborted ? acc.contentChunks : undefined,
              aborted: acc.aborted,
              pricing: state.tracer !== undefined ? state.tracer.config.pricing : undefined,
              sampled: state.recording,
            }),
          );
        }
      }
      observer.serverRequest({
        method: KNOWN_METHODS.has(rawMethod) ? rawMethod : '_OTHER',
        scheme,
        route: state.route,
        statusCode,
        errorType,
        protocolVersion: req.httpVersion,
        duration: Math.max(0, endTime - state.startTime) / 1000,
        sampled: state.recording,
      });
    } catch (err) {
      this.internalError(err);
    }
  }

  private safeName(method: string, route: string | undefined, req: IncomingMessage): string {
    try {
      const n = this.spanName!({ method, route, req });
      if (typeof n === 'string' && n) return n;
    } catch (err) {
      warnOnce(`${this.adapter}:spanName`, `spanName hook threw (${err instanceof Error ? err.message : String(err)}); using the default name`);
    }
    return route ? `${method} ${route}` : method;
  }

  private callHook(name: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      warnOnce(`${this.adapter}:${name}`, `${name} hook threw (${err instanceof Error ? err.message : String(err)}); ignored (logged once)`);
    }
  }

  /** A bug or bad hook inside Tracewire: logged once, the request goes on untraced. */
  internalError(err: unknown): void {
    warnOnce(`${this.adapter}:internal`, `internal error in the ${this.adapter} adapter; the request proceeds untraced: ${err instanceof Error ? err.stack || err.message : String(err)}`);
  }
}

/**
 * `error.type` of a finished request (HTTP semantic conventions): `client_aborted` when the client
 * went away first; the handler's error class when it failed and the response says so (5xx) or
 * never became an HTTP error; the status code for any other 5xx; undefined for a success (a 4xx
 * is the client's error, not the server's).
 */
function errorTypeFor(aborted: boolean, err: unknown, status: number): string | undefined {
  if (aborted) return 'client_aborted';
  if (err !== undefined && (status >= 500 || status < 400)) return errorTypeOf(err);
  if (status >= 500) return String(status);
  return undefined;
}

/** Creates the shared server-span logic for an adapter. Bad options throw a TypeError naming them. */
export function createServerInstrumentation(options?: ServerTracingOptions, adapter?: string): ServerInstrumentation {
  return new ServerInstrumentation(options, adapter);
}
