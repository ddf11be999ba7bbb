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
      requests.push({ url: req.url!, headers: req.headers, body: text ? JSON.parse(text) : undefined });
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
