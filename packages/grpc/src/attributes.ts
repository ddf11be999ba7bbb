/**
 * The RPC semantic conventions for gRPC, as the attributes of one call
 * (https://opentelemetry.io/docs/specs/semconv/rpc/grpc/ and rpc-spans.md, semantic-conventions
 * after #3921: `rpc.system.name`, fully qualified `rpc.method`, `rpc.status_code` as the status
 * name). Pure functions over strings: nothing here touches a span or grpc-js.
 */

/** The gRPC status names by code (https://github.com/grpc/grpc/blob/master/doc/statuscodes.md). */
export const STATUS_NAMES: readonly string[] = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

export const OK = 0;
export const CANCELLED = 1;
export const UNKNOWN = 2;
export const DEADLINE_EXCEEDED = 4;

/** `rpc.status_code` for a code: its name, or the number as a string for a code gRPC does not define. */
export function statusName(code: number): string {
  return Number.isInteger(code) && code >= 0 && code < STATUS_NAMES.length ? STATUS_NAMES[code] : String(code);
}

/**
 * Server spans: the codes the gRPC conventions count as errors (a NOT_FOUND or INVALID_ARGUMENT is
 * the client's problem, not the server's). Client spans count every code but OK.
 */
const SERVER_ERRORS: ReadonlySet<number> = new Set([UNKNOWN, DEADLINE_EXCEEDED, 12, 13, 14, 15]);

export function isServerError(code: number): boolean {
  return SERVER_ERRORS.has(code) || !(Number.isInteger(code) && code >= 0 && code < STATUS_NAMES.length);
}

/** The kinds of call, from a method definition's `requestStream` / `responseStream`. */
export type CallType = 'unary' | 'client_stream' | 'server_stream' | 'bidi_stream';

export function callType(requestStream: boolean, responseStream: boolean): CallType {
  return requestStream ? (responseStream ? 'bidi_stream' : 'client_stream') : responseStream ? 'server_stream' : 'unary';
}

/**
 * `rpc.method` from a method path `/package.Service/Method`: `package.Service/Method`. A path of
 * another shape is not a method gRPC defines: `_OTHER` (the original goes in `rpc.method_original`).
 */
export function methodOf(path: unknown): string {
  if (typeof path !== 'string' || path.length < 4 || path.charCodeAt(0) !== 47 /* / */) return '_OTHER';
  const slash = path.indexOf('/', 1);
  if (slash <= 1 || slash === path.length - 1 || path.indexOf('/', slash + 1) !== -1) return '_OTHER';
  return path.slice(1);
}

/** Splits `host:port`, `[v6]:port`, `v6`, `host`; the port only when it is one. */
export function splitHostPort(s: string): [string, number | undefined] {
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close !== -1) {
      const host = s.slice(1, close);
      const rest = s.slice(close + 1);
      return [host, rest.startsWith(':') ? portOf(rest.slice(1)) : undefined];
    }
  }
  const colon = s.lastIndexOf(':');
  // Several colons without brackets: an IPv6 literal without a port.
  if (colon === -1 || s.indexOf(':') !== colon) return [s, undefined];
  return [s.slice(0, colon), portOf(s.slice(colon + 1))];
}

function portOf(s: string): number | undefined {
  if (!/^\d{1,5}$/.test(s)) return undefined;
  const p = Number(s);
  return p > 0 && p < 65536 ? p : undefined;
}

/** gRPC's port when a DNS target names none. */
const DEFAULT_PORT = 443;

/**
 * `server.address` / `server.port` from a channel target, per the gRPC name resolution syntax
 * (https://grpc.github.io/grpc/core/md_doc_naming.html) and the conventions' examples:
 * `grpc.io:50051` and `dns://1.2.3.4/grpc.io:50051` give grpc.io and 50051; `unix:///run/x.sock`
 * gives the path and no port; a target naming several addresses, or of a scheme we cannot read,
 * is the address as a whole, without a port.
 */
export function parseTarget(target: string): { address: string; port: number | undefined } {
  let rest = target;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(target);
  if (scheme) {
    const name = scheme[1].toLowerCase();
    rest = target.slice(scheme[0].length);
    if (name === 'unix' || name === 'unix-abstract') {
      // unix:path, unix:///abs/path, unix-abstract:name
      return { address: rest.startsWith('//') ? rest.slice(2) : rest, port: undefined };
    }
    if (name === 'dns') {
      // dns:[//authority/]host[:port]
      if (rest.startsWith('//')) {
        const slash = rest.indexOf('/', 2);
        rest = slash === -1 ? '' : rest.slice(slash + 1);
      }
    } else if (name === 'ipv4' || name === 'ipv6') {
      if (rest.includes(',')) return { address: target, port: undefined };
      const [host, port] = splitHostPort(rest);
      return { address: host, port };
    } else if (/^\d+$/.test(rest)) {
      // `localhost:50051`: a host and a port, not a scheme.
      rest = target;
    } else {
      // A resolver of its own (xds:, zk:...): the target as a whole.
      return { address: target, port: undefined };
    }
  }
  if (rest === '') return { address: target, port: undefined };
  const [host, port] = splitHostPort(rest);
  return { address: host, port: port ?? DEFAULT_PORT };
}

/**
 * `network.peer.address` / `network.peer.port` from grpc-js `getPeer()`: `ip:port`, `[v6]:port`,
 * or (servers before 1.12) `v6:port` without brackets. Undefined for "unknown".
 */
export function parsePeer(peer: unknown): { address: string; port: number | undefined } | undefined {
  if (typeof peer !== 'string' || peer === '' || peer === 'unknown') return undefined;
  if (peer.startsWith('[')) {
    const [address, port] = splitHostPort(peer);
    return { address, port };
  }
  if (peer.startsWith('unix:') || peer.startsWith('/')) return { address: peer.startsWith('unix:') ? peer.slice(5) : peer, port: undefined };
  const colon = peer.lastIndexOf(':');
  if (colon === -1) return { address: peer, port: undefined };
  const port = portOf(peer.slice(colon + 1));
  return port === undefined ? { address: peer, port: undefined } : { address: peer.slice(0, colon), port };
}

/** Caches of what is parsed per call from strings that repeat (method paths, peers), bounded. */
const CACHE_MAX = 1024;
const METHODS = new Map<string, string>();
const PEERS = new Map<string, { address: string; port: number | undefined } | undefined>();

/** `methodOf`, remembered per path. */
export function cachedMethodOf(path: unknown): string {
  if (typeof path !== 'string') return '_OTHER';
  let m = METHODS.get(path);
  if (m === undefined) {
    m = methodOf(path);
    if (METHODS.size >= CACHE_MAX) METHODS.clear();
    METHODS.set(path, m);
  }
  return m;
}

/** `parsePeer`, remembered per peer string (shared: treat the result as read-only). */
export function cachedPeer(peer: unknown): { address: string; port: number | undefined } | undefined {
  if (typeof peer !== 'string') return undefined;
  let p = PEERS.get(peer);
  if (p === undefined && !PEERS.has(peer)) {
    p = parsePeer(peer);
    if (PEERS.size >= CACHE_MAX) PEERS.clear();
    PEERS.set(peer, p);
  }
  return p;
}

const HOSTS = new Map<string, [string, number | undefined]>();

/** `splitHostPort`, remembered per string (shared: treat the result as read-only). */
export function cachedHostPort(s: string): [string, number | undefined] {
  let h = HOSTS.get(s);
  if (h === undefined) {
    h = splitHostPort(s);
    if (HOSTS.size >= CACHE_MAX) HOSTS.clear();
    HOSTS.set(s, h);
  }
  return h;
}
