/**
 * Observers of outbound calls: tracedFetch (plain and LLM, streamed and JSON, failures) and the
 * GenAI helpers, sampled and unsampled, with the official SDKs against a server replaying the
 * recorded streams.
 */
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { createTracedFetch, createTracer, InMemoryExporter, recordLLMResponse, setGlobalTracer, startSpan, withLLMSpan } from '../../src';
import type { ClientRequestOutcome, LLMCallOutcome, Tracer } from '../../src';
import { costOf, findModelPrice } from '../../src/llm/pricing';
import { startServer, until } from '../fetch/server';
import type { TestServer } from '../fetch/server';
import { loadFixtures } from '../../../../test-utils/fixtures';
import type { Fixture } from '../../../../test-utils/fixtures';

jest.setTimeout(30000);

const fixtures = loadFixtures();
const fixture = (name: string): Fixture => fixtures.find((f) => f.name === name)!;

/** What the server answers next: a fixture streamed in 400-byte writes 2 ms apart, or a status and body. */
let next: { status: number; headers: Record<string, string>; body: Buffer } | undefined;
let server: TestServer;
beforeAll(async () => {
  server = await startServer(async (_req, res) => {
    const r = next ?? { status: 200, headers: { 'content-type': 'text/plain' }, body: Buffer.from('ok') };
    next = undefined;
    res.writeHead(r.status, r.headers);
    for (let at = 0; at < r.body.length && !res.destroyed; at += 400) {
      res.write(r.body.subarray(at, at + 400));
      await new Promise((ok) => setTimeout(ok, 2));
    }
    res.end();
  });
});
afterAll(() => server.close());

function observed(ratio: number) {
  const client: ClientRequestOutcome[] = [];
  const llm: LLMCallOutcome[] = [];
  const tracer = createTracer({ serviceName: 'observed', sampler: ratio, exporters: [new InMemoryExporter()] });
  tracer.addObserver!({ clientRequest: (o) => client.push(o), llmCall: (o) => llm.push(o) });
  return { tracer, client, llm };
}

const priced = (f: Fixture) => costOf(f.expected.usage, findModelPrice(f.expected.model!)!);

