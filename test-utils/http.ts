/** Real-socket HTTP helpers for adapter tests: servers on 127.0.0.1:0, requests via node:http. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Listening {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 with an ephemeral port. */
export function listen(server: http.Server): Promise<Listening> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections?.();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Listens like `listen`; close() then also shuts `tracer` down, so its last exports finish. */
export async function listenTraced(server: http.Server, tracer: { shutdown(): Promise<unknown> }): Promise<Listening> {
  const listening = await listen(server);
  return {
    ...listening,
    async close() {
      await listening.close();
      await tracer.shutdown();
    },
  };
}

export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  raw: Buffer;
}

/** One request; resolves with the whole body. */
export function request(url: string, opts: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string } = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: raw.toString('utf8'), raw });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/**
 * Reads a streamed response until `received` bytes arrive (or the first chunk when 0), then
 * destroys the socket: a client that goes away mid-stream.
 */
export function requestAndAbort(url: string, afterBytes = 1): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent: false }, (res) => {
      let got = '';
      res.on('data', (c: Buffer) => {
        got += c.toString('utf8');
        if (Buffer.byteLength(got) >= afterBytes) {
          req.destroy();
          resolve(got);
        }
      });
      res.on('error', () => undefined);
    });
    req.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
    });
    req.end();
  });
}

/** Polls `fn` until it returns truthy or the deadline passes. */
export async function eventually<T>(fn: () => T | undefined, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('eventually: condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
