/**
 * What a node:http request gives the server-span layer (server/carrier.ts): its headers, the span's
 * first name, and the request attributes of the HTTP semantic conventions.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Attributes } from '../types';
import type { CarrierGetter } from '../propagation/carrier';
import type { Tracer } from '../tracer/tracer';
import type { ServerCarrier } from '../server/carrier';
import type { ServerSpan } from '../server/span';
import { KNOWN_METHODS } from '../internal/methods';
import type { ResponseTap } from './tap';

/** Reads node:http headers (lowercase keys, string or string[]). */
export const nodeHeaderGetter: CarrierGetter<IncomingMessage['headers']> = {
  get(headers, key) {
    return headers[key];
  },
};

/** A header value as the attribute's string array. */
export function headerValue(v: string | string[] | number | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.map(String) : [String(v)];
}

/** Splits `host[:port]`, with IPv6 literals in brackets. */
export function parseHost(host: string | undefined): readonly [string | undefined, number | undefined] {
  if (!host) return NO_HOST;
  // A server sees the same Host header request after request: the last one parsed is kept.
  if (host === lastHost) return lastParsed;
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
  const parsed = Object.freeze([name || undefined, port] as const);
  lastHost = host;
  lastParsed = parsed;
  return parsed;
}

const NO_HOST = Object.freeze([undefined, undefined] as const);
let lastHost: string | undefined;
let lastParsed: readonly [string | undefined, number | undefined] = NO_HOST;

/** `url.scheme` of a request: `https` on a TLS socket. */
export function schemeOf(req: IncomingMessage): 'http' | 'https' {
  const socket = req.socket as (typeof req.socket & { encrypted?: boolean }) | undefined;
  return socket && socket.encrypted ? 'https' : 'http';
}

/**
 * One request through the node:http layer, from `start` to the response's `close`: the carrier the
 * server-span layer reads, and what the layer needs again at the end.
 */
export class HttpExchange<S> implements ServerCarrier {
  readonly name: string;
  readonly headers: IncomingMessage['headers'];
  readonly getter = nodeHeaderGetter as CarrierGetter<unknown>;
  readonly plainHeaders = true;
  /** `url.path`: the target without its query. */
  readonly path: string;
  /** The server span, once started. */
  handle: ServerSpan | undefined = undefined;
  /** Watches the body of a streamed response, when the `stream` option allows. */
  tap: ResponseTap | undefined = undefined;
  finished = false;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    /** What the adapter reads the route template from at the end (its request or context). */
    readonly source: S,
    /** Header names recorded as `http.request.header.*`. */
    private readonly requestHeaders: readonly string[],
    /** The query, without `?` (undefined when empty). */
    private readonly query: string | undefined,
    path: string,
  ) {
    this.headers = req.headers;
    this.path = path;
    const method = req.method || 'GET';
    this.name = KNOWN_METHODS.has(method) ? method : 'HTTP';
  }

  /** The request attributes (HTTP server semantic conventions), for a recording span. */
  attributes(tracer: Tracer): Attributes {
    const req = this.req;
    const rawMethod = req.method || 'GET';
    const method = KNOWN_METHODS.has(rawMethod) ? rawMethod : '_OTHER';
    const scheme = schemeOf(req);
    const [host, port] = parseHost(req.headers.host);
    const attrs: Attributes = {
      'http.request.method': method,
      'url.path': this.path,
      'url.scheme': scheme,
      'network.protocol.version': req.httpVersion,
    };
    if (method === '_OTHER') attrs['http.request.method_original'] = rawMethod;
    if (this.query !== undefined) attrs['url.query'] = tracer.config.redactQuery(this.query);
    if (host !== undefined) {
      attrs['server.address'] = host;
      attrs['server.port'] = port !== undefined ? port : scheme === 'https' ? 443 : 80;
    } else if (port !== undefined) attrs['server.port'] = port;
    const address = req.socket ? req.socket.remoteAddress : undefined;
    if (address) attrs['client.address'] = address;
    const ua = req.headers['user-agent'];
    if (ua) attrs['user_agent.original'] = ua;
    for (const h of this.requestHeaders) {
      const v = headerValue(req.headers[h]);
      if (v) attrs[`http.request.header.${h}`] = v;
    }
    return attrs;
  }
}
