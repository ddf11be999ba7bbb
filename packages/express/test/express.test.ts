import http from 'node:http';
import { Readable } from 'node:stream';
import { activeSpan, injectContext, withSpan } from '@tracewire/core';
import type { TracerOptions } from '@tracewire/core';
import { tracingMiddleware, traced } from '../src';
import { captureStderr, memoryTracer } from '../../core/test/helpers';
import { eventually, listen, listenTraced, request, requestAndAbort } from '../../../test-utils/http';
import { expectContinuesTraceparent, expectOwnTraces, expectRestartsWithLink, LOCAL_GET_OK, PARENT, requestConcurrently, rootSpan as root, TRACE_ID } from '../../../test-utils/assertions';
import type { ExpressTracingOptions } from '../src';

const versions: Array<[string, any]> = [
  ['express 4', require('express4')],
  ['express 5', require('express')],
];

describe.each(versions)('tracingMiddleware (%s)', (_label, express) => {
  const stderr = captureStderr();

  async function setup(build: (app: any) => void, options: ExpressTracingOptions = {}, tracerOptions: TracerOptions = {}) {
    const { tracer, exporter } = memoryTracer(tracerOptions);
    const app = express();
    app.use(tracingMiddleware({ tracer, ...options }));
    build(app);
    return { tracer, exporter, ...(await listenTraced(http.createServer(app), tracer)) };
  }

  it('reserves its request and response slots before Express replaces their prototypes, on Node 20 and 22 only, once per server', async () => {
    const major = Number(process.versions.node.split('.')[0]);
    const { tracer, exporter } = memoryTracer();
    const app = express();
    app.use(tracingMiddleware({ tracer }));
    // What Express's own 'request' listener (the app) finds on the objects it is handed.
    const seen: Array<{ req: number; res: number }> = [];
    const server = http.createServer();
    const tracewireSymbols = (o: object) => Object.getOwnPropertySymbols(o).filter((k) => String(k).startsWith('Symbol(tracewire.')).length;
    server.on('request', (req, res) => {
      seen.push({ req: tracewireSymbols(req), res: tracewireSymbols(res) });
      app(req, res);
    });
    app.get('/u/:id', (req: any, res: any) => res.json({ id: req.params.id }));
    const listening = await listen(server);
    try {
      for (let i = 0; i < 5; i++) {
        const res = await request(`${listening.url}/u/${i}`);
        expect(JSON.parse(res.body)).toEqual({ id: String(i) });
      }
      await eventually(() => exporter.spans().length === 5);
      // The route is still read from the slot: every span is named by its template.
      expect(exporter.spans().map((s) => s.name)).toEqual(Array(5).fill('GET /u/:id'));
      const listeners = server.listeners('request');
      if (major < 24) {
        expect(listeners.length).toBe(2);
        expect((listeners[0] as { name?: string }).name).toBe('tracewireReserveSlots');
        // The first request came before the adapter knew the server; the later ones arrive with
        // the adapter's two request slots and the tap's response slot already there.
        expect(seen[0]).toEqual({ req: 0, res: 0 });
        for (const s of seen.slice(1)) expect(s).toEqual({ req: 2, res: 1 });
      } else {
        expect(listeners.length).toBe(1);
        for (const s of seen) expect(s).toEqual({ req: 0, res: 0 });
      }
    } finally {
      await listening.close();
    }
  });

  it('continues an incoming traceparent with its flags and tracestate', async () => {
    const t = await setup((app) => app.get('/hello', (_req: any, res: any) => res.json({ ok: true })));
    try {
      await expectContinuesTraceparent(t);
    } finally {
      await t.close();
    }
  });

  it('restarts with a link when trustIncoming is false', async () => {
    const t = await setup((app) => app.get('/hello', (_req: any, res: any) => res.send('hi')), {}, { trustIncoming: false });
    try {
      await expectRestartsWithLink(t);
    } finally {
      await t.close();
    }
  });

  it('names spans by route template: params, routers mounted on a base path, nested routers, 404', async () => {
    const t = await setup((app) => {
      app.get('/users/:id', (_req: any, res: any) => res.send('u'));
      const api = express.Router();
      const v1 = express.Router();
      v1.get('/items/:itemId', (_req: any, res: any) => res.send('i'));
      api.use('/v1', v1);
      app.use('/api', api);
      const sub = express();
      sub.get('/status', (_req: any, res: any) => res.send('s'));
      app.use('/admin', sub);
    });
    try {
      for (const p of ['/users/42', '/api/v1/items/7?x=1', '/admin/status', '/nope/123']) await request(t.url + p);
      const traces = await t.exporter.waitFor(4);
      const names = traces.map((tr) => root(tr).name);
      expect(names).toEqual(['GET /users/:id', 'GET /api/v1/items/:itemId', 'GET /admin/status', 'GET']);
      expect(traces.map((tr) => root(tr).attributes['http.route'])).toEqual(['/users/:id', '/api/v1/items/:itemId', '/admin/status', undefined]);
      expect(root(traces[3]).attributes['http.response.status_code']).toBe(404);
      expect(root(traces[3]).status.code).toBe('unset');
    } finally {
      await t.close();
    }
  });

  it('keeps the mount path in the name when a handler in a mounted router fails', async () => {
    const t = await setup((app) => {
      const api = express.Router();
      api.get('/orders/:id', () => {
        throw new Error('db down');
      });
      app.use('/api', api);
      app.use((_e: unknown, _req: any, res: any, _next: any) => res.status(500).send('x'));
    });
    try {
      await request(`${t.url}/api/orders/12`);
      const [trace] = await t.exporter.waitFor(1);
      expect(root(trace).name).toBe('GET /api/orders/:id');
      expect(root(trace).attributes['http.route']).toBe('/api/orders/:id');
    } finally {
      await t.close();
    }
  });

  it('records the server attributes, redacting the query and capturing only allowed headers', async () => {
    const t = await setup((app) => app.get('/search', (_req: any, res: any) => res.set('x-served-by', 'node-1').send('ok')), {
      captureHeaders: ['x-request-id', 'authorization', 'x-served-by'],
    });
    try {
      await request(`${t.url}/search?q=llm&token=secret123&api_key=k`, { headers: { 'user-agent': 'jest-test', 'x-request-id': 'req-1', authorization: 'Bearer nope' } });
      const [trace] = await t.exporter.waitFor(1);
      const a = root(trace).attributes;
      expect(a).toMatchObject({
        ...LOCAL_GET_OK,
        'url.path': '/search',
        'url.query': 'q=llm&token=REDACTED&api_key=REDACTED',
        'http.route': '/search',
        'user_agent.original': 'jest-test',
        'http.request.header.x-request-id': ['req-1'],
        'http.response.header.x-served-by': ['node-1'],
      });
      expect(typeof a['server.port']).toBe('number');
      expect(JSON.stringify(trace)).not.toContain('secret123');
      expect(JSON.stringify(trace)).not.toContain('Bearer');
    } finally {
      await t.close();
    }
  });

  it('maps 200 and 404 to unset and 500 to error', async () => {
    const t = await setup((app) => {
      app.get('/ok', (_req: any, res: any) => res.send('ok'));
      app.get('/missing', (_req: any, res: any) => res.status(404).send('no'));
      app.get('/fail', (_req: any, res: any) => res.status(500).send('bad'));
    });
    try {
      for (const p of ['/ok', '/missing', '/fail']) await request(t.url + p);
      const traces = await t.exporter.waitFor(3);
      expect(traces.map((tr) => root(tr).status.code)).toEqual(['unset', 'unset', 'error']);
      expect(root(traces[2]).attributes['error.type']).toBe('500');
    } finally {
      await t.close();
    }
  });

  it.each([
    ['a sync throw', (err: Error) => () => { throw err; }],
    ['next(err)', (err: Error) => (_req: any, _res: any, next: any) => next(err)],
  ])('records %s on the root span and the app error handler sees the same error', async (_n, makeHandler) => {
    class UpstreamError extends Error {}
    const err = new UpstreamError('upstream down');
    let seen: unknown;
    const t = await setup((app) => {
      app.get('/boom', makeHandler(err));
      app.use((e: unknown, _req: any, res: any, _next: any) => {
        seen = e;
        res.status(502).send('handled');
      });
    });
    try {
      const res = await request(`${t.url}/boom`);
      expect(res.body).toBe('handled');
      expect(seen).toBe(err);
      const [trace] = await t.exporter.waitFor(1);
      const span = root(trace);
      expect(span.name).toBe('GET /boom');
      expect(span.status.code).toBe('error');
      expect(span.attributes['error.type']).toBe('UpstreamError');
      expect(span.events.find((e) => e.name === 'exception')!.attributes['exception.message']).toBe('upstream down');
    } finally {
      await t.close();
    }
  });

  if (_label === 'express 5') {
    it('records an async rejection (Express 5 forwards it to next)', async () => {
      const err = new RangeError('async bad');
      let seen: unknown;
      const t = await setup((app) => {
        app.get('/async', async () => {
          await new Promise((r) => setTimeout(r, 2));
          throw err;
        });
        app.use((e: unknown, _req: any, res: any, _next: any) => {
          seen = e;
          res.status(500).send('x');
        });
      });
      try {
        await request(`${t.url}/async`);
        const [trace] = await t.exporter.waitFor(1);
        expect(seen).toBe(err);
        expect(root(trace).attributes['error.type']).toBe('RangeError');
        expect(root(trace).status.code).toBe('error');
      } finally {
        await t.close();
      }
    });
  }

  it('records an error that reaches the default handler (no app error handler)', async () => {
    const t = await setup((app) => app.get('/unhandled', () => { throw new SyntaxError('bad json'); }));
    try {
      const res = await request(`${t.url}/unhandled`);
      expect(res.status).toBe(500);
      const [trace] = await t.exporter.waitFor(1);
      expect(root(trace).attributes['error.type']).toBe('SyntaxError');
    } finally {
      await t.close();
    }
  });

  it('makes the server span the parent of activeSpan, withSpan and traced() in the handler', async () => {
    const t = await setup((app) => {
      app.get('/work/:id', traced('load item', async (_req: any, res: any) => {
        await new Promise((r) => setTimeout(r, 2));
        const inner = await withSpan('db query', async () => 'row');
        const headers: Record<string, string> = {};
        injectContext(headers);
        res.json({ inner, traceparent: headers.traceparent, active: activeSpan()?.spanContext().spanId });
      }));
    });
    try {
      const res = await request(`${t.url}/work/9`);
      const [trace] = await t.exporter.waitFor(1);
      const server = root(trace);
      const load = trace.spans.find((s) => s.name === 'load item')!;
      const db = trace.spans.find((s) => s.name === 'db query')!;
      expect(load.parentSpanId).toBe(server.spanId);
      expect(db.parentSpanId).toBe(load.spanId);
      const body = JSON.parse(res.body);
      expect(body.active).toBe(load.spanId);
      expect(body.traceparent).toBe(`00-${server.traceId}-${load.spanId}-03`);
    } finally {
      await t.close();
    }
  });

  it('ends the span after the last chunk of a streamed response', async () => {
    const t = await setup((app) => app.get('/stream', (_req: any, res: any) => {
      res.setHeader('content-type', 'text/event-stream');
      let i = 0;
      const tick = () => {
        if (i++ < 5) {
          res.write(`data: ${i}\n\n`);
          setTimeout(tick, 35);
        } else res.end();
      };
      tick();
    }));
    try {
      const t0 = Date.now();
      const res = await request(`${t.url}/stream`);
      const elapsed = Date.now() - t0;
      expect(res.body).toContain('data: 5');
      const [trace] = await t.exporter.waitFor(1);
      const span = root(trace);
      expect(span.endTime - span.startTime).toBeGreaterThanOrEqual(160);
      expect(span.endTime - span.startTime).toBeLessThanOrEqual(elapsed + 5);
      expect(span.attributes['tracewire.stream.aborted']).toBeUndefined();
    } finally {
      await t.close();
    }
  });

  it('marks a client abort in the middle of a streamed response and exports the trace once', async () => {
    const t = await setup((app) => app.get('/stream', (_req: any, res: any) => {
      res.setHeader('content-type', 'text/event-stream');
      const body = new Readable({ read() {} });
      body.pipe(res);
      body.push('data: first\n\n');
      const timer = setInterval(() => body.push('data: more\n\n'), 10);
      res.on('close', () => clearInterval(timer));
    }));
    try {
      await requestAndAbort(`${t.url}/stream`, 5);
      const [trace] = await t.exporter.waitFor(1);
      const span = root(trace);
      expect(span.attributes['tracewire.stream.aborted']).toBe(true);
      expect(span.attributes['error.type']).toBe('client_aborted');
      expect(span.status.code).toBe('error');
      await new Promise((r) => setTimeout(r, 50));
      await t.tracer.forceFlush();
      expect(t.exporter.traces()).toHaveLength(1);
    } finally {
      await t.close();
    }
  });

  it('keeps 200 concurrent requests apart', async () => {
    const t = await setup((app) => app.get('/c/:n', async (req: any, res: any) => {
      await new Promise((r) => setTimeout(r, Math.random() * 20));
      await withSpan('child', async () => {
        await new Promise((r) => setTimeout(r, Math.random() * 5));
      });
      res.send(req.params.n);
    }));
    try {
      const sent = Array.from({ length: 200 }, (_, i) => ({ traceId: `f${(i + 1).toString(16).padStart(31, '0')}`, parent: PARENT }));
      await requestConcurrently(sent, (i) => `${t.url}/c/${i}`);
      const traces = expectOwnTraces(await t.exporter.waitFor(200), sent, 'child');
      sent.forEach((s, i) => expect(root(traces.get(s.traceId)!).attributes['url.path']).toBe(`/c/${i}`));
    } finally {
      await t.close();
    }
  });

  it('skips ignored paths but still propagates the incoming context', async () => {
    const t = await setup((app) => {
      const handler = (_req: any, res: any) => {
        const h: Record<string, string> = {};
        injectContext(h);
        res.json(h);
      };
      app.get('/health', handler);
      app.get('/internal/metrics', handler);
      app.get('/traced', handler);
    }, { ignore: ['/health', '/internal/*'] });
    try {
      const health = await request(`${t.url}/health`, { headers: { traceparent: `00-${TRACE_ID}-${PARENT}-01` } });
      expect(JSON.parse(health.body).traceparent).toBe(`00-${TRACE_ID}-${PARENT}-01`);
      await request(`${t.url}/internal/metrics`);
      await request(`${t.url}/traced`);
      const traces = await t.exporter.waitFor(1);
      await t.tracer.forceFlush();
      expect(t.exporter.traces()).toHaveLength(1);
      expect(root(traces[0]).name).toBe('GET /traced');
    } finally {
      await t.close();
    }
  });

  it('never lets a throwing hook reach the application', async () => {
    const t = await setup((app) => app.get('/x', (_req: any, res: any) => res.send('fine')), {
      onRequest: () => {
        throw new Error('bad hook');
      },
      onResponse: () => {
        throw new Error('bad response hook');
      },
    });
    try {
      const res = await request(`${t.url}/x`);
      expect(res.status).toBe(200);
      expect(res.body).toBe('fine');
      await t.exporter.waitFor(1);
      const logged = stderr.lines().join('');
      expect(logged).toContain('bad hook');
    } finally {
      await t.close();
    }
  });

  it('proceeds untraced when Tracewire itself fails', async () => {
    const bug = () => {
      throw new Error('tracer bug');
    };
    const broken = { startIncomingSpan: bug, startSpan: bug, config: {} } as any;
    const app = express();
    app.use(tracingMiddleware({ tracer: broken }));
    app.get('/x', (_req: any, res: any) => res.send('still fine'));
    const server = await listen(http.createServer(app));
    try {
      const res = await request(`${server.url}/x`);
      expect(res.body).toBe('still fine');
      await eventually(() => stderr.lines().some((l) => l.includes('tracer bug')));
    } finally {
      await server.close();
    }
  });
});

