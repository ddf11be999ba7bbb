/**
 * LLM calls through tracedFetch, made by the official clients (openai 6, @anthropic-ai/sdk 1)
 * against a local server that replays the recorded fixtures byte for byte with their response
 * headers. The span must say what the SDK itself reconstructed.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { createTracedFetch } from '../../src/fetch';
import type { SpanData } from '../../src';
import { captureStderr, memoryTracer } from '../helpers';
import { listen } from '../../../../test-utils/http';
import type { Listening } from '../../../../test-utils/http';

const FIXTURES = join(__dirname, '../../../../test-utils/fixtures/llm-streams');
interface Fixture {
  file: string;
  request: Record<string, any>;
  responseHeaders: Record<string, string>;
  expected: { id: string; model: string; usage: Record<string, number>; choices: Array<{ finishReason: string }> };
}
const expected: Record<string, Fixture> = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')).fixtures;

interface Reply {
  status?: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Replays what the test queues, in pieces with small pauses, like a provider streaming. */
interface FixtureServer extends Listening {
  requests: Array<{ url: string; headers: http.IncomingHttpHeaders; body: any }>;
  reply(r: Reply): void;
  closed: Array<Promise<void>>;
}

async function fixtureServer(): Promise<FixtureServer> {
  const queue: Reply[] = [];
  const requests: FixtureServer['requests'] = [];
  const closed: Array<Promise<void>> = [];
  const server = http.createServer((req, res) => {
    closed.push(new Promise((r) => res.once('close', () => r())));
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const text = Buffer.concat(chunks).toString('utf8');
      // Multipart uploads (transcriptions, files) are kept as text.
      const isJson = String(req.headers['content-type'] ?? '').includes('json');
      requests.push({ url: req.url!, headers: req.headers, body: text && isJson ? JSON.parse(text) : text || undefined });
      const reply = queue.shift();
      if (!reply) {
        res.writeHead(500).end();
        return;
      }
      res.writeHead(reply.status ?? 200, reply.headers);
      // Uneven pieces, so events are split across chunks (and a UTF-8 character may be too).
      const sizes = [7, 300, 1, 1024, 513];
      let at = 0;
      for (let i = 0; at < reply.body.length && !res.destroyed; i++) {
        const n = sizes[i % sizes.length];
        res.write(reply.body.subarray(at, at + n));
        at += n;
        await new Promise((r) => setTimeout(r, 1));
      }
      res.end();
    });
  });
  const l = await listen(server);
  return { ...l, requests, closed, reply: (r) => queue.push(r) };
}

function replay(server: FixtureServer, name: string): Fixture {
  const f = expected[name];
  server.reply({ headers: f.responseHeaders, body: readFileSync(join(FIXTURES, f.file)) });
  return f;
}

let server: FixtureServer;
let t: ReturnType<typeof memoryTracer>;
beforeEach(async () => {
  server = await fixtureServer();
  t = memoryTracer();
});
afterEach(async () => {
  await server.close();
  await t.tracer.shutdown();
});
// Registered after the hooks above, so stderr stays captured while they shut down.
captureStderr();

async function clientSpan(): Promise<SpanData> {
  const [trace] = await t.exporter.waitFor(1);
  const spans = trace.spans.filter((s) => s.kind === 'client');
  expect(spans).toHaveLength(1);
  expect(spans[0].ended).toBe(true);
  return spans[0];
}

function openai(options: Parameters<typeof createTracedFetch>[1] = {}) {
  return new OpenAI({ apiKey: 'test', baseURL: server.url + '/v1', maxRetries: 0, fetch: createTracedFetch(undefined, { tracer: t.tracer, ...options }) });
}

function anthropic() {
  return new Anthropic({ apiKey: 'test', baseURL: server.url, maxRetries: 0, fetch: createTracedFetch(undefined, { tracer: t.tracer }) });
}

