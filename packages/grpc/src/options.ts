/**
 * The options of `serverInterceptor()` and `clientInterceptor()`, checked and compiled once at
 * setup: a bad option throws a TypeError naming it; nothing here runs per call except the compiled
 * matchers.
 */
import type { Metadata } from '@grpc/grpc-js';
import { SENSITIVE_HEADERS, compileIgnore, getTracer, warnOnce } from '@tracewire/core';
import type { Span, Tracer } from '@tracewire/core';
import { parseTarget } from './attributes';
import type { CallType } from './attributes';

/** What the hooks and `spanName` are told about a call. */
export interface GrpcCallInfo {
  /** `rpc.method`: `package.Service/Method` (`_OTHER` for a path gRPC does not define). */
  method: string;
  /** The method path as on the wire: `/package.Service/Method`. */
  path: string;
  /** `unary`, `client_stream`, `server_stream` or `bidi_stream`. */
  type: CallType;
  /** The request metadata (for the client: as the application passed it, before propagation). */
  metadata: Metadata;
}

/** The final status of a call, for `onResponse`. */
export interface GrpcStatusInfo {
  /** The gRPC status code (0 is OK). */
  code: number;
  /** `rpc.status_code`: `OK`, `NOT_FOUND`, `DEADLINE_EXCEEDED`... */
  name: string;
  details: string;
}

/** Options of both interceptors. */
export interface GrpcTracingOptions {
  /** The tracer to use (default: the global one, `getTracer()`, as it is when a call starts). */
  tracer?: Tracer;
  /**
   * Calls not to trace (their context still propagates): methods as `package.Service/Method`,
   * globs (`grpc.health.v1.Health/*`), RegExps, or a predicate over the call.
   */
  ignore?: Array<string | RegExp> | ((info: GrpcCallInfo) => boolean);
  /** The span name (default: `rpc.method`, `package.Service/Method`). */
  spanName?: (info: GrpcCallInfo) => string;
  /**
   * Metadata keys to record as `rpc.request.metadata.<key>` / `rpc.response.metadata.<key>`
   * (string[]), one list for both or `{ request, response }`. Credentials (`authorization`,
   * `cookie`, `x-api-key`...) are never recorded, even when listed; nor are binary (`-bin`) keys.
   */
  captureMetadata?: string[] | { request?: string[]; response?: string[] };
  /** Called once the span has started; an exception is logged once and ignored. */
  onRequest?: (span: Span, info: GrpcCallInfo) => void;
  /** Called just before the span ends; an exception is logged once and ignored. */
  onResponse?: (span: Span, info: GrpcCallInfo & { status: GrpcStatusInfo }) => void;
}

/** Options of `clientInterceptor()`. */
export interface GrpcClientTracingOptions extends GrpcTracingOptions {
  /**
   * The channel target as given to the client (`api.internal:50051`, `dns:///api.internal`):
   * `server.address` and `server.port` come from it. Without it they come from the channel the
   * call runs on.
   */
  target?: string;
}

/** The compiled options. */
export interface Settings {
  readonly kind: 'server' | 'client';
  tracer(): Tracer;
  readonly ignore: ((path: string, info: () => GrpcCallInfo) => boolean) | undefined;
  readonly spanName: GrpcTracingOptions['spanName'];
  readonly requestMetadata: readonly string[];
  readonly responseMetadata: readonly string[];
  readonly onRequest: GrpcTracingOptions['onRequest'];
  readonly onResponse: GrpcTracingOptions['onResponse'];
  /** `server.address` / `server.port` from the `target` option. */
  readonly target: { address: string; port: number | undefined } | undefined;
}

const KNOWN: Record<'server' | 'client', ReadonlySet<string>> = {
  server: new Set(['tracer', 'ignore', 'spanName', 'captureMetadata', 'onRequest', 'onResponse']),
  client: new Set(['tracer', 'ignore', 'spanName', 'captureMetadata', 'onRequest', 'onResponse', 'target']),
};

function keyList(list: unknown, name: string): string[] {
  if (list === undefined) return [];
  if (!Array.isArray(list) || list.some((k) => typeof k !== 'string' || k === '')) {
    throw new TypeError(`tracewire: option "${name}" must be an array of metadata keys`);
  }
  const out: string[] = [];
  for (const key of list as string[]) {
    const lower = key.toLowerCase();
    // Credentials are never recorded (docs/design.md "Safety defaults"), whatever the list says.
    if (SENSITIVE_HEADERS.has(lower)) {
      warnOnce(`grpc:sensitive-metadata:${lower}`, `captureMetadata lists "${lower}", which is never recorded`);
      continue;
    }
    if (lower.endsWith('-bin')) {
      warnOnce(`grpc:binary-metadata:${lower}`, `captureMetadata lists "${lower}", a binary key; binary metadata is not recorded`);
      continue;
    }
    if (!out.includes(lower)) out.push(lower);
  }
  return out;
}

