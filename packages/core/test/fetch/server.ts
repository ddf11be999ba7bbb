/** A local HTTP server for tracedFetch tests: records what it received, answers as told. */
import http from 'node:http';
import { listen } from '../../../../test-utils/http';
import type { Listening } from '../../../../test-utils/http';

export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  /** Raw header list, to see how many times a header was sent. */
  rawHeaders: string[];
  body: string;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

export interface TestServer extends Listening {
  received: Received[];
  /** The server-side `close` of each request's socket, in arrival order. */
  socketClosed: Array<Promise<void>>;
}

const ok: Handler = (_req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.end('ok');
};

/** Starts a server on 127.0.0.1:0; `handler` answers after the request body has been read. */
export async function startServer(handler: Handler = ok): Promise<TestServer> {
  const received: Received[] = [];
  const socketClosed: Array<Promise<void>> = [];
  const server = http.createServer((req, res) => {
    socketClosed.push(new Promise((resolve) => res.once('close', () => resolve())));
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, body });
      handler(req, res, body);
    });
  });
  const l = await listen(server);
  return { ...l, received, socketClosed };
}

/** Resolves once `fn()` is truthy (polling), or rejects after `ms`. */
export async function until(fn: () => unknown, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error('until: condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