function expectTiming(span: SpanData) {
  const ttfc = span.attributes['gen_ai.response.time_to_first_chunk'] as number;
  expect(typeof ttfc).toBe('number');
  expect(ttfc).toBeGreaterThan(0);
  expect(ttfc).toBeLessThanOrEqual((span.endTime - span.startTime) / 1000);
}

describe('tracedFetch with the openai client', () => {
  it('records a streamed Chat Completion as the SDK reconstructs it', async () => {
    const f = replay(server, 'openai-chat-text-usage');
    const stream = openai().chat.completions.stream({ ...(f.request as any), temperature: 0.3, max_tokens: 100 });
    const completion = await stream.finalChatCompletion();
    const span = await clientSpan();

    expect(span.name).toBe('chat gpt-4o-mini');
    expect(span.attributes).toMatchObject({
      'http.request.method': 'POST',
      'url.full': `${server.url}/v1/chat/completions`,
      'http.response.status_code': 200,
      'gen_ai.provider.name': 'openai',
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.request.stream': true,
      'gen_ai.request.temperature': 0.3,
      'gen_ai.request.max_tokens': 100,
      'gen_ai.response.id': completion.id,
      'gen_ai.response.model': completion.model,
      'gen_ai.response.finish_reasons': completion.choices.map((c) => c.finish_reason),
      'gen_ai.usage.input_tokens': completion.usage!.prompt_tokens,
      'gen_ai.usage.output_tokens': completion.usage!.completion_tokens,
      'gen_ai.usage.cache_read.input_tokens': completion.usage!.prompt_tokens_details!.cached_tokens,
      'tracewire.stream.format': 'sse',
    });
    expect(span.attributes['tracewire.usage.cost']).toBeGreaterThan(0);
    expect(span.attributes['gen_ai.input.messages']).toBeUndefined();
    expect(span.status.code).toBe('unset');
    expectTiming(span);
    // The request went out as the SDK wrote it, with the trace context.
    expect(server.requests[0].body).toMatchObject({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true } });
    expect(server.requests[0].headers.traceparent).toBe(`00-${span.traceId}-${span.spanId}-03`);
    expect(completion.id).toBe(f.expected.id);
  });

  it('records parallel tool calls and cached tokens', async () => {
    const f = replay(server, 'openai-chat-tool-calls-parallel');
    const completion = await openai().chat.completions.stream(f.request as any).finalChatCompletion();
    const span = await clientSpan();
    expect(completion.choices[0].message.tool_calls).toHaveLength(2);
    expect(span.name).toBe('chat gpt-4.1');
    expect(span.attributes).toMatchObject({
      'gen_ai.response.id': completion.id,
      'gen_ai.response.model': completion.model,
      'gen_ai.response.finish_reasons': ['tool_calls'],
      'gen_ai.usage.input_tokens': completion.usage!.prompt_tokens,
      'gen_ai.usage.output_tokens': completion.usage!.completion_tokens,
      'gen_ai.usage.cache_read.input_tokens': completion.usage!.prompt_tokens_details!.cached_tokens,
    });
    expectTiming(span);
  });

  it('records a CRLF stream read chunk by chunk with create({ stream: true })', async () => {
    const f = replay(server, 'edge-openai-chat-crlf');
    const stream = await openai().chat.completions.create({ model: f.request.model, messages: f.request.messages, stream_options: f.request.stream_options, stream: true });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined | null;
    let id = '';
    let model = '';
    const reasons: string[] = [];
    for await (const chunk of stream) {
      id = chunk.id;
      model = chunk.model;
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) {
        text += c.delta.content ?? '';
        if (c.finish_reason) reasons.push(c.finish_reason);
      }
    }
    expect(text).toBe('Lines end with CRLF here.\r\nEven inside content.');
    const span = await clientSpan();
    expect(span.attributes).toMatchObject({
      'gen_ai.response.id': id,
      'gen_ai.response.model': model,
      'gen_ai.response.finish_reasons': reasons,
      'gen_ai.usage.input_tokens': usage!.prompt_tokens,
      'gen_ai.usage.output_tokens': usage!.completion_tokens,
    });
  });

  it('records a streamed Responses call', async () => {
    const f = replay(server, 'openai-responses-text');
    const response = await openai().responses.stream(f.request as any).finalResponse();
    const span = await clientSpan();
    expect(span.name).toBe('chat gpt-4.1-mini');
    expect(span.attributes).toMatchObject({
      'url.full': `${server.url}/v1/responses`,
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4.1-mini',
      'gen_ai.request.stream': true,
      'gen_ai.response.id': response.id,
      'gen_ai.response.model': response.model,
      'gen_ai.response.finish_reasons': [response.status],
      'gen_ai.usage.input_tokens': response.usage!.input_tokens,
      'gen_ai.usage.output_tokens': response.usage!.output_tokens,
      'gen_ai.usage.cache_read.input_tokens': response.usage!.input_tokens_details.cached_tokens,
    });
    expectTiming(span);
  });

  it('records a non-streamed Chat Completion from the bytes the SDK reads', async () => {
    const body = {
      id: 'chatcmpl-json1',
      object: 'chat.completion',
      created: 1755012345,
      model: 'gpt-4o-mini-2024-07-18',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hi.', refusal: null }, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11, prompt_tokens_details: { cached_tokens: 0 } },
    };
    server.reply({ headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) });
    const completion = await openai({ captureContent: true }).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Say hi' }],
      top_p: 0.5,
    });
    const span = await clientSpan();
    expect(span.attributes).toMatchObject({
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.request.top_p': 0.5,
      'gen_ai.response.id': completion.id,
      'gen_ai.response.model': completion.model,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': completion.usage!.prompt_tokens,
      'gen_ai.usage.output_tokens': completion.usage!.completion_tokens,
    });
    expect(span.attributes['gen_ai.request.stream']).toBeUndefined();
    expect(span.attributes['gen_ai.response.time_to_first_chunk']).toBeUndefined();
    expect(JSON.parse(span.attributes['gen_ai.input.messages'] as string)[0].parts[0].content).toBe('Say hi');
    expect(JSON.parse(span.attributes['gen_ai.output.messages'] as string)[0].parts[0].content).toBe('Hi.');
  });

  it('records a provider error body with its type', async () => {
    server.reply({
      status: 500,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ error: { message: 'The server had an error', type: 'server_error', param: null, code: null } })),
    });
    await expect(openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] })).rejects.toThrow(/server had an error/);
    const span = await clientSpan();
    expect(span.status).toEqual({ code: 'error', message: 'The server had an error' });
    expect(span.attributes['error.type']).toBe('server_error');
    expect(span.attributes['http.response.status_code']).toBe(500);
  });

  it('adds stream_options.include_usage with ensureStreamUsage, and only then', async () => {
    const f = expected['openai-chat-text-usage'];
    const request = { model: 'gpt-4o-mini', messages: f.request.messages, stream: true as const };
    for (const ensureStreamUsage of [false, true]) {
      replay(server, 'openai-chat-text-usage');
      const stream = await openai({ ensureStreamUsage }).chat.completions.create(request);
      for await (const _chunk of stream) {
        // read to the end
      }
    }
    expect(server.requests[0].body.stream_options).toBeUndefined();
    expect(server.requests[1].body).toEqual({ ...request, stream_options: { include_usage: true } });
  });

  it("ends the span when the consumer stops early, and the stop reaches the server", async () => {
    replay(server, 'openai-chat-text-usage');
    const stream = await openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], stream: true });
    for await (const _chunk of stream) break;
    await server.closed[0];
    const span = await clientSpan();
    expect(span.attributes['tracewire.stream.aborted']).toBe(true);
    expect(span.attributes['tracewire.llm.truncated']).toBe(true);
    // The SDK cancels the body on break: a consumer's choice, not a failed call.
    expect(span.attributes['tracewire.body.cancelled']).toBe(true);
    expect(span.status.code).toBe('unset');
    expect(span.attributes['gen_ai.response.id']).toBe(expected['openai-chat-text-usage'].expected.id);
  });
});

