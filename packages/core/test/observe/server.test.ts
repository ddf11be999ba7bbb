import http from 'node:http';
import { createServerInstrumentation, createTracer, InMemoryExporter } from '../../src';
import type { LLMCallOutcome, ServerRequestOutcome, ServerTracingOptions, Tracer, TracerObserver } from '../../src';
import { costOf, findModelPrice } from '../../src/llm/pricing';
import { captureStderr } from '../helpers';
import { listen, request, requestAndAbort } from '../../../../test-utils/http';
import { loadFixtures } from '../../../../test-utils/fixtures';

jest.setTimeout(30000);
const stderr = captureStderr();

const fixtures = loadFixtures();
const openai = fixtures.find((f) => f.name === 'openai-chat-text-usage')!;

/** A tracer (sampling `ratio`) with an observer collecting every outcome. */
function observed(ratio: number) {
  const server: ServerRequestOutcome[] = [];
  const llm: LLMCallOutcome[] = [];
  const exporter = new InMemoryExporter();
  const tracer = createTracer({ serviceName: 'observed', sampler: ratio, exporters: [exporter], batch: { scheduledDelayMillis: 1 } });
  const remove = tracer.addObserver!({ serverRequest: (o) => server.push(o), llmCall: (o) => llm.push(o) });
  return { tracer, exporter, server, llm, remove };
}

/** node:http traced by ServerInstrumentation; the route is what the "router" matched (`route(req)`). */
async function serve(tracer: Tracer, handler: (req: http.IncomingMessage, res: http.ServerResponse, fail: (err: unknown) => void) => void, route: (req: http.IncomingMessage) => string | undefined, options: ServerTracingOptions = {}) {
  const inst = createServerInstrumentation({ tracer, ...options }, { name: 'test', route });
  const server = http.createServer((req, res) => {
    const state = inst.start(req, res, req);
    inst.run(state, () => handler(req, res, (err) => inst.error(state, err)));
  });
  return listen(server);
}

const routeOf = (req: http.IncomingMessage) => (req.url?.startsWith('/users/') ? '/users/:id' : req.url === '/chat' ? '/chat' : req.url === '/boom' ? '/boom' : undefined);

function app(req: http.IncomingMessage, res: http.ServerResponse, fail: (err: unknown) => void): void {
  if (req.url?.startsWith('/users/')) {
    res.setHeader('content-type', 'application/json');
    res.end('{"id":1}');
  } else if (req.url === '/boom') {
    const err = new RangeError('boom');
    fail(err);
    res.statusCode = 500;
    res.end('failed');
  } else if (req.url === '/chat') {
    res.setHeader('content-type', 'text/event-stream');
    // The recorded OpenAI stream, written as a server would send it (a few events per write).
    const text = openai.bytes.toString('utf8');
    const events = text.split('\n\n').filter((e) => e !== '');
    for (let i = 0; i < events.length; i += 3) res.write(events.slice(i, i + 3).join('\n\n') + '\n\n');
    res.end();
  } else if (req.url === '/slow-stream') {
    res.setHeader('content-type', 'text/event-stream');
    res.write(openai.bytes.subarray(0, 2000));
    // never ends: the client goes away
  } else {
    res.statusCode = 404;
    res.end('not found');
  }
}

