/**
 * `serverInterceptor()`: a SERVER span per call, continuing the caller's trace from the call's
 * metadata, with the handler (and every event of the call it sees: messages, half-close) run in
 * the span's context, so `withSpan`, `tracedFetch` and gRPC client calls inside are its children.
 *
 * The span ends when the call really ends. grpc-js tells a server interceptor's listener
 * `onCancel` for every ending once the status has gone out (or could not: the client cancelled,
 * the connection dropped, the deadline passed and grpc-js answered DEADLINE_EXCEEDED itself), so
 * the end is read there, with the status the handler sent if one went through this interceptor.
 */
import type { Metadata, ServerInterceptingCallInterface, ServerInterceptor, ServerListener, Responder, ServerMethodDefinition, StatusObject } from '@grpc/grpc-js';
import type { Attributes } from '@tracewire/core';
import { CANCELLED, DEADLINE_EXCEEDED, cachedHostPort, cachedMethodOf, cachedPeer, callType, isServerError, statusName } from './attributes';
import { captureMetadata } from './metadata';
import { callHook, compileOptions, internalError, spanNameOf } from './options';
import type { GrpcCallInfo, GrpcTracingOptions, Settings } from './options';
import { loadGrpc } from './grpc';
import { endServerCallSpan, serverSpans, startServerCallSpan } from './server-span';
import type { ServerSpan, ServerSpans } from '@tracewire/core';

type PartialStatus = Pick<StatusObject, 'code' | 'details'> & { metadata?: Metadata | null };

/** One call's state. */
interface ServerCall {
  readonly path: string;
  readonly method: string;
  readonly info: () => GrpcCallInfo;
  handle: ServerSpan | undefined;
  metadata: Metadata | undefined;
  status: PartialStatus | undefined;
  responseAttributes: Attributes | undefined;
  sent: number;
  received: number;
  ended: boolean;
}

/**
 * How close to the deadline a cancel counts as the deadline's. The client enforces its deadline
 * too and resets the stream when it passes; the server's copy of the deadline starts when the
 * headers arrive, so it passes a little later than the client's (the time the headers took).
 */
const DEADLINE_SLACK_MS = 50;

function deadlinePassed(call: ServerInterceptingCallInterface): boolean {
  try {
    const d = call.getDeadline();
    const ms = d instanceof Date ? d.getTime() : d;
    return typeof ms === 'number' && Number.isFinite(ms) && ms <= Date.now() + DEADLINE_SLACK_MS;
  } catch {
    return false;
  }
}

/** Request attributes: the method, where the client reached us (`:authority`), the peer. */
function requestAttributes(settings: Settings, state: ServerCall, call: ServerInterceptingCallInterface, metadata: Metadata): Attributes {
  const attrs: Attributes = { 'rpc.system.name': 'grpc', 'rpc.method': state.method };
  if (state.method === '_OTHER') attrs['rpc.method_original'] = String(state.path);
  // getHost (the `:authority` the client used) and getConnectionInfo are in grpc-js since 1.11/1.12.
  const c = call as ServerInterceptingCallInterface & { getHost?: () => string; getConnectionInfo?: () => { remoteAddress?: string; remotePort?: number } };
  const host = typeof c.getHost === 'function' ? c.getHost() : undefined;
  if (typeof host === 'string' && host !== '') {
    const [address, port] = cachedHostPort(host);
    attrs['server.address'] = address;
    if (port !== undefined) attrs['server.port'] = port;
  }
  const conn = typeof c.getConnectionInfo === 'function' ? c.getConnectionInfo() : undefined;
  if (conn && typeof conn.remoteAddress === 'string') {
    attrs['network.peer.address'] = conn.remoteAddress;
    if (typeof conn.remotePort === 'number') attrs['network.peer.port'] = conn.remotePort;
  } else {
    const peer = cachedPeer(call.getPeer());
    if (peer !== undefined) {
      attrs['network.peer.address'] = peer.address;
      if (peer.port !== undefined) attrs['network.peer.port'] = peer.port;
    }
  }
  if (settings.requestMetadata.length > 0) captureMetadata(metadata, settings.requestMetadata, 'rpc.request.metadata.', attrs);
  return attrs;
}

function begin(settings: Settings, layer: ServerSpans, state: ServerCall, call: ServerInterceptingCallInterface, metadata: Metadata): void {
  state.metadata = metadata;
  // Ignored: no span, but the caller's context still flows to the handler's outgoing calls.
  const ignore = settings.ignore !== undefined && settings.ignore(state.path, state.info);
  const name = ignore || (settings.spanName === undefined && state.method !== '_OTHER') ? state.method : spanNameOf(settings, state.method, state.info);
  const handle = startServerCallSpan(layer, name, metadata, () => requestAttributes(settings, state, call, metadata), ignore);
  state.handle = handle;
  if (handle !== undefined && settings.onRequest && handle.recording) callHook('server', 'onRequest', () => settings.onRequest!(handle.span, state.info()));
}

