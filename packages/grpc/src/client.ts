/**
 * `clientInterceptor()`: a CLIENT span per call, child of the span active where the call is made,
 * whose context (and the active baggage) goes out in the call's metadata in every format the
 * tracer's propagators inject. The span ends on the call's final status, which grpc-js delivers
 * for every ending: the server's status, the client's own cancel (CANCELLED), its deadline
 * (DEADLINE_EXCEEDED), a connection that failed (UNAVAILABLE).
 */
import type { InterceptingListener, Interceptor, InterceptorOptions, Metadata, NextCall, Requester, StatusObject } from '@grpc/grpc-js';

/** What `nextCall()` returns (grpc-js does not export the interface by name). */
type NextCallResult = ReturnType<NextCall>;
import { activeSpan, getBaggage, injectContext, isTracingSuppressed, readContext, runWithContext } from '@tracewire/core';
import type { Attributes, ContextState, Span, SpanContext, Tracer } from '@tracewire/core';
import { OK, callType, cachedMethodOf, cachedPeer, parseTarget, statusName } from './attributes';
import { captureMetadata, metadataHas, metadataSetter } from './metadata';
import { callHook, compileOptions, internalError, spanNameOf } from './options';
import type { GrpcCallInfo, GrpcClientTracingOptions, Settings } from './options';
import { loadGrpc } from './grpc';

type Target = { address: string; port: number | undefined };

/** One traced call. */
interface ClientCall {
  readonly path: string;
  readonly method: string;
  /** The call below ours (where the channel is found). */
  readonly next: NextCallResult;
  readonly tracer: Tracer;
  readonly info: () => GrpcCallInfo;
  span: Span | undefined;
  metadata: Metadata | undefined;
  sent: number;
  received: number;
  responseAttributes: Attributes | undefined;
  ended: boolean;
  call: NextCallResult | undefined;
}

/** The channel a call runs on, found once per channel (grpc-js hands interceptors neither client nor channel). */
const TARGETS = new WeakMap<object, Target | null>();

/**
 * The target of the channel `call` goes to. grpc-js gives interceptors no public way to it: the
 * call chain is walked (InterceptingCall.nextCall, BaseInterceptingCall.call, ResolvingCall.channel,
 * the same in 1.10 to 1.14) to a channel's public `getTarget()`. Undefined when the shape is not
 * that (a custom channel): then `server.address` is left out (pass the `target` option).
 */
function channelTarget(call: unknown): Target | undefined {
  let c = call as Record<string, unknown> | undefined;
  for (let depth = 0; depth < 12 && c !== null && typeof c === 'object'; depth++) {
    const channel = c.channel as { getTarget?: unknown } | undefined;
    if (channel !== null && typeof channel === 'object' && typeof channel.getTarget === 'function') {
      let t = TARGETS.get(channel);
      if (t === undefined) {
        const raw = (channel.getTarget as () => unknown).call(channel);
        t = typeof raw === 'string' && raw !== '' ? parseTarget(raw) : null;
        TARGETS.set(channel, t);
      }
      return t ?? undefined;
    }
    c = (c.nextCall ?? c.call) as Record<string, unknown> | undefined;
  }
  return undefined;
}

function validContext(span: Span | undefined): SpanContext | undefined {
  if (span === undefined) return undefined;
  const ctx = span.spanContext();
  return ctx.traceId === '00000000000000000000000000000000' ? undefined : ctx;
}

/**
 * Writes the context of `span` (and the active baggage) into `md` with the tracer's propagators;
 * a format whose key the application set itself is left as it is. Never throws.
 */
function inject(tracer: Tracer, md: Metadata, span: Span | undefined): void {
  try {
    const propagation = tracer.config && tracer.config.propagation;
    if (propagation === undefined) {
      injectContext(md, span, metadataSetter);
      return;
    }
    propagation.inject(md, validContext(span), getBaggage(), metadataSetter, metadataHas.bind(null, md));
  } catch {
    // Propagation is best effort: the call goes out without it rather than fail.
  }
}

function finish(settings: Settings, state: ClientCall, status: StatusObject): void {
  if (state.ended) return;
  state.ended = true;
  const span = state.span;
  if (span === undefined || !span.isRecording()) {
    span?.end();
    return;
  }
  try {
    const code = status.code;
    const name = statusName(code);
    const attrs: Attributes = state.responseAttributes ?? {};
    attrs['rpc.status_code'] = name;
    attrs['tracewire.rpc.messages.sent'] = state.sent;
    attrs['tracewire.rpc.messages.received'] = state.received;
    if (settings.responseMetadata.length > 0) captureMetadata(status.metadata, settings.responseMetadata, 'rpc.response.metadata.', attrs);
    const peer = state.call !== undefined ? cachedPeer(state.call.getPeer()) : undefined;
    if (peer !== undefined) {
      attrs['network.peer.address'] = peer.address;
      if (peer.port !== undefined) attrs['network.peer.port'] = peer.port;
    }
    // A client counts every status but OK as a failure (the gRPC conventions' client table).
    if (code !== OK) {
      attrs['error.type'] = name;
      span.setStatus({ code: 'error', message: typeof status.details === 'string' && status.details !== '' ? status.details : name });
    }
    span.setAttributes(attrs);
    if (settings.onResponse) {
      const info = state.info();
      callHook('client', 'onResponse', () => settings.onResponse!(span, { ...info, status: { code, name, details: status.details } }));
    }
  } catch (err) {
    internalError('client', err);
  }
  span.end();
}

