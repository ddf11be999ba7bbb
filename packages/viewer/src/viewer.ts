/**
 * `createViewer`: one node:http server on 127.0.0.1 that is at once an OTLP/HTTP receiver, a JSON
 * API over the trace store, a live feed (SSE) and the web page. The page is a fixed set of files
 * read from the package's `assets/` folder at start; no request path ever reaches the file system.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Exporter, FinishedTrace, SpanData } from '@tracewire/core';
import { receiveTraces } from './receiver';
import { MetricStore, receiveMetrics } from './metrics';
import { withScopeAttributes } from './otlp/model';
import { DEFAULT_LIMIT, TraceStore } from './store';
import type { TraceQuery, Viewer, ViewerOptions } from './types';

const DEFAULT_MAX_BODY = 16 * 1024 * 1024;
const MAX_SSE_CLIENTS = 64;
// Changes are sent to the page at most this often: an export burst becomes one event.
const SSE_COALESCE_MS = 150;
const SSE_HEARTBEAT_MS = 15000;

/** Where the page's files live, from src/ (tests) and from dist/ (the published package) alike. */
const ASSET_DIR = join(__dirname, '..', 'assets');
const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/assets/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/assets/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
  '/assets/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
};

// The page loads only its own files and talks only to its own origin.
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

function loadAssets(): Map<string, { body: Buffer; type: string }> {
  const out = new Map<string, { body: Buffer; type: string }>();
  const cache = new Map<string, Buffer>();
  for (const [path, { file, type }] of Object.entries(ASSETS)) {
    let body = cache.get(file);
    if (body === undefined) {
      body = readFileSync(join(ASSET_DIR, file));
      cache.set(file, body);
    }
    out.set(path, { body, type });
  }
  return out;
}

function validateOptions(options: ViewerOptions): { port: number; host: string; maxBodyBytes: number } {
  if (options === null || typeof options !== 'object') throw new TypeError('createViewer: options must be an object');
  const { port = 0, host = '127.0.0.1', maxBodyBytes = DEFAULT_MAX_BODY } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`createViewer: option "port" must be an integer from 0 to 65535, got ${String(port)}`);
  if (typeof host !== 'string' || host === '') throw new TypeError('createViewer: option "host" must be a non-empty string');
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1) throw new TypeError(`createViewer: option "maxBodyBytes" must be a positive integer, got ${String(maxBodyBytes)}`);
  return { port, host, maxBodyBytes };
}

/** Parses the filters of `/api/traces` and `/api/totals`; a string is the error to answer with 400. */
export function parseQuery(params: URLSearchParams, maxTraces: number): TraceQuery | string {
  const q: TraceQuery = {};
  const service = params.get('service');
  if (service) q.service = service;
  const route = params.get('route');
  if (route) q.route = route;
  const status = params.get('status');
  if (status) {
    if (status !== 'error' && status !== 'ok') return `status must be "error" or "ok", got ${JSON.stringify(status)}`;
    q.status = status;
  }
  const minMs = params.get('minMs');
  if (minMs) {
    const n = Number(minMs);
    if (!Number.isFinite(n) || n < 0) return `minMs must be a number of milliseconds >= 0, got ${JSON.stringify(minMs)}`;
    q.minMs = n;
  }
  const llm = params.get('llm');
  if (llm) {
    if (llm === '1' || llm === 'true') q.llm = true;
    else if (llm === '0' || llm === 'false') q.llm = false;
    else return `llm must be 1 or 0, got ${JSON.stringify(llm)}`;
  }
  const text = params.get('q');
  if (text) q.q = text.slice(0, 200);
  const limit = params.get('limit');
  if (limit) {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1) return `limit must be a positive integer, got ${JSON.stringify(limit)}`;
    q.limit = Math.min(n, maxTraces);
  } else q.limit = Math.min(DEFAULT_LIMIT, maxTraces);
  return q;
}

function json(res: http.ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

function hostnameOf(hostHeader: string | undefined): string {
  if (hostHeader === undefined) return '';
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1);
  const colon = hostHeader.lastIndexOf(':');
  return (colon === -1 ? hostHeader : hostHeader.slice(0, colon)).toLowerCase();
}

/** A span with its instrumentation scope moved into its attributes (what the OTLP path shows). */
function scopeAsAttributes(span: SpanData): SpanData {
  if (span === null || typeof span !== 'object' || span.instrumentationScope === undefined) return span;
  const { instrumentationScope: scope, ...rest } = span;
  return scope !== null && typeof scope.name === 'string' ? { ...rest, attributes: withScopeAttributes(span.attributes, scope) } : rest;
}

/**
 * Starts a viewer. Resolves once it listens; `url` then has the real port. Bad options throw a
 * `TypeError` naming the option.
 */