describe('tracedFetch with the anthropic client', () => {
  it('records a streamed Message as the SDK reconstructs it', async () => {
    const f = replay(server, 'anthropic-text');
    const message = await anthropic().messages.stream(f.request as any).finalMessage();
    const span = await clientSpan();
    const u = message.usage;
    expect(span.name).toBe('chat claude-opus-4-5');
    expect(span.attributes).toMatchObject({
      'url.full': `${server.url}/v1/messages`,
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude-opus-4-5',
      'gen_ai.request.max_tokens': 1024,
      'gen_ai.request.stream': true,
      'gen_ai.response.id': message.id,
      'gen_ai.response.model': message.model,
      'gen_ai.response.finish_reasons': [message.stop_reason],
      'gen_ai.usage.input_tokens': u.input_tokens + (u.cache_read_input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0),
      'gen_ai.usage.output_tokens': u.output_tokens,
    });
    expectTiming(span);
    expect(server.requests[0].headers.traceparent).toBe(`00-${span.traceId}-${span.spanId}-03`);
  });

  it('records tool use and cache reads', async () => {
    const f = replay(server, 'anthropic-tool-use');
    const message = await anthropic().messages.stream(f.request as any).finalMessage();
    const span = await clientSpan();
    const u = message.usage;
    expect(message.content.filter((b) => b.type === 'tool_use')).toHaveLength(2);
    expect(span.attributes).toMatchObject({
      'gen_ai.response.id': message.id,
      'gen_ai.response.model': message.model,
      'gen_ai.response.finish_reasons': ['tool_use'],
      'gen_ai.usage.input_tokens': u.input_tokens + (u.cache_read_input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0),
      'gen_ai.usage.cache_read.input_tokens': u.cache_read_input_tokens,
      'gen_ai.usage.output_tokens': u.output_tokens,
    });
    expect(span.attributes['gen_ai.usage.input_tokens']).toBe(f.expected.usage.input);
  });

  it('records a non-streamed Message', async () => {
    const body = {
      id: 'msg_json1',
      type: 'message',
      role: 'assistant',
      model: 'claude-haiku-4-5-20251001',
      content: [{ type: 'text', text: 'Hello.' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 10, output_tokens: 3, cache_read_input_tokens: 4, cache_creation_input_tokens: 0 },
    };
    server.reply({ headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) });
    const message = await anthropic().messages.create({ model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
    const span = await clientSpan();
    expect(span.attributes).toMatchObject({
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.response.id': message.id,
      'gen_ai.response.model': message.model,
      'gen_ai.response.finish_reasons': [message.stop_reason],
      'gen_ai.usage.input_tokens': 14,
      'gen_ai.usage.output_tokens': message.usage.output_tokens,
    });
  });
});

describe('tracedFetch with other OpenAI-compatible endpoints', () => {
  it('reads the Azure deployment as the model and names the provider', async () => {
    replay(server, 'openai-chat-text-usage');
    const fetch = createTracedFetch(undefined, { tracer: t.tracer });
    const res = await fetch(`${server.url}/openai/deployments/mini-prod/chat/completions?api-version=2024-10-21&key=secret`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'api-key': 'secret' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'x' }], stream: true }),
    });
    await res.text();
    const span = await clientSpan();
    expect(span.name).toBe('chat mini-prod');
    expect(span.attributes).toMatchObject({
      'gen_ai.provider.name': 'azure.ai.openai',
      'gen_ai.request.model': 'mini-prod',
      'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
      'url.full': `${server.url}/openai/deployments/mini-prod/chat/completions?api-version=2024-10-21&key=REDACTED`,
    });
  });
});

