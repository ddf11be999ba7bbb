/**
 * node:http on top of the transport-neutral server span (server/): the request's carrier and
 * attributes, the response tap, the one close-based finish, and the outcome of the response
 * (route, status code, abort, stream and LLM attributes, the error) handed to `end` once.
 * Adapters (Express, Koa, Fastify) add only what is framework-specific: the route template, where
 * handler errors flow, and per-route settings.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Span } from '../types';
import { errorTypeOf } from '../trace/span';
import type { Tracer } from '../tracer/tracer';
import { ServerSpans } from '../server/span';
import type { ServerError, ServerSpan, ServerStartOptions } from '../server/span';
import type { ObserverSet } from '../observe';
import { llmOutcome } from '../llm/outcome';
import type { Accumulator } from '../stream/accumulator';
import type { StreamFormat } from '../stream';
import { warnOnce } from '../diag/warn';
import { callHook, errorMessage } from '../internal/guard';
import { KNOWN_METHODS } from '../internal/methods';
import { SENSITIVE_HEADERS } from '../internal/redact';
import { now } from '../internal/clock';
import { compileIgnore } from './ignore';
import type { IgnoreOption } from './ignore';
import { ResponseTap } from './tap';
import type { TapSettings } from './tap';
import { onResponseClose } from './finish';
import { slotReserver } from './slots';
import { HttpExchange, headerValue, parseHost, schemeOf } from './request';

export { nodeHeaderGetter } from './request';

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

/** How an adapter plugs in: its name (for warnings) and where the route template is read at the end. */
export interface HttpAdapter<S> {
  name: string;
  /**
   * The route template (`/users/:id`) of the request, read when the response is over (late: the
   * router has matched by then); undefined when no route matched. `source` is what the adapter
   * passed to `start` (its request or context object).
   */
  route?: (source: S) => string | undefined;
  /**
   * The symbols the adapter sets on each `req`, for a framework that replaces the prototypes of
   * `req` and `res` (Express): on Node 20 and 22 they are reserved before the framework sees the
   * request, with the response tap's (http/slots.ts).
   */
  requestSlots?: readonly symbol[];
}

/** One request's server span, as `start` returns it (see server/span.ts). */
export type ServerRequestState = ServerSpan;

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

const ABORTED: ServerError = Object.freeze({ type: 'client_aborted', message: 'client closed the connection before the response ended' });

/**
 * The error a response ended with, status and `error.type` decided once: an error the provider
 * reported in the streamed body, else the client going away, else the handler's error (when the
 * response says so), else a bare 5xx.
 */
function errorFor(stream: ServerError | undefined, aborted: boolean, err: unknown, status: number): ServerError | undefined {
  if (stream !== undefined) return stream;
  if (aborted) return ABORTED;
  if (err !== undefined && (status >= 500 || status < 400)) {
    const message = err instanceof Error ? err.message : typeof err === 'string' ? err : undefined;
    return message !== undefined ? { type: errorTypeOf(err), message } : { type: errorTypeOf(err) };
  }
  if (status >= 500) return { type: String(status) };
  return undefined;
}

/**
 * The server span of every node:http request an adapter sees: `start` opens it and arranges its
 * end at the response's `close`; the adapter runs the handler with `run` and passes handler errors
 * to `error`. Nothing here ever throws into the application.
 */
export class ServerInstrumentation<S = IncomingMessage> {
  readonly adapter: string;
  private readonly spans: ServerSpans;
  private readonly routeOf: ((source: S) => string | undefined) | undefined;
  private readonly ignore: ((req: IncomingMessage, path: string) => boolean) | undefined;
  private readonly spanName: ServerTracingOptions['spanName'];
  private readonly requestHeaders: string[];
  private readonly responseHeaders: string[];
  private readonly onRequest: ServerTracingOptions['onRequest'];
  private readonly onResponse: ServerTracingOptions['onResponse'];
  private readonly stream: { formats: ReadonlySet<StreamFormat>; maxBytes: number | undefined } | undefined;
  private tapSettings: TapSettings | undefined;
  private tapFor: Tracer | undefined;
  private readonly reserveSlots: ((req: IncomingMessage) => void) | undefined;

