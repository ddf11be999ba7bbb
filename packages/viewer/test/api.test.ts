/**
 * The JSON API, the live feed and the page's files, with traces recorded by real Tracewire tracers
 * that export through the viewer's in-process exporter.
 */
import http from 'node:http';
import { createTracer } from '@tracewire/core';
import type { Tracer } from '@tracewire/core';
import { createViewer } from '../src';
import type { TraceSummary, TraceTotals, Viewer } from '../src';
import { get, getJson, until } from './helpers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('createViewer', () => {
  it('binds to 127.0.0.1 by default and names the option it rejects', async () => {
    const viewer = await createViewer();
    try {
      expect(viewer.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await viewer.close();
    }
    await expect(createViewer({ port: -1 })).rejects.toThrow(TypeError);
    await expect(createViewer({ port: 70000 })).rejects.toThrow(/"port"/);
    await expect(createViewer({ maxTraces: 0 })).rejects.toThrow(/"maxTraces"/);
    await expect(createViewer({ maxBodyBytes: 0 })).rejects.toThrow(/"maxBodyBytes"/);
  });

  it('its exporter keeps working quietly after close (a tracer may still flush)', async () => {
    const viewer = await createViewer();
    await viewer.close();
    await expect(viewer.exporter.export([])).resolves.toBeUndefined();
    await viewer.close(); // twice is fine
  });
});

