/**
 * One HTTP(S) POST with a deadline and a capped response body, for the Zipkin exporter; plus the
 * environment reading it needs.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { SDK_VERSION, warnOnce } from '@tracewire/core';

/** How much of a response body is kept (for the error message); the rest is drained unread. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

export interface PostResult {
  status: number;
  /** The response body as text, at most MAX_RESPONSE_BYTES of it. */
  body: string;
}

const USER_AGENT = `tracewire-zipkin/${SDK_VERSION}`;

/**
 * A keep-alive agent for one exporter's target. Node unrefs idle keep-alive sockets, so a held
 * connection never keeps the process alive; `destroy()` it at shutdown.
 */
export function createAgent(url: URL): http.Agent {
  return url.protocol === 'https:' ? new https.Agent({ keepAlive: true, maxSockets: 4 }) : new http.Agent({ keepAlive: true, maxSockets: 4 });
}

function attempt(url: URL, agent: http.Agent, headers: Record<string, string>, body: Buffer, deadline: number): Promise<PostResult & { retryable?: boolean }> {
  return new Promise((resolve, reject) => {
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      reject(new Error(`no answer within the export timeout`));
      return;
    }
    const transport = url.protocol === 'https:' ? https : http;
    let settled = false;
    const req = transport.request(url, {
      method: 'POST',
      agent,
      headers: { 'user-agent': USER_AGENT, ...headers, 'content-length': String(body.length) },
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${Math.round(remaining)} ms`));
    }, remaining);
    timer.unref();
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      res.on('data', (chunk: Buffer) => {
        if (kept >= MAX_RESPONSE_BYTES) return; // drained, not kept: the connection stays reusable
        const part = chunk.length > MAX_RESPONSE_BYTES - kept ? chunk.subarray(0, MAX_RESPONSE_BYTES - kept) : chunk;
        chunks.push(part);
        kept += part.length;
      });
      res.on('end', () => finish(() => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') })));
      res.on('error', (err) => finish(() => reject(err)));
      res.on('aborted', () => finish(() => reject(new Error('response aborted'))));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      // A keep-alive socket the server had already closed: the request never reached it.
      const stale = req.reusedSocket && err.code === 'ECONNRESET';
      finish(() => (stale ? resolve({ status: 0, body: '', retryable: true }) : reject(err)));
    });
    req.end(body);
  });
}

/**
 * POSTs `body` once within `timeoutMillis`. The only retry: a request that failed on a reused
 * keep-alive socket the server had closed (it was never received), as Node's documentation advises.
 */
export async function postOnce(url: URL, agent: http.Agent, headers: Record<string, string>, body: Buffer, timeoutMillis: number): Promise<PostResult> {
  const deadline = Date.now() + timeoutMillis;
  const first = await attempt(url, agent, headers, body, deadline);
  if (first.retryable !== true) return first;
  const second = await attempt(url, agent, headers, body, deadline);
  if (second.retryable === true) throw new Error('connection reset');
  return second;
}

/** An environment variable's value, trimmed; undefined when unset or empty. */
export function readEnv(name: string): string | undefined {
  const raw = process.env[name];
  if (raw === undefined) return undefined;
  const value = raw.trim();
  return value === '' ? undefined : value;
}

/** Reports an invalid environment value once on stderr, with the variable's name and the default used. */
export function warnEnv(name: string, value: string, used: string): void {
  warnOnce(`env:${name}=${value}`, `invalid ${name}=${JSON.stringify(value)}; using ${used}`);
}
