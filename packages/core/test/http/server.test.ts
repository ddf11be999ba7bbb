import http from 'node:http';
import { createServerInstrumentation } from '../../src';
import type { ServerTracingOptions, SpanData, Tracer } from '../../src';
import { captureStderr, memoryTracer } from '../helpers';
import { listen, request, requestAndAbort } from '../../../../test-utils/http';

jest.setTimeout(30000);
captureStderr();

/** node:http traced by core's ServerInstrumentation, the route template being `route(req)` when the response is over. */
async function serve(tracer: Tracer, handler: (req: http.IncomingMessage, res: http.ServerResponse, fail: (err: unknown) => void) => void, options: ServerTracingOptions = {}, route: (req: http.IncomingMessage) => string | undefined = () => undefined) {
  const inst = createServerInstrumentation({ tracer, ...options }, { name: 'test', route });
  const server = http.createServer((req, res) => {
    const handle = inst.start(req, res, req);
    inst.run(handle, () => handler(req, res, (err) => inst.error(handle, err)));
  });
  return listen(server);
}

async function oneSpan(exporter: { waitFor(n: number): Promise<Array<{ spans: SpanData[] }>> }): Promise<SpanData> {
  const [trace] = await exporter.waitFor(1);
  return trace.spans[0];
}

/** An SSE response that writes one event now and more every 10 ms, until the client leaves. */
function endlessStream(_req: http.IncomingMessage, res: http.ServerResponse): void {
  res.setHeader('content-type', 'text/event-stream');
  res.write('data: {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n');
  const timer = setInterval(() => res.write('data: {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"more"}}]}\n\n'), 10);
  res.on('close', () => clearInterval(timer));
}

