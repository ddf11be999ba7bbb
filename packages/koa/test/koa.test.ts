import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import Router from '@koa/router';
import { activeSpan, injectContext } from '@tracewire/core';
import type { Tracer, TracerOptions } from '@tracewire/core';
import { tracingMiddleware, traced } from '../src';
import type { KoaTracingOptions } from '../src';
import { captureStderr, memoryTracer } from '../../core/test/helpers';
import { listenTraced, request, requestAndAbort } from '../../../test-utils/http';
import { expectContinuesTraceparent, expectOwnTraces, expectRestartsWithLink, LOCAL_GET_OK, PARENT, requestConcurrently, rootSpan as root, TRACE_ID } from '../../../test-utils/assertions';

const versions: Array<[string, any]> = [
  ['koa 2', require('koa2')],
  ['koa 3', require('koa')],
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Same clock as span times (epoch ms from the monotonic source). */
const nowMs = () => performance.timeOrigin + performance.now();

/** A body that pushes `chunks` `delayMs` apart, then ends; `onEnd` runs as the end is pushed. */
function slowStream(chunks: string[], delayMs: number, onEnd?: () => void): Readable {
  let i = 0;
  let timer: NodeJS.Timeout | undefined;
  const stream: Readable = new Readable({
    read() {
      if (timer) return;
      timer = setTimeout(
        () => {
          timer = undefined;
          if (i < chunks.length) stream.push(chunks[i++]);
          else {
            onEnd?.();
            stream.push(null);
          }
        },
        i === 0 ? 0 : delayMs,
      );
    },
    destroy(err, cb) {
      if (timer) clearTimeout(timer);
      cb(err);
    },
  });
  return stream;
}

class QuotaError extends Error {}

describe.each(versions)('tracingMiddleware (%s)', (_label, Koa) => {
  captureStderr();

  interface Setup {
    app: any;
    tracer: Tracer;
    exporter: ReturnType<typeof memoryTracer>['exporter'];
    url: string;
    port: number;
    close(): Promise<void>;
  }

  /** A Koa app with `before` middleware, then tracing, then `build`'s routes, on a real socket. */
  async function setup(
    build: (app: any, tracer: Tracer) => void,
    options: KoaTracingOptions = {},
    tracerOptions: TracerOptions = {},
    before?: (app: any) => void,
  ): Promise<Setup> {
    const { tracer, exporter } = memoryTracer(tracerOptions);
    const app = new Koa();
    before?.(app);
    app.use(tracingMiddleware({ tracer, ...options }));
    build(app, tracer);
    return { app, tracer, exporter, ...(await listenTraced(http.createServer(app.callback()), tracer)) };
  }

  function routes(router: Router): (app: any) => void {
    return (app) => app.use(router.routes());
  }

  describe('incoming context', () => {
    it('continues an incoming traceparent with its flags and tracestate', async () => {
      const router = new Router();
      router.get('/hello', (ctx) => {
        ctx.body = { ok: true };
      });
      const t = await setup(routes(router));
      try {
        await expectContinuesTraceparent(t);
      } finally {
        await t.close();
      }
    });

    it('restarts with a new trace id and a link when trustIncoming is false', async () => {
      const router = new Router();
      router.get('/hello', (ctx) => {
        ctx.body = 'hi';
      });
      const t = await setup(routes(router), {}, { trustIncoming: false });
      try {
        await expectRestartsWithLink(t);
      } finally {
        await t.close();
      }
    });
  });

  describe('route names', () => {
    it('names the span from the route template with params', async () => {
      const router = new Router();
      router.get('/users/:id', (ctx) => {
        ctx.body = `user ${ctx.params.id}`;
      });
      const t = await setup(routes(router));
      try {
        expect((await request(`${t.url}/users/42`)).body).toBe('user 42');
        const [trace] = await t.exporter.waitFor(1);
        expect(root(trace).name).toBe('GET /users/:id');
        expect(root(trace).attributes['http.route']).toBe('/users/:id');
      } finally {
        await t.close();
      }
    });

    it('includes the prefixes of nested routers', async () => {
      const api = new Router({ prefix: '/api' });
      const v1 = new Router({ prefix: '/v1' });
      v1.get('/items/:id', (ctx) => {
        ctx.body = 'item';
      });
      api.use(v1.routes());
      const t = await setup(routes(api));
      try {
        await request(`${t.url}/api/v1/items/7`, { method: 'GET' });
        const [trace] = await t.exporter.waitFor(1);
        expect(root(trace).name).toBe('GET /api/v1/items/:id');
        expect(root(trace).attributes['http.route']).toBe('/api/v1/items/:id');
      } finally {
        await t.close();
      }
    });

    it('names the matched route when a router-level middleware answers before it', async () => {
      // @koa/router leaves the `use()` layer's own path (`/api(?:\/|$)`) in ctx._matchedRoute here.
      const api = new Router({ prefix: '/api' });
      const v1 = new Router({ prefix: '/v1' });
      v1.get('/items/:id', (ctx) => {
        ctx.body = 'item';
      });
      api.use(async (ctx, next) => {
        if (ctx.get('x-deny')) {
          ctx.status = 401;
          return;
        }
        await next();
      });
      api.use(v1.routes());
      const t = await setup(routes(api));
      try {
        expect((await request(`${t.url}/api/v1/items/7`, { headers: { 'x-deny': '1' } })).status).toBe(401);
        const [trace] = await t.exporter.waitFor(1);
        expect(root(trace).name).toBe('GET /api/v1/items/:id');
        expect(root(trace).attributes['http.response.status_code']).toBe(401);
      } finally {
        await t.close();
      }
    });

    it('uses the method alone, without http.route, when nothing matched (404)', async () => {
      const router = new Router();
      router.get('/users/:id', (ctx) => {
        ctx.body = 'u';
      });
      const t = await setup(routes(router));
      try {
        expect((await request(`${t.url}/no/such/path?x=1`)).status).toBe(404);
        const [trace] = await t.exporter.waitFor(1);
        const span = root(trace);
        expect(span.name).toBe('GET');
        expect(span.attributes['http.route']).toBeUndefined();
        expect(span.attributes['http.response.status_code']).toBe(404);
        expect(span.status.code).toBe('unset');
      } finally {
        await t.close();
      }
    });
  });

  describe('attributes', () => {
    it('records the HTTP attributes, a redacted query and only allowed headers', async () => {
      const router = new Router();
      router.get('/users/:id', (ctx) => {
        ctx.body = 'ok';
      });
      const t = await setup(routes(router), { captureHeaders: ['x-request-id', 'authorization'] });
      try {
        await request(`${t.url}/users/42?q=1&token=abc`, {
          headers: { 'user-agent': 'tracewire-test/1.0', 'x-request-id': 'req-1', authorization: 'Bearer s3cr3t' },
        });
        const [trace] = await t.exporter.waitFor(1);
        const span = root(trace);
        expect(span.attributes).toMatchObject({
          ...LOCAL_GET_OK,
          'url.path': '/users/42',
          'url.query': 'q=1&token=REDACTED',
          'http.route': '/users/:id',
          'server.port': t.port,
          'user_agent.original': 'tracewire-test/1.0',
          'http.request.header.x-request-id': ['req-1'],
        });
        expect(span.attributes['http.request.header.authorization']).toBeUndefined();
        const json = JSON.stringify(trace);
        expect(json).not.toContain('s3cr3t');
        expect(json).not.toContain('token=abc');
      } finally {
        await t.close();
      }
    });
  });

  describe('status mapping', () => {
    it.each([
      [200, 'unset'],
      [404, 'unset'],
      [500, 'error'],
    ])('maps a %i response to status %s', async (code, expected) => {
      const router = new Router();
      router.get('/status', (ctx) => {
        ctx.status = code;
        ctx.body = 'body';
      });
      const t = await setup(routes(router));
      try {
        expect((await request(`${t.url}/status`)).status).toBe(code);
        const [trace] = await t.exporter.waitFor(1);
        const span = root(trace);
        expect(span.attributes['http.response.status_code']).toBe(code);
        expect(span.status.code).toBe(expected);
        if (code === 500) expect(span.attributes['error.type']).toBe('500');
        else expect(span.attributes['error.type']).toBeUndefined();
      } finally {
        await t.close();
      }
    });
  });

  describe('handler errors', () => {
    it.each([
      ['a sync throw', (err: Error) => () => {
        throw err;
      }],
      ['an async rejection', (err: Error) => async () => {
        await sleep(5);
        throw err;
      }],
    ])('records %s on the server span and the app error event sees the same error', async (_case, handler) => {
      const thrown = new QuotaError('quota exceeded');
      const seen: unknown[] = [];
      const router = new Router();
      router.get('/fail', handler(thrown));
      const t = await setup((app) => {
        app.on('error', (err: unknown) => seen.push(err));
        app.use(router.routes());
      });
      try {
        expect((await request(`${t.url}/fail`)).status).toBe(500);
        const [trace] = await t.exporter.waitFor(1);
        const span = root(trace);
        expect(span.name).toBe('GET /fail');
        expect(span.status.code).toBe('error');
        expect(span.attributes['error.type']).toBe('QuotaError');
        expect(span.attributes['http.response.status_code']).toBe(500);
        const exceptions = span.events.filter((e) => e.name === 'exception');
        expect(exceptions).toHaveLength(1);
        expect(exceptions[0].attributes).toMatchObject({ 'exception.type': 'QuotaError', 'exception.message': 'quota exceeded' });
        expect(seen).toHaveLength(1);
        expect(seen[0]).toBe(thrown);
      } finally {
        await t.close();
      }
    });

    it('records a ctx.throw(4xx) as an exception event without an error status', async () => {
      const router = new Router();
      router.get('/teapot', (ctx) => {
        ctx.throw(418, 'short and stout');
      });
      const t = await setup((app) => {
        app.on('error', () => undefined);
        app.use(router.routes());
      });
      try {
        expect((await request(`${t.url}/teapot`)).status).toBe(418);
        const [trace] = await t.exporter.waitFor(1);
        const span = root(trace);
        expect(span.attributes['http.response.status_code']).toBe(418);
        expect(span.status.code).toBe('unset');
        expect(span.attributes['error.type']).toBeUndefined();
        expect(span.events.filter((e) => e.name === 'exception')).toHaveLength(1);
      } finally {
        await t.close();
      }
    });

    it('passes the very same error to an error-handling middleware registered before it', async () => {
      const thrown = new QuotaError('quota exceeded');
      let caught: unknown;
      const router = new Router();
      router.get('/fail', async () => {
        throw thrown;
      });
      const t = await setup(routes(router), {}, {}, (app) =>
        app.use(async (ctx: any, next: () => Promise<void>) => {
          try {
            await next();
          } catch (err) {
            caught = err;
            ctx.status = 503;
            ctx.body = 'handled';
          }
        }),
      );
      try {
        const res = await request(`${t.url}/fail`);
        expect(res.status).toBe(503);
        expect(res.body).toBe('handled');
        const [trace] = await t.exporter.waitFor(1);
        const span = root(trace);
        expect(caught).toBe(thrown);
        expect(span.status.code).toBe('error');
        expect(span.attributes['error.type']).toBe('QuotaError');
        expect(span.attributes['http.response.status_code']).toBe(503);
      } finally {
        await t.close();
      }
    });
  });

  describe('context in handlers', () => {
    it('makes the server span active and parents withSpan and traced() children on it', async () => {
      let activeId: string | undefined;
      const router = new Router();
      const t = await setup((app, tracer) => {
        router.get(
          '/work',
          traced('load user', async (_ctx, next) => {
            await sleep(2);
            await next();
          }),
          async (ctx) => {
            activeId = activeSpan()?.spanContext().spanId;
            await tracer.withSpan('query', async () => sleep(2));
            ctx.body = 'done';
          },
        );
        app.use(router.routes());
      });
      try {
        expect((await request(`${t.url}/work`)).body).toBe('done');
        const [trace] = await t.exporter.waitFor(1);
        const server = root(trace);
        const load = trace.spans.find((s) => s.name === 'load user')!;
        const query = trace.spans.find((s) => s.name === 'query')!;
        expect(trace.spans).toHaveLength(3);
        // the handler runs inside traced()'s next(), so the active span there is 'load user'
        expect(activeId).toBe(load.spanId);
        expect(load.parentSpanId).toBe(server.spanId);
        expect(query.parentSpanId).toBe(load.spanId);
        expect(load.kind).toBe('internal');
      } finally {
        await t.close();
      }
    });

    it('makes activeSpan() the server span inside a plain handler, with withSpan children', async () => {
      let activeId: string | undefined;
      const router = new Router();
      const t = await setup((app, tracer) => {
        router.get('/work', async (ctx) => {
          activeId = activeSpan()?.spanContext().spanId;
          await tracer.withSpan('query', async () => sleep(2));
          ctx.body = 'done';
        });
        app.use(router.routes());
      });
      try {
        await request(`${t.url}/work`);
        const [trace] = await t.exporter.waitFor(1);
        const server = root(trace);
        expect(activeId).toBe(server.spanId);
        expect(trace.spans.find((s) => s.name === 'query')!.parentSpanId).toBe(server.spanId);
      } finally {
        await t.close();
      }
    });

    it('records a traced() middleware failure on its child span and re-throws it', async () => {
      const thrown = new QuotaError('nope');
      const seen: unknown[] = [];
      const router = new Router();
      router.get(
        '/fail',
        traced('guard', async () => {
          throw thrown;
        }),
      );
      const t = await setup((app) => {
        app.on('error', (err: unknown) => seen.push(err));
        app.use(router.routes());
      });
      try {
        expect((await request(`${t.url}/fail`)).status).toBe(500);
        const [trace] = await t.exporter.waitFor(1);
        const guard = trace.spans.find((s) => s.name === 'guard')!;
        expect(guard.status.code).toBe('error');
        expect(guard.attributes['error.type']).toBe('QuotaError');
        expect(root(trace).attributes['error.type']).toBe('QuotaError');
        expect(seen[0]).toBe(thrown);
      } finally {
        await t.close();
      }
    });
  });

  describe('streamed responses', () => {
    it('ends the server span after the last chunk of a streamed body', async () => {
      let lastChunkAt = 0;
      const router = new Router();
      router.get('/stream', (ctx) => {
        ctx.type = 'text/event-stream';
        ctx.body = slowStream(['data: 1\n\n', 'data: 2\n\n', 'data: 3\n\n', 'data: 4\n\n'], 50, () => {
          lastChunkAt = nowMs();
        });
      });
      const t = await setup(routes(router));
      try {
        const res = await request(`${t.url}/stream`);
        expect(res.body).toBe('data: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n');
        const [trace] = await t.exporter.waitFor(1);
        const span = root(trace);
        expect(span.endTime - span.startTime).toBeGreaterThanOrEqual(140);
        expect(span.endTime).toBeGreaterThanOrEqual(lastChunkAt);
        expect(span.attributes['tracewire.stream.aborted']).toBeUndefined();
        expect(span.status.code).toBe('unset');
      } finally {
        await t.close();
      }
    });

    it('marks a client abort in the middle of a stream and exports the trace once', async () => {
      const router = new Router();
      router.get('/stream', (ctx) => {
        ctx.type = 'text/event-stream';
        ctx.body = slowStream(Array.from({ length: 40 }, (_, i) => `data: ${i}\n\n`), 50);
      });
      // Koa reports the broken pipe as an app error ("Premature close"): the app's own business,
      // listened to here so it is not printed, and checked to be only that.
      const appErrors: Error[] = [];
      const t = await setup(routes(router), {}, {}, (app) => app.on('error', (err: Error) => appErrors.push(err)));
      try {
        await requestAndAbort(`${t.url}/stream`, 1);
        const [trace] = await t.exporter.waitFor(1);
        const span = root(trace);
        expect(span.name).toBe('GET /stream');
        expect(span.attributes['tracewire.stream.aborted']).toBe(true);
        expect(span.attributes['error.type']).toBe('client_aborted');
        expect(span.status.code).toBe('error');
        await sleep(150);
        expect(t.exporter.traces()).toHaveLength(1);
        for (const err of appErrors) expect(err.message).toBe('Premature close');
      } finally {
        await t.close();
      }
    });
  });

  describe('client aborts', () => {
    it('names and ends the span once when the client leaves before the handler answers', async () => {
      let handlerDone!: () => void;
      const done = new Promise<void>((r) => (handlerDone = r));
      const router = new Router();
      router.get('/slow/:id', async (ctx) => {
        await sleep(100);
        ctx.body = 'late';
        handlerDone();
      });
      const t = await setup(routes(router));
      try {
        await new Promise<void>((resolve) => {
          const req = http.request(`${t.url}/slow/1`, { agent: false });
          req.on('error', () => resolve());
          req.end();
          setTimeout(() => {
            req.destroy();
            resolve();
          }, 20);
        });
        const [trace] = await t.exporter.waitFor(1);
        const span = root(trace);
        expect(span.name).toBe('GET /slow/:id');
        expect(span.attributes['error.type']).toBe('client_aborted');
        expect(span.status.code).toBe('error');
        // No response had begun: not a stream (issue 12).
        expect(span.attributes).not.toHaveProperty(['tracewire.stream.aborted']);
        expect(span.attributes['http.response.status_code']).toBeUndefined();
        await done;
        await sleep(50);
        expect(t.exporter.traces()).toHaveLength(1);
      } finally {
        await t.close();
      }
    });
  });

  describe('concurrency', () => {
    it('keeps 200 concurrent requests with distinct traceparents in their own traces', async () => {
      const router = new Router();
      const t = await setup((app, tracer) => {
        router.get('/c/:n', async (ctx) => {
          await sleep(Math.random() * 20);
          await tracer.withSpan('child', async () => sleep(Math.random() * 5));
          ctx.body = activeSpan()!.spanContext().traceId;
        });
        app.use(router.routes());
      });
      try {
        const sent = Array.from({ length: 200 }, (_, i) => ({
          traceId: `4bf92f3577b34da6${i.toString(16).padStart(16, '0')}`,
          parent: `00f067aa${i.toString(16).padStart(8, '0')}`,
        }));
        const responses = await requestConcurrently(sent, (i) => `${t.url}/c/${i}`);
        responses.forEach((res, i) => expect(res.body).toBe(sent[i].traceId));
        expectOwnTraces(await t.exporter.waitFor(200), sent, 'child');
      } finally {
        await t.close();
      }
    });
  });

  describe('ignore', () => {
    it('exports nothing for ignored paths but still propagates the incoming context', async () => {
      const seen: Array<{ path: string; traceId?: string; injected?: string }> = [];
      const handler = (ctx: any) => {
        const headers: Record<string, string> = {};
        injectContext(headers);
        seen.push({ path: ctx.path, traceId: activeSpan()?.spanContext().traceId, injected: headers.traceparent });
        ctx.body = 'ok';
      };
      const router = new Router();
      router.get('/health', handler);
      router.get('/internal/metrics', handler);
      router.get('/traced', handler);
      const t = await setup(routes(router), { ignore: ['/health', '/internal/*'] });
      try {
        const traceparent = `00-${TRACE_ID}-${PARENT}-01`;
        expect((await request(`${t.url}/health`, { headers: { traceparent } })).body).toBe('ok');
        expect((await request(`${t.url}/internal/metrics`, { headers: { traceparent } })).body).toBe('ok');
        expect((await request(`${t.url}/health`)).body).toBe('ok');
        await request(`${t.url}/traced`);
        const traces = await t.exporter.waitFor(1);
        await sleep(50);
        expect(t.exporter.traces()).toHaveLength(1);
        expect(root(traces[0]).name).toBe('GET /traced');
        for (const s of seen.slice(0, 2)) {
          expect(s.traceId).toBe(TRACE_ID);
          expect(s.injected).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
        }
        expect(seen[2]).toEqual({ path: '/health', traceId: undefined, injected: undefined });
      } finally {
        await t.close();
      }
    });
  });

  describe('hooks', () => {
    it('serves the request when a hook throws', async () => {
      const router = new Router();
      router.get('/hello', (ctx) => {
        ctx.body = 'still fine';
      });
      const t = await setup(routes(router), {
        onRequest: () => {
          throw new Error('bad hook');
        },
      });
      try {
        const res = await request(`${t.url}/hello`);
        expect(res.status).toBe(200);
        expect(res.body).toBe('still fine');
        const [trace] = await t.exporter.waitFor(1);
        expect(root(trace).name).toBe('GET /hello');
      } finally {
        await t.close();
      }
    });
  });

  describe('unsampled requests', () => {
    it('propagates the context without exporting anything', async () => {
      let injected: string | undefined;
      const router = new Router();
      router.get('/hello', (ctx) => {
        const headers: Record<string, string> = {};
        injectContext(headers);
        injected = headers.traceparent;
        ctx.body = 'hi';
      });
      const t = await setup(routes(router), {}, { sampler: 0 });
      try {
        expect((await request(`${t.url}/hello`, { headers: { traceparent: `00-${TRACE_ID}-${PARENT}-00` } })).body).toBe('hi');
        expect(injected).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-00$`));
        await sleep(50);
        expect(t.exporter.traces()).toHaveLength(0);
      } finally {
        await t.close();
      }
    });
  });
});

describe('traced', () => {
  it('rejects a missing name or middleware at setup', () => {
    expect(() => traced('', async () => undefined)).toThrow(TypeError);
    expect(() => traced('x', undefined as any)).toThrow(TypeError);
  });
});

describe('tracingMiddleware options', () => {
  it('throws a TypeError naming a bad option at setup', () => {
    expect(() => tracingMiddleware({ onRequest: 'nope' as any })).toThrow(/onRequest/);
  });
});
