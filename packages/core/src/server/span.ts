/**
 * The transport-neutral server span: one incoming request (HTTP, gRPC, a queue message) from its
 * carrier to its end. Start continues the caller's trace under the trust policy and head-samples;
 * the handle runs code in the span's context, records the handler's errors, and ends once with
 * the outcome the transport computed (name, attributes, error). Nothing here ever throws into the
 * application (docs/design.md "Safety defaults"); `http/` is the node:http transport on top.
 */
import type { Span, StartSpanOptions } from '../types';
import { INVALID_SPAN_CONTEXT, NonRecordingSpan, startTimeOf, writeAttributes } from '../trace/span';
import type { AttributeWrite } from '../trace/span';
import { newSpanId } from '../trace/ids';
import { runWithSpan, runWithSpanAndBaggage } from '../context/storage';
import type { Baggage } from '../propagation/baggage';
import { isTraceIdOnly } from '../propagation/remote';
import { DEFAULT_PROPAGATION } from '../propagation/composite';
import { getTracer } from '../tracer/global';
import { incomingSpan } from '../tracer/tracer';
import type { IncomingOut, Tracer } from '../tracer/tracer';
import type { ObserverSet } from '../observe';
import { warnOnce } from '../diag/warn';
import { callHook } from '../internal/guard';
import { now } from '../internal/clock';
import type { ServerCarrier } from './carrier';

/** Setup of a server-span layer: one per adapter (or interceptor) instance. */
export interface ServerSpanOptions {
  /** The tracer (default: the global one, `getTracer()`, as it is when each request arrives). */
  tracer?: Tracer;
  /** Who uses the layer, for its warnings (`internal error in the grpc adapter`). Default `server`. */
  adapter?: string;
}

/** How one request is started. */
export interface ServerStartOptions {
  /**
   * Record nothing for this request: no span, and nothing started under it records, but the
   * caller's context and baggage still pass on to outgoing calls (under the trust policy).
   */
  ignore?: boolean;
  /** A fixed name for the span (a route's own setting): wins over the name the outcome gives. */
  spanName?: string;
}

/** An error the request ended with: `error.type` and the status message. */
export interface ServerError {
  type: string;
  message?: string;
}

/** How a request ended, as the transport saw it. Every field is optional. */
export interface ServerOutcome {
  /** The span's final name (HTTP: `GET /users/:id`). A `spanName` given at start wins. */
  name?: string;
  /**
   * The response's attributes (status code, route, stream, LLM...), Tracewire-built: an object
   * (handed to the span), or a function writing them by name into the span's own attribute object
   * (the cheaper way for many at once; see `writeAttributes`).
   */
  attributes?: AttributeWrite;
  /** Set when the request failed: status Error with this message, `error.type` this type. Written once, here. */
  error?: ServerError;
  /** When the request ended (epoch ms; default now). */
  endTime?: number;
  /**
   * Called with the span once the outcome is on it, just before it ends (an `onResponse` hook,
   * which may still change it). A throw is logged once and ignored.
   */
  beforeEnd?: (span: Span) => void;
}

/**
 * One request's server span, as the transport holds it. Opaque: the transport reads what it needs
 * and ends it once; the layer keeps the rest.
 */
export interface ServerSpan {
  /** The span: non-recording when unsampled, or for an ignored request (then it only propagates). */
  readonly span: Span;
  /** The tracer whose trace this is; undefined for an ignored request. */
  readonly tracer: Tracer | undefined;
  /** Whether the span records: optional work (attributes, hooks) is skipped when it does not. */
  readonly recording: boolean;
  /** The tracer's observers when the request started (metrics): they see unsampled requests too. */
  readonly observer: ObserverSet | undefined;
  /**
   * Whether the transport must tell the end at all: the span records, or an observer waits for the
   * outcome. False for an unsampled, unobserved or ignored request, which costs nothing more.
   */
  readonly needsEnd: boolean;
  /** Epoch ms the request started (0 when nothing waits for its end). */
  readonly startTime: number;
  /** The last error `recordError` was given (undefined: none). */
  readonly error: unknown;
  /** Whether `end` was called. */
  readonly ended: boolean;
  /** Runs `fn` with the span (and the caller's accepted baggage) active. */
  run<T>(fn: () => T): T;
  /**
   * Records a handler error: an `exception` event now, once per distinct error. The status is the
   * transport's to decide at the end (an error turned into a 4xx is not a server failure).
   */
  recordError(err: unknown): void;
  /** Ends the span with the outcome. Idempotent: only the first call counts. */
  end(outcome?: ServerOutcome): void;
}

const SERVER: StartSpanOptions = Object.freeze({ kind: 'server' });
const SERVER_ROOT: StartSpanOptions = Object.freeze({ kind: 'server', parent: null });

class Handle implements ServerSpan {
  error: unknown = undefined;
  ended = false;
  readonly needsEnd: boolean;

  constructor(
    private readonly layer: ServerSpans,
    readonly span: Span,
    readonly tracer: Tracer | undefined,
    readonly recording: boolean,
    readonly observer: ObserverSet | undefined,
    readonly startTime: number,
    private readonly baggage: Baggage | undefined,
    private readonly fixedName: string | undefined,
  ) {
    this.needsEnd = recording || observer !== undefined;
  }

  run<T>(fn: () => T): T {
    return this.baggage === undefined ? runWithSpan(this.span, fn) : runWithSpanAndBaggage(this.span, this.baggage, fn);
  }

  recordError(err: unknown): void {
    // After the end the span has ended: an error thrown once the client left is not recorded.
    if (!this.needsEnd || this.ended || this.error === err) return;
    this.error = err;
    if (!this.recording) return;
    try {
      this.span.recordException(err);
    } catch (e) {
      this.layer.internalError(e);
    }
  }