/** Checks and compiles the options; a bad one throws a TypeError naming it. */
export function compileOptions(options: GrpcClientTracingOptions | undefined, kind: 'server' | 'client'): Settings {
  const what = kind === 'server' ? 'serverInterceptor' : 'clientInterceptor';
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new TypeError(`tracewire: ${what} options must be an object`);
  for (const key of Object.keys(options)) {
    if (!KNOWN[kind].has(key)) throw new TypeError(`tracewire: unknown option "${key}" of ${what} (known: ${[...KNOWN[kind]].join(', ')})`);
  }
  const tracer = options.tracer;
  if (tracer !== undefined && (tracer === null || typeof tracer !== 'object' || typeof tracer.startSpan !== 'function' || typeof tracer.startIncomingSpan !== 'function')) {
    throw new TypeError('tracewire: option "tracer" must be a Tracer from createTracer()');
  }
  for (const hook of ['onRequest', 'onResponse', 'spanName'] as const) {
    if (options[hook] !== undefined && typeof options[hook] !== 'function') throw new TypeError(`tracewire: option "${hook}" must be a function`);
  }
  if (options.target !== undefined && (typeof options.target !== 'string' || options.target === '')) {
    throw new TypeError('tracewire: option "target" must be a non-empty string (the channel target, host:port)');
  }

  let ignore: Settings['ignore'];
  const ig = options.ignore;
  if (typeof ig === 'function') {
    ignore = (_path, info) => ig(info()) === true;
  } else if (ig !== undefined) {
    if (!Array.isArray(ig)) throw new TypeError('tracewire: option "ignore" must be an array of methods, globs or RegExps, or a function');
    // Matched against `package.Service/Method`; a leading slash in the list is the same method.
    const list = ig.map((p) => (typeof p === 'string' && p.startsWith('/') ? p.slice(1) : p));
    const match = compileIgnore<null>(list, 'ignore')!;
    ignore = (path) => match(null, path.charCodeAt(0) === 47 ? path.slice(1) : path);
  }

  const cm = options.captureMetadata;
  let requestMetadata: string[];
  let responseMetadata: string[];
  if (cm === undefined || Array.isArray(cm)) {
    requestMetadata = keyList(cm, 'captureMetadata');
    responseMetadata = requestMetadata;
  } else if (typeof cm === 'object' && cm !== null) {
    for (const key of Object.keys(cm)) {
      if (key !== 'request' && key !== 'response') throw new TypeError(`tracewire: unknown option "captureMetadata.${key}" (known: request, response)`);
    }
    requestMetadata = keyList(cm.request, 'captureMetadata.request');
    responseMetadata = keyList(cm.response, 'captureMetadata.response');
  } else {
    throw new TypeError('tracewire: option "captureMetadata" must be an array of metadata keys or { request, response }');
  }

  return {
    kind,
    tracer: tracer !== undefined ? () => tracer : getTracer,
    ignore,
    spanName: options.spanName,
    requestMetadata,
    responseMetadata,
    onRequest: options.onRequest,
    onResponse: options.onResponse,
    target: options.target !== undefined ? parseTarget(options.target) : undefined,
  };
}

/** Runs a user hook; a throw is logged once (per hook and side) and ignored. */
export function callHook(kind: string, name: string, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    warnOnce(`grpc:${kind}:${name}`, `${name} hook of the gRPC ${kind} interceptor threw (${err instanceof Error ? err.message : String(err)}); ignored (logged once)`);
  }
}

/** The span name: `spanName`'s answer when it gives a non-empty string, else `rpc.method`. */
export function spanNameOf(settings: Settings, method: string, info: () => GrpcCallInfo): string {
  const fallback = method === '_OTHER' ? 'grpc' : method;
  if (settings.spanName === undefined) return fallback;
  try {
    const n = settings.spanName(info());
    if (typeof n === 'string' && n !== '') return n;
  } catch (err) {
    warnOnce(`grpc:${settings.kind}:spanName`, `spanName hook threw (${err instanceof Error ? err.message : String(err)}); using the default name`);
  }
  return fallback;
}

/** A bug inside Tracewire: logged once; the call goes on untraced (or with its span ended as it was). */
export function internalError(kind: string, err: unknown): void {
  warnOnce(`grpc:${kind}:internal`, `internal error in the gRPC ${kind} interceptor; the call proceeds: ${err instanceof Error ? err.stack || err.message : String(err)}`);
}