/** The attributes every replayed fixture must give, from expected.json. */
function expectFixture(span: SpanData, f: Fixture & { expected: any }) {
  const e = f.expected;
  expect(span.attributes['gen_ai.response.id']).toBe(e.id ?? undefined);
  expect(span.attributes['gen_ai.response.model']).toBe(e.model ?? undefined);
  expect(span.attributes['gen_ai.usage.input_tokens']).toBe(e.usage.input);
  expect(span.attributes['gen_ai.usage.output_tokens']).toBe(e.usage.output);
  expect(span.attributes['tracewire.llm.truncated']).toBeUndefined();
  expect(span.attributes['tracewire.usage.estimated']).toBeUndefined();
}

describe('tracedFetch with OpenAI-compatible servers that send usage last', () => {
  it.each(['vllm-usage-last', 'llamacpp-usage-finish', 'lmstudio-usage-last', 'ollama-openai-compat'])('records %s as the openai SDK reconstructs it', async (name) => {
    const f = replay(server, name);
    const stream = await openai().chat.completions.create({ model: f.request.model, messages: f.request.messages, stream: true, stream_options: f.request.stream_options });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined | null;
    let id = '';
    let model = '';
    for await (const chunk of stream) {
      id = chunk.id;
      model = chunk.model;
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) text += c.delta.content ?? '';
    }
    const span = await clientSpan();
    expect(text).toBe((f.expected as any).choices[0].text);
    expect(span.name).toBe(`chat ${f.request.model}`);
    expect(span.attributes).toMatchObject({
      'gen_ai.provider.name': 'openai',
      'gen_ai.response.id': id,
      'gen_ai.response.model': model,
      'gen_ai.usage.input_tokens': usage!.prompt_tokens,
      'gen_ai.usage.output_tokens': usage!.completion_tokens,
      'gen_ai.response.finish_reasons': ['stop'],
    });
    expectFixture(span, f);
    expectTiming(span);
    // Local models have no price: no cost rather than a wrong one.
    expect(span.attributes['tracewire.usage.cost']).toBeUndefined();
  });
});