describe('TracerObserver of incoming requests', () => {
  for (const ratio of [1, 0]) {
    const label = ratio === 1 ? 'sampled' : 'unsampled';
    it(`reports method, route template, status, error.type and duration of every ${label} request`, async () => {
      const { tracer, exporter, server } = observed(ratio);
      const s = await serve(tracer, app, routeOf);
      try {
        const t0 = performance.now();
        await request(`${s.url}/users/42?token=x`);
        await request(`${s.url}/users/7`, { method: 'POST' });
        await request(`${s.url}/boom`);
        await request(`${s.url}/nowhere`);
        await request(`${s.url}/users/1`, { method: 'PURGE' });
        const elapsed = (performance.now() - t0) / 1000;
        await waitUntil(() => server.length === 5);
        const byOrder = server.map(({ duration: _duration, ...rest }) => rest);
        expect(byOrder).toEqual([
          { method: 'GET', scheme: 'http', route: '/users/:id', statusCode: 200, errorType: undefined, protocolVersion: '1.1', sampled: ratio === 1 },
          { method: 'POST', scheme: 'http', route: '/users/:id', statusCode: 200, errorType: undefined, protocolVersion: '1.1', sampled: ratio === 1 },
          { method: 'GET', scheme: 'http', route: '/boom', statusCode: 500, errorType: 'RangeError', protocolVersion: '1.1', sampled: ratio === 1 },
          { method: 'GET', scheme: 'http', route: undefined, statusCode: 404, errorType: undefined, protocolVersion: '1.1', sampled: ratio === 1 },
          { method: '_OTHER', scheme: 'http', route: '/users/:id', statusCode: 200, errorType: undefined, protocolVersion: '1.1', sampled: ratio === 1 },
        ]);
        for (const o of server) {
          expect(o.duration).toBeGreaterThan(0);
          expect(o.duration).toBeLessThan(elapsed);
        }
        if (ratio === 1) {
          const traces = await exporter.waitFor(5);
          // The same duration the span has.
          const span = traces.map((t) => t.spans[0]).find((sp) => sp.attributes['http.route'] === '/boom')!;
          expect(server[2].duration).toBeCloseTo((span.endTime - span.startTime) / 1000, 6);
        } else {
          await tracer.forceFlush();
          expect(exporter.traces()).toHaveLength(0);
        }
      } finally {
        await s.close();
        await tracer.shutdown();
      }
    });

    it(`reports the LLM stream an ${label} response carried, and a client that left mid-stream`, async () => {
      const { tracer, server, llm } = observed(ratio);
      const s = await serve(tracer, app, routeOf);
      try {
        await request(`${s.url}/chat`);
        await requestAndAbort(`${s.url}/slow-stream`, 100);
        await waitUntil(() => server.length === 2);
        expect(llm).toHaveLength(2);
        const [chat, cut] = llm;
        const expected = openai.expected;
        const price = findModelPrice(expected.model!)!;
        expect(chat).toMatchObject({
          side: 'server',
          provider: 'openai',
          operation: 'chat',
          requestModel: undefined,
          responseModel: expected.model,
          serverAddress: '127.0.0.1',
          serverPort: s.port,
          stream: true,
          usage: { input: expected.usage.input, output: expected.usage.output },
          estimatedOutputTokens: undefined,
          errorType: undefined,
          cost: costOf({ input: expected.usage.input, output: expected.usage.output, cached: 0, reasoning: 0 }, price),
          sampled: ratio === 1,
          chunkIntervals: undefined,
        });
        expect(chat.contentChunks).toBeGreaterThan(10);
        expect(chat.timeToFirstChunk).toBeGreaterThan(0);
        expect(chat.timeToFirstChunk).toBeLessThanOrEqual(chat.duration!);
        expect(chat.duration).toBeLessThanOrEqual(server[0].duration);
        expect(cut).toMatchObject({ side: 'server', provider: 'openai', errorType: 'client_aborted', cost: undefined, usage: {} });
        expect(cut.estimatedOutputTokens).toBe(cut.contentChunks);
        expect(server[1]).toMatchObject({ route: undefined, errorType: 'client_aborted', statusCode: 200 });
      } finally {
        await s.close();
        await tracer.shutdown();
      }
    });
  }

  it('ignored requests are neither traced nor observed', async () => {
    const { tracer, server } = observed(1);
    const s = await serve(tracer, app, routeOf, { ignore: ['/users/*'] });
    try {
      await request(`${s.url}/users/1`);
      await request(`${s.url}/nowhere`);
      await waitUntil(() => server.length === 1);
      expect(server[0].statusCode).toBe(404);
    } finally {
      await s.close();
      await tracer.shutdown();
    }
  });

  it('a throwing observer is reported once and never reaches the request or the other observers', async () => {
    const { tracer, server, remove } = observed(0);
    remove();
    const seen: number[] = [];
    tracer.addObserver!({
      serverRequest() {
        throw new Error('observer bug');
      },
    });
    tracer.addObserver!({ serverRequest: (o) => seen.push(o.statusCode!) });
    const s = await serve(tracer, app, routeOf);
    try {
      expect((await request(`${s.url}/users/1`)).status).toBe(200);
      expect((await request(`${s.url}/users/2`)).status).toBe(200);
      await waitUntil(() => seen.length === 2);
      expect(server).toHaveLength(0); // removed
      expect(stderr.lines().filter((l) => l.includes('observer bug'))).toHaveLength(1);
    } finally {
      await s.close();
      await tracer.shutdown();
    }
  });
});

describe('Tracer.addObserver', () => {
  it('has no observer until one is added, and none again once it is removed', () => {
    const tracer = createTracer({ exporters: [] });
    expect(tracer.observer).toBeUndefined();
    const remove = tracer.addObserver!({ llmCall: () => {} });
    expect(typeof tracer.observer?.serverRequest).toBe('function');
    remove();
    remove();
    expect(tracer.observer).toBeUndefined();
  });

  it('takes observers from the options', () => {
    const calls: string[] = [];
    const o: TracerObserver = { clientRequest: () => calls.push('client') };
    const tracer = createTracer({ exporters: [], observers: [o] });
    tracer.observer!.clientRequest({ method: 'GET', scheme: 'http', serverAddress: 'x', serverPort: 80, statusCode: 200, errorType: undefined, duration: 0.1, sampled: true });
    expect(calls).toEqual(['client']);
  });

  it('rejects what is not an observer with a TypeError naming it', () => {
    const tracer = createTracer({ exporters: [] });
    expect(() => tracer.addObserver!({} as TracerObserver)).toThrow(/observer must have at least one of/);
    expect(() => tracer.addObserver!({ llmCall: 1 } as unknown as TracerObserver)).toThrow(/observer\.llmCall must be a function/);
    expect(() => createTracer({ observers: {} as unknown as TracerObserver[] })).toThrow(/"observers"/);
    expect(() => createTracer({ observers: [null as unknown as TracerObserver] })).toThrow(/observers\[0\]/);
  });
});

async function waitUntil(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}