export async function createViewer(options: ViewerOptions = {}): Promise<Viewer> {
  const { port, host, maxBodyBytes } = validateOptions(options);
  const store = new TraceStore({ maxTraces: options.maxTraces, maxSpansPerTrace: options.maxSpansPerTrace });
  const metrics = new MetricStore();
  const assets = loadAssets();
  // Bound to loopback, answer only requests addressed to a loopback name: a web page that rebinds
  // its own DNS name to 127.0.0.1 cannot read the traces.
  const checkHost = LOOPBACK_HOSTS.has(host);
  const clients = new Set<http.ServerResponse>();
  let closed = false;

  let pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    const traceIds = [...pending];
    pending = new Set();
    const data = JSON.stringify({ traceIds, stats: store.stats() });
    for (const c of clients) c.write(`event: traces\ndata: ${data}\n\n`);
  };
  store.onChange((ids) => {
    if (clients.size === 0) return;
    for (const id of ids) pending.add(id);
    if (timer === undefined) {
      timer = setTimeout(flush, SSE_COALESCE_MS);
      timer.unref();
    }
  });
  const heartbeat = setInterval(() => {
    for (const c of clients) c.write(': ping\n\n');
  }, SSE_HEARTBEAT_MS);
  heartbeat.unref();

  const server = http.createServer((req, res) => {
    try {
      handle(req, res);
    } catch (err) {
      if (!res.headersSent) json(res, 500, { error: `viewer: ${(err as Error)?.message ?? String(err)}` });
      else res.destroy();
    }
  });

  function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (checkHost && !LOOPBACK_HOSTS.has(hostnameOf(req.headers.host))) {
      req.resume();
      json(res, 403, { error: 'this viewer answers only requests addressed to 127.0.0.1, localhost or [::1]' });
      return;
    }
    const url = new URL(req.url ?? '/', 'http://viewer');
    const path = url.pathname;
    const method = req.method ?? 'GET';

    if (path === '/v1/traces') {
      if (method !== 'POST') {
        req.resume();
        res.writeHead(405, { allow: 'POST' }).end();
        return;
      }
      if (closed) {
        req.resume();
        json(res, 503, { code: 14, message: 'viewer is closing' });
        return;
      }
      void receiveTraces(req, res, store, maxBodyBytes);
      return;
    }
    if (path === '/v1/metrics') {
      if (method !== 'POST' || closed) {
        req.resume();
        if (closed) json(res, 503, { code: 14, message: 'viewer is closing' });
        else res.writeHead(405, { allow: 'POST' }).end();
        return;
      }
      receiveMetrics(req, res, metrics, maxBodyBytes);
      return;
    }

    req.resume();
    if (method !== 'GET' && method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }

    const asset = assets.get(path);
    if (asset !== undefined) {
      res.writeHead(200, { 'content-type': asset.type, 'content-length': asset.body.length, ...PAGE_HEADERS });
      res.end(method === 'HEAD' ? undefined : asset.body);
      return;
    }

    if (path === '/api/traces' || path === '/api/totals') {
      const query = parseQuery(url.searchParams, store.maxTraces);
      if (typeof query === 'string') return json(res, 400, { error: query });
      return json(res, 200, path === '/api/traces' ? store.list(query) : store.totals(query));
    }
    if (path.startsWith('/api/traces/')) {
      const id = decodeURIComponent(path.slice('/api/traces/'.length)).toLowerCase();
      const trace = /^[0-9a-f]{32}$/.test(id) ? store.get(id) : undefined;
      if (trace === undefined) return json(res, 404, { error: `no trace ${JSON.stringify(id)}` });
      return json(res, 200, trace);
    }
    if (path === '/api/metrics') return json(res, 200, metrics.view());
    if (path === '/api/facets') return json(res, 200, store.facets());
    if (path === '/api/stats') return json(res, 200, store.stats());
    if (path === '/api/events') {
      if (clients.size >= MAX_SSE_CLIENTS) return json(res, 503, { error: `at most ${MAX_SSE_CLIENTS} live pages` });
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
      res.write(`retry: 2000\nevent: hello\ndata: ${JSON.stringify({ stats: store.stats() })}\n\n`);
      clients.add(res);
      res.on('close', () => clients.delete(res));
      return;
    }
    json(res, 404, { error: `not found: ${path}` });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' || host.includes(':') ? `[${address.address}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const url = `http://${urlHost}:${address.port}`;

  const exporter: Exporter = {
    name: 'viewer',
    // Traces show up the moment they are complete, as on the console.
    scheduledDelayMillis: 0,
    export(traces: FinishedTrace[]): Promise<void> {
      if (closed) return Promise.resolve();
      for (const t of traces) {
        if (t === null || typeof t !== 'object' || !Array.isArray(t.spans)) continue;
        // A span another library made (through @tracewire/opentelemetry) shows its scope as the
        // same span received over OTLP does.
        const spans = t.spans.some((s) => s !== null && typeof s === 'object' && s.instrumentationScope !== undefined) ? t.spans.map(scopeAsAttributes) : t.spans;
        store.add(t.resource ?? {}, spans);
      }
      return Promise.resolve();
    },
    shutdown: () => Promise.resolve(),
    forceFlush: () => Promise.resolve(),
  };

  return {
    url,
    exporter,
    stats: () => store.stats(),
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      if (timer !== undefined) clearTimeout(timer);
      for (const c of clients) c.end();
      clients.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Requests still in flight get a moment to answer; then every socket goes.
        setTimeout(() => server.closeAllConnections(), 200).unref();
      });
    },
  };
}