  end(outcome?: ServerOutcome): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.recording) return;
    const span = this.span;
    try {
      const name = this.fixedName ?? (outcome !== undefined ? outcome.name : undefined);
      if (name !== undefined) span.updateName(name);
      let endTime: number | undefined;
      if (outcome !== undefined) {
        if (outcome.attributes !== undefined) writeAttributes(span, outcome.attributes);
        const error = outcome.error;
        if (error !== undefined) {
          span.setAttribute('error.type', error.type);
          span.setStatus(error.message !== undefined ? { code: 'error', message: error.message } : { code: 'error' });
        }
        const hook = outcome.beforeEnd;
        if (hook !== undefined) callHook(`${this.layer.adapter}:onResponse`, 'onResponse', () => hook(span));
        endTime = outcome.endTime;
      }
      span.end(endTime);
    } catch (err) {
      this.layer.internalError(err);
      try {
        span.end();
      } catch {
        // the span is lost; internalError already reported the failure
      }
    }
  }
}

/**
 * The server-span layer of one adapter. `start` turns a request's carrier into a handle; the
 * adapter runs the handler with `handle.run`, reports errors with `handle.recordError` and, when
 * `handle.needsEnd`, calls `handle.end(outcome)` once the request is really over.
 */
export class ServerSpans {
  readonly adapter: string;
  private readonly tracerOption: Tracer | undefined;
  /** Scratch for incomingSpan's second result; start() is synchronous, so one per instance is enough. */
  private readonly incomingOut: IncomingOut = { baggage: undefined };

  constructor(options: ServerSpanOptions = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError('tracewire: server span options must be an object');
    const tracer = options.tracer;
    if (tracer !== undefined && (tracer === null || typeof tracer !== 'object' || typeof tracer.startIncomingSpan !== 'function')) {
      throw new TypeError('tracewire: option "tracer" must be a Tracer from createTracer()');
    }
    if (options.adapter !== undefined && typeof options.adapter !== 'string') throw new TypeError('tracewire: option "adapter" must be a string');
    this.tracerOption = tracer;
    this.adapter = options.adapter || 'server';
  }

  /** The tracer: explicit, or the global one as it is now. */
  tracer(): Tracer {
    return this.tracerOption ?? getTracer();
  }

  /**
   * Starts the server span of one request. Undefined when there is nothing to do: an ignored
   * request that carries no context, or a failure inside Tracewire (reported once; the request
   * goes on untraced). Never throws.
   */
  start(carrier: ServerCarrier, options?: ServerStartOptions): ServerSpan | undefined {
    try {
      const tracer = this.tracer();
      // A tracer-like object without our config still gets the default formats.
      const propagation = tracer.config.propagation ?? DEFAULT_PROPAGATION;
      const headers = carrier.headers;
      const maybeContext = carrier.plainHeaders === true ? propagation.present(headers as Record<string, unknown>) : headers !== undefined && headers !== null;
      if (options !== undefined && options.ignore === true) return maybeContext ? this.passThrough(tracer, carrier) : undefined;
      let baggage: Baggage | undefined;
      let span: Span;
      // No header any configured format reads: nothing to extract or trust, a new trace (the
      // common case for edge services).
      if (!maybeContext) {
        span = tracer.startSpan(carrier.name, SERVER_ROOT);
      } else {
        const out = this.incomingOut;
        span = incomingSpan(tracer, carrier.name, headers, SERVER, carrier.getter, out);
        baggage = out.baggage;
        out.baggage = undefined;
      }
      const recording = span.isRecording();
      const observer = tracer.observer;
      // Unsampled but observed: the outcome is still measured, from now.
      const startTime = recording ? (startTimeOf(span) ?? now()) : observer !== undefined ? now() : 0;
      const handle = new Handle(this, span, tracer, recording, observer, startTime, baggage, options !== undefined ? options.spanName : undefined);
      if (recording) writeAttributes(span, carrier.attributes(tracer));
      return handle;
    } catch (err) {
      this.internalError(err);
      return undefined;
    }
  }

  /**
   * An ignored request that carries a context or baggage: a span that records nothing (nor does
   * anything under it) and passes the caller's context on, with a fresh span id when the caller
   * sent a trace id alone.
   */
  private passThrough(tracer: Tracer, carrier: ServerCarrier): ServerSpan | undefined {
    const propagation = tracer.config.propagation ?? DEFAULT_PROPAGATION;
    const trustIncoming = tracer.config.trustIncoming;
    const headers = carrier.headers;
    const remote = propagation.extract(headers, carrier.getter);
    const baggage = propagation.extractBaggage(headers, carrier.getter);
    if (remote === null && baggage === undefined) return undefined;
    // The predicate is wrapped by the config (a throw answers false).
    if (!(typeof trustIncoming === 'function' ? trustIncoming(headers) : trustIncoming)) return undefined;
    const ctx = remote === null ? INVALID_SPAN_CONTEXT : isTraceIdOnly(remote) ? { traceId: remote.traceId, spanId: newSpanId(), traceFlags: remote.traceFlags } : remote;
    return new Handle(this, new NonRecordingSpan(ctx, true), undefined, false, undefined, 0, baggage, undefined);
  }

  /** A bug or bad hook inside Tracewire: logged once, the request goes on untraced. */
  internalError(err: unknown): void {
    warnOnce(`${this.adapter}:internal`, `internal error in the ${this.adapter} adapter; the request proceeds untraced: ${err instanceof Error ? err.stack || err.message : String(err)}`);
  }
}

/** Creates the server-span layer for an adapter or interceptor. Bad options throw a TypeError naming them. */
export function createServerSpans(options?: ServerSpanOptions): ServerSpans {
  return new ServerSpans(options);
}