describe('traced', () => {
  it('rejects a missing name or handler at setup', () => {
    expect(() => traced('', () => undefined)).toThrow(TypeError);
    expect(() => traced('x', undefined as any)).toThrow(TypeError);
  });
});

describe('tracingMiddleware options', () => {
  it('throws a TypeError naming a bad option', () => {
    expect(() => tracingMiddleware({ ignore: 'health' as any })).toThrow(/ignore/);
    expect(() => tracingMiddleware({ onRequest: 1 as any })).toThrow(/onRequest/);
    expect(() => tracingMiddleware({ captureHeaders: 'x' as any })).toThrow(/captureHeaders/);
  });
});

describe('ignored requests', () => {
  it('record no span of any kind, even under a sampled incoming context', async () => {
    const express = require('express');
    const { tracer, exporter } = memoryTracer();
    const app = express();
    app.use(tracingMiddleware({ tracer, ignore: ['/health'] }));
    app.get('/health', async (_req: any, res: any) => {
      await tracer.withSpan('db ping', async () => undefined);
      res.send('ok');
    });
    const server = await listen(http.createServer(app));
    try {
      await request(`${server.url}/health`, { headers: { traceparent: `00-${TRACE_ID}-${PARENT}-01` } });
      await tracer.forceFlush();
      expect(exporter.traces()).toHaveLength(0);
      expect(tracer.stats().startedTraces).toBe(0);
    } finally {
      await server.close();
      await tracer.shutdown();
    }
  });
});
