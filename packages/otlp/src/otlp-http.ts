/**
 * OTLP/HTTP delivery (https://opentelemetry.io/docs/specs/otlp/#otlphttp-response): one POST per
 * batch, retried on 429, 502, 503, 504 and connection errors with exponential backoff and jitter,
 * honouring `Retry-After`, all within one deadline; any other status is final. Response bodies are
 * read up to a cap.
 */
import * as http from 'node:http';
import * as https from 'node:https';

/** How much of a response body is read; the rest is drained unread (a response is small). */
export const MAX_RESPONSE_BYTES = 64 * 1024;

/** Backoff between attempts: 1 s, 2 s, 4 s, capped at 5 s, each ±20 %; at most 5 attempts. */
export const RETRY = Object.freeze({ initialMs: 1000, maxMs: 5000, multiplier: 2, jitter: 0.2, maxAttempts: 5 });

const RETRYABLE_STATUS: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/** What one attempt ended with. */
export type AttemptResult =
  | { kind: 'ok'; status: number; contentType: string; body: Buffer }
  | { kind: 'retryable'; reason: string; retryAfterMs?: number }
  | { kind: 'failed'; reason: string; status?: number; contentType?: string; body?: Buffer }
  | { kind: 'timeout'; reason: string };

/** Counters of one exporter's transport, reported in `tracer.stats()`. */
export interface TransportCounters {
  requests: number;
  retries: number;
}

/**
 * `Retry-After` in milliseconds from now: delta-seconds or an HTTP date
 * (https://www.rfc-editor.org/rfc/rfc9110#field.retry-after); undefined when absent or invalid.
 */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  if (Array.isArray(value)) value = value[0];
  if (typeof value !== 'string') return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (!/[a-z]/i.test(v)) return undefined; // "1.5", "-3": not a date either
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** The next backoff delay with jitter, for attempt number `attempt` (1 = after the first). */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(RETRY.maxMs, RETRY.initialMs * Math.pow(RETRY.multiplier, attempt - 1));
  return base * (1 - RETRY.jitter + 2 * RETRY.jitter * random());
}

/** Certificate and TLS-verification failures: retrying cannot help. */
function isPermanent(code: string): boolean {
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_|ERR_SSL_/.test(code);
}

/** The target of an exporter: URL, agent (keep-alive, its idle sockets never hold the process). */
export class HttpTarget {
  readonly url: URL;
  /** `origin + path` only: what messages show (no credentials, no query). */
  readonly display: string;
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;

  constructor(url: URL, private readonly headers: Record<string, string>) {
    this.url = url;
    this.display = url.origin + url.pathname;
    const https_ = url.protocol === 'https:';
    this.transport = https_ ? https : http;
    this.agent = https_ ? new https.Agent({ keepAlive: true, maxSockets: 4 }) : new http.Agent({ keepAlive: true, maxSockets: 4 });
  }

  /** Closes idle keep-alive connections (at shutdown). */
  close(): void {
    this.agent.destroy();
  }

  /** One POST, settled by `deadline` (epoch ms) at the latest. */
  attempt(body: Buffer, deadline: number): Promise<AttemptResult> {
    return new Promise((resolve) => {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        resolve({ kind: 'timeout', reason: 'no time left within the export timeout' });
        return;
      }
      let settled = false;
      let req!: http.ClientRequest;
      const timer = setTimeout(() => {
        settle({ kind: 'timeout', reason: `no response within the export timeout` });
        req.destroy();
      }, remaining);
      timer.unref();
      const settle = (r: AttemptResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      try {
        req = this.transport.request(this.url, {
          method: 'POST',
          agent: this.agent,
          headers: { ...this.headers, 'content-length': String(body.length) },
        });
      } catch (err) {
        // Only a bad URL or header could get here, and both are checked at setup.
        settle({ kind: 'failed', reason: err instanceof Error ? err.message : String(err) });
        return;
      }
      req.on('error', (err: NodeJS.ErrnoException) => {
        const code = err.code ?? err.message;
        // A certificate the process does not trust will not be trusted a second later.
        if (isPermanent(code)) settle({ kind: 'failed', reason: `TLS error ${code}` });
        else settle({ kind: 'retryable', reason: `connection error ${code}` });
      });
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        const contentType = String(res.headers['content-type'] ?? '');
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (chunk: Buffer) => {
          if (kept >= MAX_RESPONSE_BYTES) return; // drained, not kept: the connection stays reusable
          const part = chunk.length > MAX_RESPONSE_BYTES - kept ? chunk.subarray(0, MAX_RESPONSE_BYTES - kept) : chunk;
          chunks.push(part);
          kept += part.length;
        });
        const done = (): void => {
          const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
          if (status >= 200 && status < 300) settle({ kind: 'ok', status, contentType, body });
          else if (RETRYABLE_STATUS.has(status)) {
            const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
            settle(retryAfterMs === undefined ? { kind: 'retryable', reason: `HTTP ${status}` } : { kind: 'retryable', reason: `HTTP ${status}`, retryAfterMs });
          } else settle({ kind: 'failed', reason: `HTTP ${status}`, status, contentType, body });
        };
        res.on('end', done);
        // The status line arrived: the body's fate is decided by it, even if the rest is cut.
        res.on('error', done);
        res.on('close', done);
      });
      req.end(body);
    });
  }
}
