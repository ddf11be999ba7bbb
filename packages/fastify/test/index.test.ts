import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { activeSpan, injectContext } from '@tracewire/core';
import type { FinishedTrace, Tracer, TracerOptions } from '@tracewire/core';
import { tracingPlugin } from '../src';
import type { FastifyTracingOptions } from '../src';
import { captureStderr, memoryTracer } from '../../core/test/helpers';
import { eventually, request, requestAndAbort } from '../../../test-utils/http';
import { expectContinuesTraceparent, expectOwnTraces, expectRestartsWithLink, LOCAL_GET_OK, PARENT, requestConcurrently, rootSpan as root, TRACE_ID } from '../../../test-utils/assertions';

const versions: Array<[string, any]> = [
  ['fastify 4', require('fastify4')],
  ['fastify 5', require('fastify')],
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class PaymentError extends Error {}

describe.each(versions)('tracingPlugin (%s)', (_label, Fastify) => {
  captureStderr();

  async function setup(build: (app: any, tracer: Tracer) => unknown, options: FastifyTracingOptions = {}, tracerOptions: TracerOptions = {}) {
    const { tracer, exporter } = memoryTracer(tracerOptions);
    const app = Fastify();
    await app.register(tracingPlugin, { tracer, ...options });
    await build(app, tracer);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as AddressInfo).port;
    return {
      tracer,
      exporter,
      port,
      url: `http://127.0.0.1:${port}`,
      async close() {
        await app.close();
        await tracer.shutdown();
      },
    };
  }
  type Setup = Awaited<ReturnType<typeof setup>>;

  /** Sends an untraced-route request and waits for its trace, so a trace that should not exist would have arrived. */
  async function onlyTraces(t: Setup, expected: number): Promise<FinishedTrace[]> {
    await request(`${t.url}/marker`);
    await t.exporter.waitFor(expected + 1);
    await t.tracer.forceFlush();
    const all = t.exporter.traces();
    expect(root(all[all.length - 1]).name).toBe('GET /marker');
    return all.slice(0, -1);
  }
  const marker = (app: any) => app.get('/marker', async () => 'ok');

  describe('propagation', () => {
    it('continues an incoming traceparent with its flags and tracestate', async () => {
      const t = await setup((app) => app.get('/hello', async () => ({ ok: true })));
      try {
        await expectContinuesTraceparent(t);
      } finally {
        await t.close();
      }
    });

    it('restarts with a new trace id and a link when trustIncoming is false', async () => {
      const t = await setup((app) => app.get('/hello', async () => 'hi'), {}, { trustIncoming: false });
      try {
        await expectRestartsWithLink(t);
      } finally {
        await t.close();
      }
    });
  });

  describe('span name', () => {
    it('uses the route template with params', async () => {
      const t = await setup((app) => app.get('/users/:id', async () => ({ ok: true })));
      try {
        await request(`${t.url}/users/42`);
        const span = root((await t.exporter.waitFor(1))[0]);
        expect(span.name).toBe('GET /users/:id');
        expect(span.attributes['http.route']).toBe('/users/:id');
        expect(span.attributes['url.path']).toBe('/users/42');
      } finally {
        await t.close();
      }
    });

    it('includes register prefixes nested twice', async () => {
      const t = await setup((app) =>
        app.register(
          async (api: any) => {
            await api.register(
              async (v1: any) => {
                v1.get('/items/:id', async () => ({ ok: true }));
              },
              { prefix: '/v1' },
            );
          },
          { prefix: '/api' },
        ),
      );
      try {
        const res = await request(`${t.url}/api/v1/items/7`);
        expect(res.status).toBe(200);
        const span = root((await t.exporter.waitFor(1))[0]);
        expect(span.name).toBe('GET /api/v1/items/:id');
        expect(span.attributes['http.route']).toBe('/api/v1/items/:id');
      } finally {
        await t.close();
      }
    });

    it('is the method alone when no route matched (404), never the raw URL', async () => {
      const t = await setup((app) => app.get('/users/:id', async () => ({ ok: true })));
      try {
        const res = await request(`${t.url}/nothing/here?x=1`);
        expect(res.status).toBe(404);
        const span = root((await t.exporter.waitFor(1))[0]);
        expect(span.name).toBe('GET');
        expect(span.attributes).not.toHaveProperty(['http.route']);
        expect(span.attributes['http.response.status_code']).toBe(404);
        expect(span.status.code).toBe('unset');
      } finally {
        await t.close();
      }
    });

    it('takes config.tracing.spanName from the route', async () => {
      const t = await setup((app) => app.get('/items/:id', { config: { tracing: { spanName: 'load item' } } }, async () => ({ ok: true })));
      try {
        await request(`${t.url}/items/3`);
        const span = root((await t.exporter.waitFor(1))[0]);
        expect(span.name).toBe('load item');
        expect(span.attributes['http.route']).toBe('/items/:id');
      } finally {
        await t.close();
      }
    });
  });

  describe('attributes', () => {
    it('records the request and response attributes with the query redacted', async () => {
      const t = await setup((app) => app.get('/search', async () => ({ ok: true })), { captureHeaders: ['x-request-id', 'authorization'] });
      try {
        await request(`${t.url}/search?q=1&token=abc`, {
          headers: { 'user-agent': 'tracewire-test/1.0', 'x-request-id': 'req-123', authorization: 'Bearer secret' },
        });
        const span = root((await t.exporter.waitFor(1))[0]);
        expect(span.attributes).toMatchObject({
          ...LOCAL_GET_OK,
          'url.path': '/search',
          'url.query': 'q=1&token=REDACTED',
          'http.route': '/search',
          'server.port': t.port,
          'user_agent.original': 'tracewire-test/1.0',
          'http.request.header.x-request-id': ['req-123'],
        });
        expect(Object.keys(span.attributes).filter((k) => k.includes('authorization'))).toEqual([]);
        expect(JSON.stringify(span)).not.toContain('secret');
        expect(JSON.stringify(span)).not.toContain('token=abc');
      } finally {
        await t.close();
      }
    });
  });

  describe('status', () => {
    it.each([
      [200, 'unset'],
      [404, 'unset'],
      [500, 'error'],
    ])('maps a %i response to status %s', async (code, expected) => {
      const t = await setup((app) => app.get('/status', async (_req: any, reply: any) => reply.code(code).send({ code })));
      try {
        const res = await request(`${t.url}/status`);
        expect(res.status).toBe(code);
        const span = root((await t.exporter.waitFor(1))[0]);
        expect(span.attributes['http.response.status_code']).toBe(code);
        expect(span.status.code).toBe(expected);
        if (code === 500) expect(span.attributes['error.type']).toBe('500');
        else expect(span.attributes).not.toHaveProperty(['error.type']);
      } finally {
        await t.close();
      }
    });
  });

  describe('handler errors', () => {
    const failures: Array<[string, (err: Error) => (req: any, reply: any) => unknown]> = [
      ['a sync throw', (err) => () => {
        throw err;
      }],
      ['an async rejection', (err) => async () => {
        await sleep(5);
        throw err;
      }],
      ['reply.send(err)', (err) => (_req: any, reply: any) => {
        reply.send(err);
      }],
    ];

    it.each(failures)('records %s on the root span and the error handler sees the same error', async (_name, handler) => {
      const thrown = new PaymentError('card declined');
      const seen: unknown[] = [];
      const t = await setup((app) => {
        app.setErrorHandler((err: unknown, _req: any, reply: any) => {
          seen.push(err);
          reply.code(500).send({ failed: true });
        });
        app.get('/pay', handler(thrown));
      });
      try {
        const res = await request(`${t.url}/pay`);
        expect(res.status).toBe(500);
        expect(res.body).toBe('{"failed":true}');
        const span = root((await t.exporter.waitFor(1))[0]);
        expect(seen).toHaveLength(1);
        expect(seen[0]).toBe(thrown);
        expect(span.status.code).toBe('error');
        expect(span.attributes['error.type']).toBe('PaymentError');
        expect(span.attributes['http.response.status_code']).toBe(500);
        const exceptions = span.events.filter((e) => e.name === 'exception');
        expect(exceptions).toHaveLength(1);
        expect(exceptions[0].attributes).toMatchObject({ 'exception.type': 'PaymentError', 'exception.message': 'card declined' });
      } finally {
        await t.close();
      }
    });

    /** GET /boom throws TypeError('bad'), left to Fastify's default error handler. */
    const boom = (app: any) =>
      app.get('/boom', async () => {
        throw new TypeError('bad');
      });

    it('records a thrown error handled by the default error handler', async () => {
      const t = await setup(boom);
      try {
        expect((await request(`${t.url}/boom`)).status).toBe(500);
        const span = root((await t.exporter.waitFor(1))[0]);
        expect(span.status.code).toBe('error');
        expect(span.attributes['error.type']).toBe('TypeError');
        expect(span.events.map((e) => e.name)).toEqual(['exception']);
      } finally {
        await t.close();
      }
    });

    it('keeps the error message as the status message', async () => {
      const t = await setup(boom);
      try {
        await request(`${t.url}/boom`);
        const span = root((await t.exporter.waitFor(1))[0]);
        expect(span.status).toEqual({ code: 'error', message: 'bad' });
      } finally {
        await t.close();
      }
    });
  });

  describe('context', () => {
    it('makes the server span active in an async handler across awaits', async () => {
      const t = await setup((app) =>
        app.get('/ctx', async () => {
          await sleep(5);
          await new Promise((r) => setImmediate(r));
          const ctx = activeSpan()?.spanContext();
          return { traceId: ctx?.traceId, spanId: ctx?.spanId };
        }),
      );
      try {
        const res = await request(`${t.url}/ctx`, { headers: { traceparent: `00-${TRACE_ID}-${PARENT}-01` } });
        const span = root((await t.exporter.waitFor(1))[0]);
        expect(JSON.parse(res.body)).toEqual({ traceId: TRACE_ID, spanId: span.spanId });
      } finally {
        await t.close();
      }
    });

    it('keeps the server span active when the request body arrives later', async () => {
      const t = await setup((app, tracer) =>
        app.post('/body', async (req: any) => ({ got: req.body.a, spanId: tracer.activeSpan()?.spanContext().spanId })),
      );
      try {
        const body = await new Promise<string>((resolve, reject) => {
          const req = http.request(`${t.url}/body`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
            let b = '';
            res.on('data', (c) => (b += c));
            res.on('end', () => resolve(b));
          });
          req.on('error', reject);
          req.write('{"a":');
          setTimeout(() => req.end('1}'), 30);
        });
        const span = root((await t.exporter.waitFor(1))[0]);
        expect(JSON.parse(body)).toEqual({ got: 1, spanId: span.spanId });
      } finally {
        await t.close();
      }
    });

    it('makes withSpan in a handler a child of the server span', async () => {
      const t = await setup((app, tracer) =>
        app.get('/child', async () => {
          await tracer.withSpan('load', async () => sleep(5));
          return 'ok';
        }),
      );
      try {
        await request(`${t.url}/child`);
        const [trace] = await t.exporter.waitFor(1);
        const server = root(trace);
        const child = trace.spans.find((s) => s.name === 'load')!;
        expect(trace.spans).toHaveLength(2);
        expect(child.parentSpanId).toBe(server.spanId);
        expect(child.traceId).toBe(server.traceId);
        expect(child.kind).toBe('internal');
      } finally {
        await t.close();
      }
    });
  });

  describe('ignore', () => {
    it('records nothing for an ignored path but still propagates an incoming context', async () => {
      const t = await setup(
        (app) => {
          marker(app);
          app.get('/health', async () => {
            const headers: Record<string, string> = {};
            injectContext(headers);
            return headers;
          });
        },
        { ignore: ['/health'] },
      );
      try {
        const res = await request(`${t.url}/health`, { headers: { traceparent: `00-${TRACE_ID}-${PARENT}-01` } });
        expect(JSON.parse(res.body)).toEqual({ traceparent: `00-${TRACE_ID}-${PARENT}-01` });
        expect((await request(`${t.url}/health`)).status).toBe(200);
        expect(await onlyTraces(t, 0)).toEqual([]);
      } finally {
        await t.close();
      }
    });

    it('records nothing for a route with config.tracing.ignore but still propagates', async () => {
      const t = await setup((app, tracer) => {
        marker(app);
        app.get('/ready', { config: { tracing: { ignore: true } } }, async () => ({ traceId: tracer.activeSpan()?.spanContext().traceId ?? null }));
      });
      try {
        const res = await request(`${t.url}/ready`, { headers: { traceparent: `00-${TRACE_ID}-${PARENT}-01` } });
        expect(JSON.parse(res.body)).toEqual({ traceId: TRACE_ID });
        expect(JSON.parse((await request(`${t.url}/ready`)).body)).toEqual({ traceId: null });
        expect(await onlyTraces(t, 0)).toEqual([]);
      } finally {
        await t.close();
      }
    });
  });

  describe('streamed responses', () => {
    it('ends the span after the last chunk of a streamed body', async () => {
      let lastChunkAt = 0;
      const t = await setup((app) =>
        app.get('/stream', (_req: any, reply: any) => {
          reply.type('text/plain').send(
            Readable.from(
              (async function* () {
                for (let i = 0; i < 5; i++) {
                  await sleep(40);
                  lastChunkAt = Date.now();
                  yield `chunk ${i}\n`;
                }
              })(),
            ),
          );
        }),
      );
      try {
        const res = await request(`${t.url}/stream`);
        expect(res.body).toBe('chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n');
        const span = root((await t.exporter.waitFor(1))[0]);
        expect(span.endTime - span.startTime).toBeGreaterThanOrEqual(140);
        expect(span.endTime).toBeGreaterThanOrEqual(lastChunkAt);
        expect(span.attributes).not.toHaveProperty(['tracewire.stream.aborted']);
        expect(span.status.code).toBe('unset');
      } finally {
        await t.close();
      }
    });

    it('marks a client abort in the middle of a stream and exports the trace once', async () => {
      let streamClosed = false;
      const t = await setup((app) =>
        app.get('/stream', (_req: any, reply: any) => {
          let i = 0;
          const body = new Readable({
            read() {
              setTimeout(() => this.push(`event ${i++}\n`), 20);
            },
          });
          body.on('close', () => (streamClosed = true));
          reply.type('text/plain').send(body);
        }),
      );
      try {
        await requestAndAbort(`${t.url}/stream`, 1);
        const traces = await t.exporter.waitFor(1);
        await sleep(50);
        await t.tracer.forceFlush();
        expect(t.exporter.traces()).toHaveLength(1);
        const span = root(traces[0]);
        expect(span.attributes['tracewire.stream.aborted']).toBe(true);
        expect(span.attributes['error.type']).toBe('client_aborted');
        expect(span.status.code).toBe('error');
        expect(span.ended).toBe(true);
        await eventually(() => streamClosed);
      } finally {
        await t.close();
      }
    });
  });

  describe('concurrency', () => {
    it('keeps 200 concurrent requests in their own traces', async () => {
      const t = await setup((app, tracer) =>
        app.get('/work/:n', async () => {
          await sleep(Math.random() * 20);
          await tracer.withSpan('step', async () => sleep(Math.random() * 10));
          return { traceId: tracer.activeSpan()?.spanContext().traceId };
        }),
      );
      try {
        const sent = Array.from({ length: 200 }, () => ({ traceId: randomBytes(16).toString('hex'), parent: randomBytes(8).toString('hex') }));
        const bodies = await requestConcurrently(sent, (n) => `${t.url}/work/${n}`);
        bodies.forEach((res, n) => expect(JSON.parse(res.body)).toEqual({ traceId: sent[n].traceId }));
        const byTrace = expectOwnTraces(await t.exporter.waitFor(200, 15000), sent, 'step');
        for (const s of sent) expect(root(byTrace.get(s.traceId)!).name).toBe('GET /work/:n');
      } finally {
        await t.close();
      }
    }, 20000);
  });

  describe('failures inside Tracewire', () => {
    it('lets the request succeed when the onRequest option hook throws', async () => {
      const t = await setup((app) => app.get('/hello', async () => 'hi'), {
        onRequest: () => {
          throw new Error('hook bug');
        },
      });
      try {
        const res = await request(`${t.url}/hello`);
        expect(res.status).toBe(200);
        expect(res.body).toBe('hi');
        const span = root((await t.exporter.waitFor(1))[0]);
        expect(span.name).toBe('GET /hello');
      } finally {
        await t.close();
      }
    });

    it('proceeds untraced when the tracer itself throws', async () => {
      const broken = {
        startIncomingSpan() {
          throw new Error('tracer bug');
        },
      } as unknown as Tracer;
      const app = Fastify();
      await app.register(tracingPlugin, { tracer: broken });
      app.get('/hello', async () => 'hi');
      await app.listen({ port: 0, host: '127.0.0.1' });
      try {
        const res = await request(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/hello`);
        expect(res.status).toBe(200);
        expect(res.body).toBe('hi');
      } finally {
        await app.close();
      }
    });

    it('rejects bad options at registration with a TypeError naming the option', async () => {
      const app = Fastify();
      let caught: unknown;
      try {
        await app.register(tracingPlugin, { captureHeaders: 'x-request-id' as unknown as string[] });
      } catch (err) {
        caught = err;
      } finally {
        await app.close().catch(() => undefined);
      }
      expect(caught).toBeInstanceOf(TypeError);
      expect(String(caught)).toMatch(/"captureHeaders"/);
    });
  });
});