for (const ratio of [1, 0]) {
  const sampled = ratio === 1;
  describe(`observers of tracedFetch (${sampled ? 'sampled' : 'unsampled'})`, () => {
    let o: ReturnType<typeof observed>;
    let fetch: ReturnType<typeof createTracedFetch>;
    beforeEach(() => {
      o = observed(ratio);
      fetch = createTracedFetch(undefined, { tracer: o.tracer });
    });
    afterEach(() => o.tracer.shutdown());

    it('reports a plain call once its body was read, and a failed one', async () => {
      const res = await fetch(`${server.url}/plain?key=secret`);
      expect(o.client).toHaveLength(0); // the body is not read yet
      await res.text();
      next = { status: 503, headers: {}, body: Buffer.from('down') };
      await (await fetch(`${server.url}/busy`, { method: 'POST', body: 'x' })).text();
      await expect(fetch('http://127.0.0.1:1/refused')).rejects.toThrow();
      await until(() => o.client.length === 3);
      expect(o.client.map(({ duration: _d, ...rest }) => rest)).toEqual([
        { method: 'GET', scheme: 'http', serverAddress: '127.0.0.1', serverPort: server.port, statusCode: 200, errorType: undefined, sampled },
        { method: 'POST', scheme: 'http', serverAddress: '127.0.0.1', serverPort: server.port, statusCode: 503, errorType: '503', sampled },
        { method: 'GET', scheme: 'http', serverAddress: '127.0.0.1', serverPort: 1, statusCode: undefined, errorType: 'TypeError', sampled },
      ]);
      for (const c of o.client) expect(c.duration).toBeGreaterThan(0);
      expect(o.llm).toHaveLength(0);
    });

    it('reports an OpenAI stream read by the SDK: usage, time to first chunk, every chunk interval, cost', async () => {
      const f = fixture('openai-chat-text-usage');
      next = { status: 200, headers: f.headers, body: f.bytes };
      const openai = new OpenAI({ apiKey: 'sk-test', baseURL: `${server.url}/v1`, fetch, maxRetries: 0 });
      const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
      let chunks = 0;
      for await (const _chunk of stream) chunks++;
      await until(() => o.llm.length === 1 && o.client.length === 1);
      const call = o.llm[0];
      expect(call).toMatchObject({
        side: 'client',
        provider: 'openai',
        operation: 'chat',
        requestModel: 'gpt-4o-mini',
        responseModel: f.expected.model,
        serverAddress: '127.0.0.1',
        serverPort: server.port,
        stream: true,
        usage: { input: f.expected.usage.input, output: f.expected.usage.output },
        cost: priced(f),
        errorType: undefined,
        sampled,
      });
      expect(chunks).toBe(f.wire.events - 1); // the SDK yields every event but [DONE]
      expect(call.contentChunks).toBeGreaterThan(1);
      // One interval per content chunk after the first; the 400-byte writes 2 ms apart show as gaps.
      expect(call.chunkIntervals).toHaveLength(call.contentChunks! - 1);
      const intervals = Array.from(call.chunkIntervals!);
      expect(intervals.filter((s) => s > 0.001).length).toBeGreaterThan(3);
      expect(call.timeToFirstChunk).toBeGreaterThan(0);
      expect(call.timeToFirstChunk! + intervals.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(call.duration!);
      expect(o.client[0]).toMatchObject({ method: 'POST', statusCode: 200, errorType: undefined });
    });

    it('reports an Anthropic JSON answer, and a provider error body with its type', async () => {
      const anthropic = new Anthropic({ apiKey: 'k', baseURL: server.url, fetch, maxRetries: 0 });
      next = {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-haiku-4-5-20251001', content: [{ type: 'text', text: 'hi' }], stop_reason: 'end_turn', usage: { input_tokens: 10, output_tokens: 5 } })),
      };
      await anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
      next = { status: 429, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } })) };
      await expect(anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })).rejects.toThrow();
      await until(() => o.llm.length === 2);
      expect(o.llm[0]).toMatchObject({ provider: 'anthropic', requestModel: 'claude-haiku-4-5', responseModel: 'claude-haiku-4-5-20251001', stream: false, usage: { input: 10, output: 5 }, timeToFirstChunk: undefined, chunkIntervals: undefined, errorType: undefined });
      expect(o.llm[0].cost).toBe(costOf({ input: 10, output: 5 }, findModelPrice('claude-haiku-4-5-20251001')!));
      expect(o.llm[1]).toMatchObject({ provider: 'anthropic', usage: {}, cost: undefined, errorType: 'rate_limit_error' });
      await until(() => o.client.length === 2);
      expect(o.client[1]).toMatchObject({ statusCode: 429, errorType: undefined });
    });
  });

  describe(`observers of the GenAI helpers (${sampled ? 'sampled' : 'unsampled'})`, () => {
    let o: ReturnType<typeof observed>;
    beforeEach(() => {
      o = observed(ratio);
      setGlobalTracer(o.tracer);
    });
    afterEach(async () => {
      setGlobalTracer(undefined);
      await o.tracer.shutdown();
    });

    it('withLLMSpan reports an SDK stream (chunk objects, each timed) and a thrown error', async () => {
      const f = fixture('anthropic-text');
      next = { status: 200, headers: f.headers, body: f.bytes };
      const anthropic = new Anthropic({ apiKey: 'k', baseURL: server.url, maxRetries: 0 });
      const stream = await withLLMSpan({ provider: 'anthropic', model: 'claude-opus-4-5', serverAddress: 'api.anthropic.com', serverPort: 443 }, () =>
        anthropic.messages.create({ model: 'claude-opus-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }], stream: true }),
      );
      for await (const _e of stream);
      await expect(withLLMSpan({ provider: 'openai', model: 'gpt-4o' }, async () => { throw new RangeError('no'); })).rejects.toThrow('no');
      expect(o.llm).toHaveLength(2);
      const [call, failed] = o.llm;
      expect(call).toMatchObject({
        side: 'client',
        provider: 'anthropic',
        requestModel: 'claude-opus-4-5',
        responseModel: f.expected.model,
        serverAddress: 'api.anthropic.com',
        serverPort: 443,
        stream: true,
        usage: { input: f.expected.usage.input, output: f.expected.usage.output },
        cost: priced(f),
        sampled,
      });
      expect(call.chunkIntervals).toHaveLength(call.contentChunks! - 1);
      expect(call.timeToFirstChunk).toBeGreaterThan(0);
      expect(failed).toMatchObject({ provider: 'openai', requestModel: 'gpt-4o', errorType: 'RangeError', usage: {}, stream: false });
      expect(failed.duration).toBeGreaterThanOrEqual(0);
    });

    it('recordLLMResponse on a span of your own reports the response, without a duration it cannot know', () => {
      const span = startSpan('my call', { kind: 'client' });
      recordLLMResponse(span, { id: 'x', object: 'chat.completion', model: 'gpt-4o-mini-2024-07-18', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 2 } });
      span.end();
      expect(o.llm).toHaveLength(1);
      expect(o.llm[0]).toMatchObject({ provider: 'openai', operation: 'chat', responseModel: 'gpt-4o-mini-2024-07-18', usage: { input: 3, output: 2 }, duration: undefined, sampled });
    });
  });
}

describe('observers and tracers without them', () => {
  it('a tracer without observers reports nothing and decodes nothing for unsampled calls', async () => {
    const tracer: Tracer = createTracer({ sampler: 0, exporters: [] });
    const fetch = createTracedFetch(undefined, { tracer });
    const f = fixture('openai-chat-text-usage');
    next = { status: 200, headers: f.headers, body: f.bytes };
    const res = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [] }) });
    // The very Response fetch returned: no tap for an unsampled, unobserved call.
    expect(res.body).not.toBeNull();
    expect(Object.prototype.hasOwnProperty.call(res, 'clone')).toBe(false);
    await res.text();
    await tracer.shutdown();
  });
});