/** Starts the span (in the caller's context: grpc-js starts a call where it is made). */
function begin(settings: Settings, state: ClientCall, metadata: Metadata): void {
  const { path, method } = state;
  if (settings.ignore !== undefined && settings.ignore(path, state.info)) return;
  const target = settings.target ?? channelTarget(state.next);
  const attributes: Attributes = { 'rpc.system.name': 'grpc', 'rpc.method': method };
  if (method === '_OTHER') attributes['rpc.method_original'] = String(path);
  if (target !== undefined) {
    attributes['server.address'] = target.address;
    if (target.port !== undefined) attributes['server.port'] = target.port;
  }
  if (settings.requestMetadata.length > 0) captureMetadata(metadata, settings.requestMetadata, 'rpc.request.metadata.', attributes);
  const span = state.tracer.startSpan(settings.spanName === undefined && method !== '_OTHER' ? method : spanNameOf(settings, method, state.info), { kind: 'client', attributes });
  state.span = span;
  if (settings.onRequest && span.isRecording()) callHook('client', 'onRequest', () => settings.onRequest!(span, state.info()));
}

/** Scratch for reading the context an event arrives in (read and compared at once, never kept). */
const HERE: ContextState = { span: undefined, baggage: undefined, suppressed: false, attachment: undefined };

/**
 * Calls `event.call(target, value)` in the caller's context: as it is when the event arrived in
 * that context already, else with the caller's restored.
 */
function inCaller<T>(caller: ContextState | undefined, target: InterceptingListener, event: (value: T) => void, value: T): void {
  if (caller !== undefined) {
    const here = readContext(HERE);
    if (here.span !== caller.span || here.baggage !== caller.baggage || here.suppressed !== caller.suppressed || here.attachment !== caller.attachment) {
      runWithContext(caller, () => event.call(target, value));
      return;
    }
  }
  event.call(target, value);
}

/**
 * The interceptor's side of one call: the span, propagation, counts, metadata, the final status.
 * What it hands on is an InterceptingListener (grpc-js's own kind: one argument per event, each
 * passed on before it returns), not a Listener, which grpc-js would wrap in one more object and
 * three closures per call to replay events a listener may hold back; ours holds none back.
 * Each event is passed on in the caller's context: the response arrives on a stream that may
 * have been opened in another call's context (the connection's), so the caller's is restored,
 * but only when it differs from the one the event arrived in (an AsyncResource per call cost
 * more than this).
 */
function requester(settings: Settings, state: ClientCall, streamingRequest: boolean): Requester {
  const r: Requester = {
    start(metadata, downstream, next) {
      let md = metadata;
      let caller: ContextState | undefined;
      try {
        state.metadata = metadata;
        // The caller's context, for the callbacks and stream events.
        caller = readContext({ span: undefined, baggage: undefined, suppressed: false, attachment: undefined });
        begin(settings, state, metadata);
        // A copy: the application may reuse one Metadata for concurrent calls, and grpc-js reads
        // it only when the stream opens, so writing ours into theirs would mix the calls' contexts.
        md = metadata.clone();
        inject(state.tracer, md, state.span ?? activeSpan());
      } catch (err) {
        internalError('client', err);
      }
      const listener: InterceptingListener = {
        onReceiveMetadata(received) {
          if (settings.responseMetadata.length > 0 && state.span !== undefined && state.span.isRecording()) {
            try {
              const attrs: Attributes = {};
              if (captureMetadata(received, settings.responseMetadata, 'rpc.response.metadata.', attrs) > 0) state.responseAttributes = attrs;
            } catch (err) {
              internalError('client', err);
            }
          }
          inCaller(caller, downstream, downstream.onReceiveMetadata, received);
        },
        onReceiveMessage(message) {
          state.received++;
          inCaller(caller, downstream, downstream.onReceiveMessage, message);
        },
        onReceiveStatus(status) {
          finish(settings, state, status);
          inCaller(caller, downstream, downstream.onReceiveStatus, status);
        },
      };
      next(md, listener);
    },
  };
  // A unary or server-streaming request is one message, sent by grpc-js right after start.
  if (streamingRequest) {
    r.sendMessage = (message, next) => {
      state.sent++;
      next(message);
    };
  } else state.sent = 1;
  return r;
}

/** Creates the interceptor for `new Client(address, credentials, { interceptors: [clientInterceptor()] })`. */
export function clientInterceptor(options?: GrpcClientTracingOptions): Interceptor {
  const settings = compileOptions(options, 'client');
  const { InterceptingCall } = loadGrpc();

  return function tracewireClientInterceptor(callOptions: InterceptorOptions, nextCall: NextCall) {
    const next = nextCall(callOptions);
    // An exporter's own calls (tracing suppressed) are neither traced nor carry a context.
    if (isTracingSuppressed()) return new InterceptingCall(next);
    let state: ClientCall;
    try {
      const def = callOptions.method_definition;
      const path = def.path;
      const method = cachedMethodOf(path);
      let info: GrpcCallInfo | undefined;
      state = {
        path,
        method,
        next,
        info: () => (info ??= { method, path, type: callType(def.requestStream, def.responseStream), metadata: state.metadata! }),
        tracer: settings.tracer(),
        span: undefined,
        metadata: undefined,
        sent: 0,
        received: 0,
        responseAttributes: undefined,
        ended: false,
        call: undefined,
      };
    } catch (err) {
      internalError('client', err);
      return new InterceptingCall(next);
    }
    const call = new InterceptingCall(next, requester(settings, state, callOptions.method_definition.requestStream === true));
    state.call = call;
    return call;
  };
}