  constructor(options: ServerTracingOptions = {}, adapter: string | HttpAdapter<S> = 'http') {
    const name = typeof adapter === 'string' ? adapter : adapter.name;
    if (options === null || typeof options !== 'object') throw new TypeError(`tracewire: ${name} options must be an object`);
    for (const hook of ['onRequest', 'onResponse', 'spanName'] as const) {
      if (options[hook] !== undefined && typeof options[hook] !== 'function') throw new TypeError(`tracewire: option "${hook}" must be a function`);
    }
    this.adapter = name;
    this.spans = new ServerSpans({ tracer: options.tracer, adapter: name });
    this.routeOf = typeof adapter === 'string' ? undefined : adapter.route;
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
    this.reserveSlots = typeof adapter === 'string' ? undefined : slotReserver(adapter.requestSlots);
  }

  /** The tracer: explicit, or the global one as it is when the request arrives. */
  tracer(): Tracer {
    return this.spans.tracer();
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
   * Starts the server span for `req` and arranges its end at the response's `close`. `source` is
   * what the adapter's `route` reads the template from; `options.ignore` skips a request the
   * adapter knows more about (a route's own setting), `options.spanName` names it. Undefined when
   * the request is ignored and carries no context, or Tracewire itself failed (reported once).
   */
  start(req: IncomingMessage, res: ServerResponse, source?: S, options?: ServerStartOptions): ServerRequestState | undefined {
    try {
      if (this.reserveSlots !== undefined) this.reserveSlots(req);
      const url = req.url || '/';
      const q = url.indexOf('?');
      const path = q === -1 ? url : url.slice(0, q);
      const x = new HttpExchange<S | undefined>(req, res, source, this.requestHeaders, q !== -1 && q < url.length - 1 ? url.slice(q + 1) : undefined, path);
      const ignored = (options !== undefined && options.ignore === true) || (this.ignore !== undefined && this.ignore(req, path));
      const handle = this.spans.start(x, ignored ? { ignore: true } : options);
      if (handle === undefined || !handle.needsEnd) return handle;
      x.handle = handle;
      // Not sampled but observed too: the outcome (and an LLM stream's figures) is measured.
      if (this.stream) x.tap = new ResponseTap(res, this.tapSettingsFor(handle.tracer!), handle.startTime);
      if (handle.recording && this.onRequest) {
        const span = handle.span;
        callHook(`${this.adapter}:onRequest`, 'onRequest', () => this.onRequest!(span, req));
      }
      onResponseClose(res, () => this.finish(x));
      return handle;
    } catch (err) {
      this.internalError(err);
      return undefined;
    }
  }

  /** Runs `fn` with the request's span active (a plain call without one). */
  run<T>(handle: ServerRequestState | undefined, fn: () => T): T {
    return handle === undefined ? fn() : handle.run(fn);
  }

  /**
   * Records a handler error on the server span: the exception event now, once per distinct error;
   * status and `error.type` at the end, where the response status is known (an error the app turns
   * into a 4xx is not a server failure, per the HTTP semantic conventions). Never throws.
   */
  error(handle: ServerRequestState | undefined, err: unknown): void {
    if (handle !== undefined) handle.recordError(err);
  }

  /** The response is over: its outcome, once the tapped body (even a compressed one) is read. */
  private finish(x: HttpExchange<S | undefined>): void {
    if (x.finished) return;
    x.finished = true;
    const handle = x.handle as ServerSpan;
    try {
      const res = x.res;
      // Read late: the router has matched by now.
      const route = this.routeOf !== undefined ? this.routeOf(x.source as S) : undefined;
      // A response that was never completely written means the client went away first.
      const aborted = !res.writableFinished;
      // The span's end is the response's end, even when a compressed body is still being inflated
      // for the accumulator.
      const endTime = now();
      const closed = x.tap !== undefined ? x.tap.finish(aborted) : undefined;
      if (closed instanceof Promise) {
        closed.then(
          (acc) => this.complete(x, route, aborted, endTime, acc),
          (e: unknown) => {
            this.internalError(e);
            this.complete(x, route, aborted, endTime, undefined);
          },
        );
      } else this.complete(x, route, aborted, endTime, closed);
    } catch (err) {
      this.internalError(err);
      handle.end();
    }
  }

  private complete(x: HttpExchange<S | undefined>, route: string | undefined, aborted: boolean, endTime: number, acc: Accumulator | undefined): void {
    const handle = x.handle as ServerSpan;
    const { req, res } = x;
    try {
      const status = res.statusCode;
      const sent = res.headersSent || !aborted;
      if (handle.recording) {
        const method = KNOWN_METHODS.has(req.method as string) ? (req.method as string) : 'HTTP';
        const name = this.spanName ? this.safeName(method, route, req) : route ? `${method} ${route}` : method;
        const responseHeaders = this.responseHeaders;
        const onResponse = this.onResponse;
        handle.end({
          name,
          // Written by name into the span's own attributes: the stream's, then the response's.
          attributes: (a) => {
            if (acc !== undefined) acc.fillAttributes(a);
            if (route) a['http.route'] = route;
            if (sent) a['http.response.status_code'] = status;
            // Only a stream's abort: the tap's accumulator writes it; with the tap off, a response
            // that had begun without a known length. A client gone before any answer, or from a
            // whole body, has error.type alone.
            if (aborted && x.tap === undefined && res.headersSent && !res.hasHeader('content-length')) a['tracewire.stream.aborted'] = true;
            for (const h of responseHeaders) {
              const v = headerValue(res.getHeader(h) as string | string[] | number | undefined);
              if (v) a[`http.response.header.${h}`] = v;
            }
          },
          error: errorFor(acc !== undefined ? acc.streamError() : undefined, aborted, handle.error, status),
          endTime,
          beforeEnd: onResponse !== undefined ? (span) => onResponse(span, req, res) : undefined,
        });
      } else handle.end();
      const observer = handle.observer;
      if (observer !== undefined) this.report(x, handle, observer, route, sent ? status : undefined, errorTypeFor(aborted, handle.error, status), endTime, acc);
    } catch (err) {
      this.internalError(err);
      handle.end();
    }
  }

  /** Hands the request's outcome, and its LLM stream's when there was one, to the observers. */
  private report(x: HttpExchange<S | undefined>, handle: ServerSpan, observer: ObserverSet, route: string | undefined, statusCode: number | undefined, errorType: string | undefined, endTime: number, acc: Accumulator | undefined): void {
    try {
      const req = x.req;
      const rawMethod = req.method || 'GET';
      const scheme = schemeOf(req);
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
              startTime: handle.startTime,
              endTime,
              firstChunkTime: acc.firstContentAt(),
              contentChunks: acc.contentChunks,
              chunkIntervals: undefined,
              estimateOutputFrom: acc.aborted ? acc.contentChunks : undefined,
              aborted: acc.aborted,
              pricing: handle.tracer !== undefined ? handle.tracer.config.pricing : undefined,
              sampled: handle.recording,
            }),
          );
        }
      }
      observer.serverRequest({
        method: KNOWN_METHODS.has(rawMethod) ? rawMethod : '_OTHER',
        scheme,
        route,
        statusCode,
        errorType,
        protocolVersion: req.httpVersion,
        duration: Math.max(0, endTime - handle.startTime) / 1000,
        sampled: handle.recording,
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
      warnOnce(`${this.adapter}:spanName`, `spanName hook threw (${errorMessage(err)}); using the default name`);
    }
    return route ? `${method} ${route}` : method;
  }

  /** A bug or bad hook inside Tracewire: logged once, the request goes on untraced. */
  internalError(err: unknown): void {
    this.spans.internalError(err);
  }
}

/**
 * Creates the node:http server-span logic for an adapter: its name, or `{ name, route }` to have
 * the route template read at the end. Bad options throw a TypeError naming them.
 */
export function createServerInstrumentation<S = IncomingMessage>(options?: ServerTracingOptions, adapter?: string | HttpAdapter<S>): ServerInstrumentation<S> {
  return new ServerInstrumentation<S>(options, adapter);
}