describe('GET /api/traces', () => {
  let viewer: Viewer;
  let gateway: Tracer;
  let chat: Tracer;

  /** One request crossing gateway → chat, like two services with propagation; optional LLM call. */
  async function request(route: string, opts: { fail?: boolean; waitMs?: number; llm?: boolean; model?: string } = {}): Promise<string> {
    const root = gateway.startSpan(`POST ${route}`, { kind: 'server', attributes: { 'http.route': route, 'url.path': route } });
    const client = gateway.startSpan('POST', { kind: 'client', parent: root });
    const server = chat.startSpan('POST /chat', { kind: 'server', parent: { ...client.spanContext(), isRemote: true }, attributes: { 'http.route': '/chat' } });
    if (opts.llm) {
      const call = chat.startSpan(`chat ${opts.model ?? 'gpt-5.4-mini'}`, {
        kind: 'client',
        parent: server,
        attributes: {
          'gen_ai.provider.name': 'openai',
          'gen_ai.operation.name': 'chat',
          'gen_ai.response.model': opts.model ?? 'gpt-5.4-mini',
          'gen_ai.usage.input_tokens': 24,
          'gen_ai.usage.output_tokens': 10,
          'gen_ai.usage.cache_read.input_tokens': 8,
          'gen_ai.response.time_to_first_chunk': 0.004,
          'tracewire.usage.cost': 0.00005,
        },
      });
      await sleep(2);
      call.end();
    }
    if (opts.waitMs) await sleep(opts.waitMs);
    if (opts.fail) server.setStatus({ code: 'error', message: 'boom' });
    server.end();
    client.end();
    root.end();
    return root.spanContext().traceId;
  }

  beforeAll(async () => {
    viewer = await createViewer({ maxTraces: 50 });
    gateway = createTracer({ serviceName: 'gateway', exporters: [viewer.exporter], limits: { lingerMs: 50 } });
    chat = createTracer({ serviceName: 'chat', exporters: [viewer.exporter], limits: { lingerMs: 50 } });
  });
  afterAll(async () => {
    await gateway.shutdown();
    await chat.shutdown();
    await viewer.close();
  });

  let ids: { plain: string; slow: string; failed: string; llm: string; other: string };
  beforeAll(async () => {
    ids = {
      plain: await request('/api/users'),
      slow: await request('/api/report', { waitMs: 400 }),
      failed: await request('/api/chat', { fail: true }),
      llm: await request('/api/chat', { llm: true }),
      other: await request('/api/chat', { llm: true, model: 'claude-haiku-4-5' }),
    };
    await until(async () => (await getJson<TraceSummary[]>(viewer.url, '/api/traces')).filter((t) => t.spanCount >= 3).length === 5);
  });

  const list = (qs = '') => getJson<TraceSummary[]>(viewer.url, `/api/traces${qs}`);

  it('returns summaries of exactly the documented shape, newest first', async () => {
    const traces = await list();
    expect(traces.map((t) => t.traceId)).toEqual([ids.other, ids.llm, ids.failed, ids.slow, ids.plain]);
    const llm = traces.find((t) => t.traceId === ids.llm)!;
    expect(Object.keys(llm).sort()).toEqual(['durationMs', 'error', 'llm', 'rootName', 'services', 'spanCount', 'startTime', 'traceId']);
    expect(llm).toEqual({
      traceId: ids.llm,
      rootName: 'POST /api/chat',
      services: ['gateway', 'chat'],
      startTime: expect.any(Number),
      durationMs: expect.any(Number),
      spanCount: 4,
      error: false,
      llm: { calls: 1, inputTokens: 24, outputTokens: 10, cost: 0.00005, ttftMs: expect.any(Number) },
    });
    expect(llm.llm.ttftMs).toBeGreaterThanOrEqual(4);
    expect(traces.find((t) => t.traceId === ids.plain)!.llm).toEqual({ calls: 0, inputTokens: null, outputTokens: null, cost: null, ttftMs: null });
  });

  it('filters by service, route, status, minimum duration, LLM calls, text, and limits', async () => {
    const pick = async (qs: string) => (await list(qs)).map((t) => t.traceId).sort();
    expect(await pick('?service=chat')).toHaveLength(5);
    expect(await pick('?service=nobody')).toEqual([]);
    expect(await pick('?route=%2Fapi%2Fchat')).toEqual([ids.failed, ids.llm, ids.other].sort());
    expect(await pick('?route=/api/users')).toEqual([ids.plain]);
    expect(await pick('?status=error')).toEqual([ids.failed]);
    expect(await pick('?status=ok')).not.toContain(ids.failed);
    // Far apart, so a loaded machine's delays on the other requests do not reach the threshold.
    expect(await pick('?minMs=300')).toEqual([ids.slow]);
    expect(await pick('?llm=1')).toEqual([ids.llm, ids.other].sort());
    expect(await pick('?llm=1&route=/api/chat&status=error')).toEqual([]);
    expect(await pick('?q=claude')).toEqual([ids.other]);
    expect(await pick(`?q=${ids.slow.slice(0, 12).toUpperCase()}`)).toEqual([ids.slow]);
    expect((await list('?limit=2')).map((t) => t.traceId)).toEqual([ids.other, ids.llm]);
  });

  it('answers 400 naming the parameter for bad filter values', async () => {
    for (const [qs, re] of [
      ['?status=broken', /status must be/],
      ['?minMs=fast', /minMs must be/],
      ['?minMs=-1', /minMs must be/],
      ['?llm=maybe', /llm must be/],
      ['?limit=0', /limit must be/],
      ['?limit=2.5', /limit must be/],
    ] as const) {
      const r = await get(viewer.url, `/api/traces${qs}`);
      expect(r.status).toBe(400);
      expect(JSON.parse(r.text).error).toMatch(re);
    }
  });

  it('GET /api/traces/:traceId returns { traceId, spans } with each span as SpanData plus its service', async () => {
    const detail = await getJson(viewer.url, `/api/traces/${ids.llm}`);
    expect(Object.keys(detail).sort()).toEqual(['spans', 'traceId']);
    expect(detail.spans.map((s: any) => [s.service, s.kind, s.name])).toEqual([
      ['gateway', 'server', 'POST /api/chat'],
      ['gateway', 'client', 'POST'],
      ['chat', 'server', 'POST /chat'],
      ['chat', 'client', 'chat gpt-5.4-mini'],
    ]);
    const [root, client, server] = detail.spans;
    expect(server.parentSpanId).toBe(client.spanId);
    expect(server.parentIsRemote).toBe(true);
    expect(root).toMatchObject({ traceId: ids.llm, ended: true, status: { code: 'unset' }, events: [], links: [], dropped: { attributes: 0, events: 0, links: 0 } });
    expect(typeof root.startTime).toBe('number');
    expect((await get(viewer.url, '/api/traces/0123456789abcdef0123456789abcdef')).status).toBe(404);
    expect((await get(viewer.url, '/api/traces/not-an-id')).status).toBe(404);
    // Upper-case ids are the same trace.
    expect((await get(viewer.url, `/api/traces/${ids.llm.toUpperCase()}`)).status).toBe(200);
  });

  it('GET /api/totals: requests, errors, p50/p95 duration and TTFT, tokens and cost by model', async () => {
    const totals = await getJson<TraceTotals>(viewer.url, '/api/totals');
    expect(totals).toMatchObject({ requests: 5, errors: 1, llmCalls: 2, inputTokens: 48, outputTokens: 20 });
    expect(totals.cost).toBeCloseTo(0.0001, 10);
    // Nearest rank over 5 traces: p95 is the slowest, p50 the third.
    const durations = (await list()).map((t) => t.durationMs).sort((a, b) => a - b);
    expect(totals.durationMs).toEqual({ p50: durations[2], p95: durations[4] });
    expect(totals.durationMs.p95).toBe((await list()).find((t) => t.traceId === ids.slow)!.durationMs);
    expect(totals.ttftMs.p50).toBeGreaterThanOrEqual(4);
    expect(totals.models.map((m) => [m.model, m.calls, m.inputTokens, m.cachedInputTokens])).toEqual([
      ['claude-haiku-4-5', 1, 24, 8],
      ['gpt-5.4-mini', 1, 24, 8],
    ]);
    const errorsOnly = await getJson<TraceTotals>(viewer.url, '/api/totals?status=error');
    expect(errorsOnly).toMatchObject({ requests: 1, errors: 1, llmCalls: 0, ttftMs: { p50: null, p95: null } });
  });

  it('GET /api/facets lists services, routes and models for the filter menus', async () => {
    expect(await getJson(viewer.url, '/api/facets')).toEqual({
      services: ['chat', 'gateway'],
      routes: ['/api/chat', '/api/report', '/api/users', '/chat'],
      models: ['claude-haiku-4-5', 'gpt-5.4-mini'],
    });
  });

  it('GET /api/events streams an event naming the traces that changed', async () => {
    const events: string[] = [];
    const url = new URL('/api/events', viewer.url);
    const req = http.get(url, (res) => {
      expect(res.headers['content-type']).toBe('text/event-stream');
      res.setEncoding('utf8');
      res.on('data', (c: string) => events.push(c));
    });
    try {
      await until(() => events.join('').includes('event: hello'));
      const id = await request('/api/live');
      await until(() => events.join('').includes(id));
      const frame = events.join('').split('\n\n').find((f) => f.includes(id))!;
      expect(frame).toMatch(/^event: traces\ndata: /);
      const data = JSON.parse(frame.slice(frame.indexOf('data: ') + 6));
      expect(data.traceIds).toContain(id);
      expect(data.stats.traces).toBeGreaterThanOrEqual(6);
    } finally {
      req.destroy();
    }
  });
});