describe('tracedFetch with Gemini and Ollama', () => {
  it('records a Gemini streamGenerateContent?alt=sse call, thoughts and cached tokens included', async () => {
    const f = replay(server, 'gemini-text-thoughts');
    const fetch = createTracedFetch(undefined, { tracer: t.tracer, captureContent: true });
    const res = await fetch(`${server.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=secret`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': 'secret' },
      body: JSON.stringify({ contents: f.request.contents, generationConfig: f.request.generationConfig }),
    });
    const body = await res.text();
    expect(body).toBe(readFileSync(join(FIXTURES, f.file), 'utf8'));
    const span = await clientSpan();
    expect(span.name).toBe('generate_content gemini-2.5-flash');
    expect(span.attributes).toMatchObject({
      'gen_ai.provider.name': 'gcp.gemini',
      'gen_ai.operation.name': 'generate_content',
      'gen_ai.request.model': 'gemini-2.5-flash',
      'gen_ai.request.stream': true,
      'gen_ai.request.temperature': 0.4,
      'gen_ai.response.finish_reasons': ['STOP'],
      'gen_ai.usage.cache_read.input_tokens': 1536,
      'gen_ai.usage.reasoning.output_tokens': 41,
      'url.full': `${server.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=REDACTED`,
    });
    expectFixture(span, f);
    expectTiming(span);
    const out = JSON.parse(span.attributes['gen_ai.output.messages'] as string);
    expect(out).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: (f.expected as any).choices[0].text }], finish_reason: 'stop' }]);
    expect(JSON.parse(span.attributes['gen_ai.input.messages'] as string)[0].parts[0].content).toMatch(/server-sent events/);
    // gemini-2.5-flash: (1830 − 1536) × $0.30 + 1536 × $0.03 + 69 × $2.50 per million
    expect(span.attributes['tracewire.usage.cost']).toBeCloseTo((294 * 0.3 + 1536 * 0.03 + 69 * 2.5) / 1e6, 12);
  });

  it.each([
    ['ollama-chat', '/api/chat', 'chat'],
    ['ollama-generate', '/api/generate', 'text_completion'],
  ])('records Ollama %s streamed as NDJSON', async (name, path, operation) => {
    const f = replay(server, name);
    const fetch = createTracedFetch(undefined, { tracer: t.tracer });
    const res = await fetch(`${server.url}${path}`, { method: 'POST', body: JSON.stringify({ model: 'llama3.2', ...f.request, path: undefined }) });
    let lines = 0;
    for await (const _line of res.body as unknown as AsyncIterable<Uint8Array>) lines++;
    expect(lines).toBeGreaterThan(0);
    const span = await clientSpan();
    expect(span.name).toBe(`${operation} llama3.2`);
    expect(span.attributes).toMatchObject({
      'gen_ai.provider.name': 'ollama',
      'gen_ai.operation.name': operation,
      'gen_ai.request.stream': true,
      'gen_ai.response.finish_reasons': ['stop'],
      'tracewire.stream.format': 'ndjson',
      'tracewire.stream.chunks': (f as any).wire.ndjsonLines,
    });
    expectFixture(span, f);
    expectTiming(span);
  });

  it('records non-streamed Gemini and Ollama answers', async () => {
    const fetch = createTracedFetch(undefined, { tracer: t.tracer });
    server.reply({
      headers: { 'content-type': 'application/json; charset=UTF-8' },
      body: Buffer.from(JSON.stringify({
        candidates: [{ content: { parts: [{ functionCall: { name: 'get_weather', args: { city: 'Zürich' } } }], role: 'model' }, finishReason: 'STOP', index: 0 }],
        usageMetadata: { promptTokenCount: 40, candidatesTokenCount: 7, totalTokenCount: 47 },
        modelVersion: 'gemini-2.5-pro',
        responseId: 'resp-g1',
      })),
    });
    await (await fetch(`${server.url}/v1beta/models/gemini-2.5-pro:generateContent`, { method: 'POST', body: '{"contents":[]}' })).json();
    const gemini = await clientSpan();
    expect(gemini.attributes).toMatchObject({ 'gen_ai.response.id': 'resp-g1', 'gen_ai.usage.input_tokens': 40, 'gen_ai.usage.output_tokens': 7, 'gen_ai.response.finish_reasons': ['STOP'] });
    expect(gemini.attributes['gen_ai.request.stream']).toBeUndefined();
    t.exporter.reset();
    server.reply({
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: Buffer.from(JSON.stringify({ model: 'llama3.2', created_at: '2026-11-20T09:41:14Z', message: { role: 'assistant', content: 'Hi.' }, done: true, done_reason: 'stop', prompt_eval_count: 9, eval_count: 3 })),
    });
    await (await fetch(`${server.url}/api/chat`, { method: 'POST', body: '{"model":"llama3.2","messages":[],"stream":false}' })).json();
    const ollama = await clientSpan();
    expect(ollama.attributes).toMatchObject({ 'gen_ai.provider.name': 'ollama', 'gen_ai.usage.input_tokens': 9, 'gen_ai.usage.output_tokens': 3, 'gen_ai.response.finish_reasons': ['stop'] });
    expect(ollama.attributes['gen_ai.request.stream']).toBeUndefined();
  });
});