/** Ends the span: on the status the handler sent, or as cancelled / past its deadline. */
function finish(settings: Settings, state: ServerCall, call: ServerInterceptingCallInterface): void {
  if (state.ended) return;
  state.ended = true;
  const handle = state.handle;
  if (handle === undefined) return;
  if (!handle.recording) {
    endServerCallSpan(handle, {});
    return;
  }
  let error: { type: string; message: string } | undefined;
  const attrs: Attributes = state.responseAttributes ?? {};
  let status = state.status;
  try {
    if (status === undefined) {
      // No status went out through us: grpc-js answered the deadline itself, or the client left.
      status = deadlinePassed(call)
        ? { code: DEADLINE_EXCEEDED, details: 'Deadline exceeded' }
        : { code: CANCELLED, details: 'cancelled by the client' };
      error = { type: statusName(status.code), message: status.code === CANCELLED ? 'the client cancelled the call before it ended' : 'the deadline passed before the call ended' };
    } else if (isServerError(status.code)) {
      // The gRPC conventions' server table: only these codes are the server's failure.
      error = { type: statusName(status.code), message: status.details || statusName(status.code) };
    }
    attrs['rpc.status_code'] = statusName(status.code);
    attrs['tracewire.rpc.messages.sent'] = state.sent;
    attrs['tracewire.rpc.messages.received'] = state.received;
    if (settings.responseMetadata.length > 0 && status.metadata) captureMetadata(status.metadata, settings.responseMetadata, 'rpc.response.metadata.', attrs);
    if (settings.onResponse) {
      const s = status;
      const info = state.info();
      endServerCallSpan(handle, attrs, error, (span) => settings.onResponse!(span, { ...info, status: { code: s.code, name: statusName(s.code), details: s.details } }));
      return;
    }
  } catch (err) {
    internalError('server', err);
  }
  endServerCallSpan(handle, attrs, error);
}

/** Creates the interceptor for `new Server({ interceptors: [serverInterceptor()] })` (grpc-js 1.10+). */
export function serverInterceptor(options?: GrpcTracingOptions): ServerInterceptor {
  const settings = compileOptions(options, 'server');
  const { ServerInterceptingCall } = loadGrpc();
  const layer = serverSpans(options && options.tracer);
  const captureResponse = settings.responseMetadata.length > 0;

  return function tracewireServerInterceptor(methodDescriptor: ServerMethodDefinition<any, any>, call: ServerInterceptingCallInterface) {
    let state: ServerCall;
    try {
      const path = methodDescriptor.path;
      const method = cachedMethodOf(path);
      let info: GrpcCallInfo | undefined;
      state = {
        path,
        method,
        info: () => (info ??= { method, path, type: callType(methodDescriptor.requestStream, methodDescriptor.responseStream), metadata: state.metadata! }),
        handle: undefined,
        metadata: undefined,
        status: undefined,
        responseAttributes: undefined,
        sent: 0,
        received: 0,
        ended: false,
      };
    } catch (err) {
      internalError('server', err);
      return new ServerInterceptingCall(call);
    }
    // Each event the handler sees goes on in the span's context. A unary or server-streaming
    // handler is called by grpc-js at half-close (1.10 to 1.14): its metadata and single message
    // carry no code of the app's, so only the half-close is run in the span there.
    const streamingRequest = methodDescriptor.requestStream === true;
    const listener: ServerListener = {
      onReceiveMetadata(metadata, next) {
        try {
          begin(settings, layer, state, call, metadata);
        } catch (err) {
          internalError('server', err);
        }
        const handle = state.handle;
        if (handle === undefined || !streamingRequest) next(metadata);
        else handle.run(() => next(metadata));
      },
      onReceiveMessage(message, next) {
        state.received++;
        const handle = state.handle;
        if (handle === undefined || !streamingRequest) next(message);
        else handle.run(() => next(message));
      },
      onReceiveHalfClose(next) {
        const handle = state.handle;
        if (handle === undefined) next();
        else handle.run(next);
      },
      onCancel() {
        try {
          finish(settings, state, call);
        } catch (err) {
          internalError('server', err);
        }
      },
    };
    const responder: Responder = {
      start(next) {
        next(listener);
      },
      sendMessage(message, next) {
        state.sent++;
        next(message);
      },
      sendStatus(status, next) {
        // The first status is the call's (grpc-js sends one); the span ends at onCancel, once it is out.
        if (state.status === undefined && !state.ended) state.status = { code: status.code, details: status.details ?? '', metadata: status.metadata };
        next(status);
      },
    };
    // Response metadata is only read when some of it is to be recorded.
    if (captureResponse) {
      responder.sendMetadata = (metadata, next) => {
        if (state.handle !== undefined && state.handle.recording) {
          try {
            const attrs: Attributes = {};
            if (captureMetadata(metadata, settings.responseMetadata, 'rpc.response.metadata.', attrs) > 0) state.responseAttributes = attrs;
          } catch (err) {
            internalError('server', err);
          }
        }
        next(metadata);
      };
    }
    return new ServerInterceptingCall(call, responder);
  };
}