describe('the page and its files', () => {
  let viewer: Viewer;
  beforeAll(async () => {
    viewer = await createViewer();
  });
  afterAll(() => viewer.close());

  it('serves the page and its own assets, with a CSP that allows nothing from elsewhere', async () => {
    const page = await get(viewer.url, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toMatch(/default-src 'none'; script-src 'self'/);
    expect(page.text).toContain('<script src="/assets/app.js" defer></script>');
    expect(page.text).not.toMatch(/https?:\/\//); // no CDN
    for (const [path, type] of [['/assets/app.js', 'text/javascript'], ['/assets/app.css', 'text/css'], ['/assets/favicon.svg', 'image/svg+xml']]) {
      const r = await get(viewer.url, path);
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toMatch(type);
    }
    expect((await get(viewer.url, '/assets/app.js')).text).not.toMatch(/https?:\/\/(?!127)/);
  });

  it('never serves a file outside its assets', async () => {
    for (const path of [
      '/assets/../package.json',
      '/assets/..%2fpackage.json',
      '/assets/%2e%2e/%2e%2e/package.json',
      '/..%2f..%2fpackage.json',
      '/assets/app.js/../../src/viewer.ts',
      '/assets/app.js%00.png',
      '//etc/passwd',
      '/assets/',
      '/src/index.ts',
      '/package.json',
      '/assets/index.html/..',
    ]) {
      const r = await get(viewer.url, path);
      expect([r.status, path]).toEqual([404, path]);
      expect(r.text).not.toMatch(/"name": "@tracewire\/viewer"|root:x:0|createViewer/);
    }
  });

  it('answers only requests addressed to a loopback name (no DNS rebinding)', async () => {
    const evil = await get(viewer.url, '/api/traces', { host: 'evil.example:4318' });
    expect(evil.status).toBe(403);
    expect((await get(viewer.url, '/api/traces', { host: 'localhost:4318' })).status).toBe(200);
  });

  it('refuses writes other than OTLP', async () => {
    const { send } = await import('./helpers');
    expect((await send(viewer.url, 'POST', '/api/traces', '{}')).status).toBe(405);
    expect((await send(viewer.url, 'DELETE', '/')).status).toBe(405);
  });
});