describe('tracedFetch with OpenAI embeddings, audio, images, batches and files', () => {
  const json = (body: unknown) => server.reply({ headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) });

  it('records embeddings: model, input tokens, count and dimensions', async () => {
    json({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2, 0.3] }, { object: 'embedding', index: 1, embedding: [0.3, 0.2, 0.1] }], model: 'text-embedding-3-small', usage: { prompt_tokens: 8, total_tokens: 8 } });
    const r = await openai().embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'], dimensions: 3, encoding_format: 'float' });
    const span = await clientSpan();
    expect(span.name).toBe('embeddings text-embedding-3-small');
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'embeddings',
      'gen_ai.response.model': r.model,
      'gen_ai.usage.input_tokens': r.usage.prompt_tokens,
      'gen_ai.embeddings.dimension.count': 3,
      'gen_ai.request.encoding_formats': ['float'],
      'tracewire.embeddings.count': 2,
    });
    expect(span.attributes['gen_ai.usage.output_tokens']).toBeUndefined();
  });

  it('records speech: voice and characters in, audio bytes out, as the SDK reads them', async () => {
    const audio = Buffer.alloc(24000, 7);
    server.reply({ headers: { 'content-type': 'audio/mpeg' }, body: audio });
    const res = await openai().audio.speech.create({ model: 'gpt-4o-mini-tts', voice: 'coral', input: 'Hello from Tracewire.' });
    expect((await res.arrayBuffer()).byteLength).toBe(audio.length);
    const span = await clientSpan();
    expect(span.name).toBe('text_to_speech gpt-4o-mini-tts');
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'text_to_speech',
      'gen_ai.speech.voice': 'coral',
      'gen_ai.output.type': 'speech',
      'tracewire.speech.input_characters': 21,
      'tracewire.audio.output_bytes': audio.length,
    });
  });

  it('records a streamed transcription made by the SDK: audio bytes in, transcript and usage out', async () => {
    const f = replay(server, 'openai-transcription-stream');
    const stream = await openai({ captureContent: true }).audio.transcriptions.create({
      file: await OpenAI.toFile(Buffer.alloc(48044, 1), 'speech.wav'),
      model: 'gpt-4o-mini-transcribe',
      stream: true,
    });
    let text = '';
    let usage: any;
    for await (const event of stream) {
      if (event.type === 'transcript.text.delta') text += event.delta;
      if (event.type === 'transcript.text.done') usage = event.usage;
    }
    const span = await clientSpan();
    expect(span.name).toBe('speech_to_text gpt-4o-mini-transcribe');
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'speech_to_text',
      'gen_ai.request.stream': true,
      'tracewire.audio.input_bytes': 48044,
      'gen_ai.usage.input_tokens': usage.input_tokens,
      'gen_ai.usage.output_tokens': usage.output_tokens,
      'tracewire.transcription.output_characters': text.length,
    });
    expectFixture(span, f);
    expect(JSON.parse(span.attributes['gen_ai.output.messages'] as string)).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: text }], finish_reason: 'stop' }]);
  });

  it('records a JSON transcription with its duration usage', async () => {
    json({ text: 'Guten Tag.', usage: { type: 'duration', seconds: 3 } });
    const r = await openai().audio.transcriptions.create({ file: await OpenAI.toFile(Buffer.alloc(100), 'a.mp3'), model: 'whisper-1', language: 'de' });
    const span = await clientSpan();
    expect(r.text).toBe('Guten Tag.');
    expect(span.attributes).toMatchObject({ 'gen_ai.request.model': 'whisper-1', 'tracewire.audio.input_seconds': 3, 'tracewire.transcription.output_characters': 10, 'gen_ai.speech.input.language': 'de', 'tracewire.audio.input_bytes': 100 });
  });

  it('records image generation as counts, never the images or their URLs', async () => {
    json({ created: 1763600000, data: [{ b64_json: 'aGVsbG8=' }, { b64_json: 'd29ybGQ=' }], usage: { input_tokens: 50, output_tokens: 4160, input_tokens_details: { text_tokens: 50, image_tokens: 0 }, total_tokens: 4210 }, size: '1024x1024', quality: 'low' });
    await openai({ captureContent: true }).images.generate({ model: 'gpt-image-1', prompt: 'a lighthouse', n: 2, size: '1024x1024' });
    const span = await clientSpan();
    expect(span.name).toBe('generate_image gpt-image-1');
    expect(span.attributes).toMatchObject({ 'tracewire.image.count': 2, 'tracewire.image.requested': 2, 'gen_ai.usage.input_tokens': 50, 'gen_ai.usage.output_tokens': 4160, 'tracewire.image.size': '1024x1024' });
    expect(JSON.stringify(span.attributes)).not.toContain('aGVsbG8=');
  });

  it('records batch and file calls by operation and id', async () => {
    json({ id: 'file-abc', object: 'file', bytes: 120, created_at: 1763600000, filename: 'batch.jsonl', purpose: 'batch' });
    await openai().files.create({ file: await OpenAI.toFile(Buffer.alloc(120), 'batch.jsonl'), purpose: 'batch' });
    const upload = await clientSpan();
    expect(upload.name).toBe('upload_file');
    expect(upload.attributes).toMatchObject({ 'gen_ai.operation.name': 'upload_file', 'tracewire.file.id': 'file-abc', 'tracewire.file.purpose': 'batch', 'tracewire.file.bytes': 120 });
    t.exporter.reset();
    json({ id: 'batch_1', object: 'batch', endpoint: '/v1/chat/completions', input_file_id: 'file-abc', completion_window: '24h', status: 'validating', request_counts: { total: 0, completed: 0, failed: 0 } });
    await openai().batches.create({ input_file_id: 'file-abc', endpoint: '/v1/chat/completions', completion_window: '24h' });
    const create = await clientSpan();
    expect(create.name).toBe('create_batch');
    expect(create.attributes).toMatchObject({ 'gen_ai.operation.name': 'create_batch', 'tracewire.batch.id': 'batch_1', 'tracewire.batch.status': 'validating', 'tracewire.file.id': 'file-abc' });
    t.exporter.reset();
    json({ id: 'batch_1', object: 'batch', status: 'completed', request_counts: { total: 3, completed: 3, failed: 0 } });
    await openai().batches.retrieve('batch_1');
    const get = await clientSpan();
    expect(get.name).toBe('retrieve_batch');
    expect(get.attributes).toMatchObject({ 'http.request.method': 'GET', 'tracewire.batch.id': 'batch_1', 'tracewire.batch.status': 'completed', 'tracewire.batch.requests.total': 3, 'tracewire.batch.requests.succeeded': 3 });
  });
});