describe('ServerInstrumentation (node:http on top of the server span)', () => {
  describe('client aborts', () => {
    // Before issue #12 the tap wrote the abort a second time, without the message.
    for (const stream of [true, false]) {
      it(`keeps the abort's status message with the tap ${stream ? 'on' : 'off'}`, async () => {
        const { tracer, exporter } = memoryTracer();
        const server = await serve(tracer, endlessStream, { stream });
        try {
          await requestAndAbort(server.url, 1);
          const span = await oneSpan(exporter);
          expect(span.status).toEqual({ code: 'error', message: 'client closed the connection before the response ended' });
          expect(span.attributes['error.type']).toBe('client_aborted');
          expect(span.attributes['tracewire.stream.aborted']).toBe(true);
          expect(span.attributes['tracewire.stream.format']).toBe(stream ? 'sse' : undefined);
        } finally {
          await server.close();
          await tracer.shutdown();
        }
      });
    }

    for (const stream of [true, false]) {
      it(`an abort before any answer is client_aborted and not a stream's abort (tap ${stream ? 'on' : 'off'})`, async () => {
        const { tracer, exporter } = memoryTracer();
        const server = await serve(tracer, (_req, res) => {
          const timer = setTimeout(() => res.end('late'), 2000);
          res.on('close', () => clearTimeout(timer));
        }, { stream });
        try {
          await new Promise<void>((resolve) => {
            const req = http.request(server.url, { agent: false });
            req.on('error', () => resolve());
            req.end();
            setTimeout(() => {
              req.destroy();
              resolve();
            }, 30);
          });
          const span = await oneSpan(exporter);
          expect(span.attributes['error.type']).toBe('client_aborted');
          expect(span.status.code).toBe('error');
          expect(span.attributes).not.toHaveProperty(['tracewire.stream.aborted']);
          expect(span.attributes).not.toHaveProperty(['http.response.status_code']);
        } finally {
          await server.close();
          await tracer.shutdown();
        }
      });
    }

    it('an error the provider reported in the stream is the status, with its message', async () => {
      const { tracer, exporter } = memoryTracer();
      const server = await serve(tracer, (_req, res) => {
        res.setHeader('content-type', 'text/event-stream');
        res.write('data: {"object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n');
        res.end('data: {"error":{"type":"server_error","message":"The model had an error"}}\n\n');
      });
      try {
        await request(server.url);
        const span = await oneSpan(exporter);
        expect(span.status).toEqual({ code: 'error', message: 'The model had an error' });
        expect(span.attributes['error.type']).toBe('server_error');
        expect(span.attributes['http.response.status_code']).toBe(200);
      } finally {
        await server.close();
        await tracer.shutdown();
      }
    });
  });

  it('ends the span at the response\'s close, after the last byte of a streamed body', async () => {
    const { tracer, exporter } = memoryTracer();
    let lastWrite = 0;
    const server = await serve(tracer, (_req, res) => {
      res.setHeader('content-type', 'application/x-ndjson');
      let i = 0;
      const tick = () => {
        res.write(`{"n":${i}}\n`);
        lastWrite = performance.timeOrigin + performance.now();
        if (++i < 4) setTimeout(tick, 20);
        else res.end();
      };
      tick();
    });
    try {
      await request(server.url);
      const span = await oneSpan(exporter);
      expect(span.endTime).toBeGreaterThanOrEqual(lastWrite);
      expect(span.attributes['tracewire.stream.chunks']).toBe(4);
      expect(span.attributes).not.toHaveProperty(['tracewire.stream.aborted']);
    } finally {
      await server.close();
      await tracer.shutdown();
    }
  });

  it('names the span from the route template read when the response is over', async () => {
    const { tracer, exporter } = memoryTracer();
    const routes = new WeakMap<http.IncomingMessage, string>();
    const server = await serve(tracer, (req, res) => {
      // The "router" matches after the span started.
      setTimeout(() => {
        routes.set(req, '/users/:id');
        res.end('ok');
      }, 5);
    }, {}, (req) => routes.get(req));
    try {
      await request(`${server.url}/users/7?token=secret&q=1`);
      const span = await oneSpan(exporter);
      expect(span.name).toBe('GET /users/:id');
      expect(span.attributes).toMatchObject({
        'http.request.method': 'GET',
        'http.route': '/users/:id',
        'url.path': '/users/7',
        'url.query': 'token=REDACTED&q=1',
        'url.scheme': 'http',
        'http.response.status_code': 200,
        'server.address': '127.0.0.1',
        'network.protocol.version': '1.1',
      });
    } finally {
      await server.close();
      await tracer.shutdown();
    }
  });

  describe('status', () => {
    const cases: Array<[string, number, boolean, SpanData['status'], string | undefined]> = [
      ['a handler error that became a 500', 500, true, { code: 'error', message: 'db down' }, 'RangeError'],
      ['a handler error turned into a 404', 404, true, { code: 'unset' }, undefined],
      ['a bare 503', 503, false, { code: 'error' }, '503'],
      ['a 200', 200, false, { code: 'unset' }, undefined],
    ];
    for (const [what, status, fails, expected, errorType] of cases) {
      it(`${what}: status ${expected.code}, error.type ${errorType}`, async () => {
        const { tracer, exporter } = memoryTracer();
        const server = await serve(tracer, (_req, res, fail) => {
          if (fails) fail(new RangeError('db down'));
          res.statusCode = status;
          res.end();
        });
        try {
          await request(server.url);
          const span = await oneSpan(exporter);
          expect(span.status).toEqual(expected);
          expect(span.attributes['error.type']).toBe(errorType);
          expect(span.events.map((e) => e.name)).toEqual(fails ? ['exception'] : []);
        } finally {
          await server.close();
          await tracer.shutdown();
        }
      });
    }
  });

  it('ignore: no span for the paths it lists; spanName and captureHeaders (never sensitive ones)', async () => {
    const { tracer, exporter } = memoryTracer();
    const server = await serve(tracer, (_req, res) => {
      res.setHeader('x-request-id', 'r-1');
      res.setHeader('set-cookie', 'sid=1');
      res.end('ok');
    }, {
      ignore: ['/health'],
      spanName: ({ method, route }) => `${method} ${route ?? 'unmatched'}`,
      captureHeaders: ['x-request-id', 'authorization', 'set-cookie', 'x-tenant'],
    });
    try {
      await request(`${server.url}/health`);
      await request(`${server.url}/x`, { headers: { 'x-tenant': 'acme', authorization: 'Bearer secret' } });
      const span = await oneSpan(exporter);
      await tracer.forceFlush();
      expect(exporter.traces()).toHaveLength(1);
      expect(span.name).toBe('GET unmatched');
      expect(span.attributes['http.request.header.x-tenant']).toEqual(['acme']);
      expect(span.attributes['http.response.header.x-request-id']).toEqual(['r-1']);
      expect(JSON.stringify(span)).not.toMatch(/secret|sid=1/);
    } finally {
      await server.close();
      await tracer.shutdown();
    }
  });

  it('start({ ignore, spanName }): an adapter\'s own per-request settings', async () => {
    const { tracer, exporter } = memoryTracer();
    const inst = createServerInstrumentation({ tracer }, 'test');
    const server = await listen(http.createServer((req, res) => {
      const handle = inst.start(req, res, req, req.url === '/skip' ? { ignore: true } : { spanName: 'fixed name' });
      inst.run(handle, () => res.end('ok'));
    }));
    try {
      await request(`${server.url}/skip`);
      await request(`${server.url}/named`);
      const span = await oneSpan(exporter);
      await tracer.forceFlush();
      expect(exporter.traces()).toHaveLength(1);
      expect(span.name).toBe('fixed name');
      expect(span.attributes['url.path']).toBe('/named');
    } finally {
      await server.close();
      await tracer.shutdown();
    }
  });

  it('rejects bad options with a TypeError naming them', () => {
    expect(() => createServerInstrumentation({ onRequest: 1 as never })).toThrow(/option "onRequest"/);
    expect(() => createServerInstrumentation({ captureHeaders: 'x' as never })).toThrow(/option "captureHeaders"/);
    expect(() => createServerInstrumentation({ stream: { formats: ['xml' as never] } })).toThrow(/option "stream.formats"/);
    expect(() => createServerInstrumentation({ tracer: {} as Tracer })).toThrow(/option "tracer"/);
  });
});