describe('tracedFetch with Anthropic count_tokens and batches', () => {
  const json = (body: unknown) => server.reply({ headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) });

  it('records count_tokens as a count, never as usage or cost', async () => {
    json({ input_tokens: 2095 });
    const r = await anthropic().messages.countTokens({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] });
    const span = await clientSpan();
    expect(span.name).toBe('count_tokens claude-sonnet-4-5');
    expect(span.attributes).toMatchObject({ 'gen_ai.operation.name': 'count_tokens', 'tracewire.count_tokens.input_tokens': r.input_tokens });
    expect(span.attributes['gen_ai.usage.input_tokens']).toBeUndefined();
    expect(span.attributes['tracewire.usage.cost']).toBeUndefined();
  });

  it('records a message batch by operation, id and request counts', async () => {
    json({ id: 'msgbatch_01', type: 'message_batch', processing_status: 'in_progress', request_counts: { processing: 2, succeeded: 0, errored: 0, canceled: 0, expired: 0 }, created_at: '2026-11-20T09:00:00Z' });
    await anthropic().messages.batches.create({ requests: [{ custom_id: 'a', params: { model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] } }, { custom_id: 'b', params: { model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'y' }] } }] });
    const span = await clientSpan();
    expect(span.name).toBe('create_batch');
    expect(span.attributes).toMatchObject({ 'gen_ai.provider.name': 'anthropic', 'tracewire.batch.id': 'msgbatch_01', 'tracewire.batch.status': 'in_progress', 'tracewire.batch.requests.total': 2 });
  });
});

describe('tracedFetch when the consumer cancels a stream', () => {
  it('keeps an output count estimated from the content chunks read, marked, and no cost', async () => {
    replay(server, 'openai-chat-text-usage');
    const stream = await openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], stream: true });
    let n = 0;
    for await (const _chunk of stream) if (++n === 6) break;
    const span = await clientSpan();
    expect(span.attributes['tracewire.usage.estimated']).toBe(true);
    expect(span.attributes['gen_ai.usage.output_tokens']).toBe(span.attributes['tracewire.llm.chunks']);
    expect(span.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(span.attributes['tracewire.usage.cost']).toBeUndefined();
  });
});
