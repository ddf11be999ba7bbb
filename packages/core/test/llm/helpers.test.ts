/**
 * The LLM, agent and tool helpers: sync, async, stream, break and throw for each, with the real
 * openai and @anthropic-ai/sdk clients against a local server replaying the recorded fixtures.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import {
  recordLLMResponse,
  recordLLMStream,
  withAgentSpan,
  withEmbeddingsSpan,
  withLLMSpan,
  withPipelineStep,
  withSpeechSpan,
  withToolSpan,
  withTranscriptionSpan,
  withSpan,
  setGlobalTracer,
} from '../../src';
import type { SpanData } from '../../src';
import { memoryTracer } from '../helpers';
import { startServer } from '../fetch/server';
import type { TestServer } from '../fetch/server';

const FIXTURES = join(__dirname, '../../../../test-utils/fixtures/llm-streams');
const expected: Record<string, any> = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')).fixtures;

/** What the server answers next: a fixture (streamed in pieces), or a body. */
let next: { headers: Record<string, string>; body: Buffer; cutAfter?: number } | undefined;
function replay(name: string, cutAfter?: number): any {
  const f = expected[name];
  next = { headers: f.responseHeaders, body: readFileSync(join(FIXTURES, f.file)), cutAfter };
  return f;
}
function reply(body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }): void {
  next = { headers, body: Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body)) };
}

let server: TestServer;
let t: ReturnType<typeof memoryTracer>;
beforeEach(async () => {
  server = await startServer(async (_req, res) => {
    const r = next;
    next = undefined;
    if (r === undefined) return void res.writeHead(500).end();
    res.writeHead(200, r.headers);
    for (let at = 0; at < r.body.length && !res.destroyed; at += 400) {
      if (r.cutAfter !== undefined && at >= r.cutAfter) return void res.destroy(); // the connection drops mid-stream
      res.write(r.body.subarray(at, at + 400));
      await new Promise((ok) => setTimeout(ok, 1));
    }
    res.end();
  });
  t = memoryTracer({ captureContent: true });
  setGlobalTracer(t.tracer);
});
afterEach(async () => {
  setGlobalTracer(undefined);
  await server.close();
  await t.tracer.shutdown();
});

const openai = () => new OpenAI({ apiKey: 'test', baseURL: server.url + '/v1', maxRetries: 0 });
const anthropic = () => new Anthropic({ apiKey: 'test', baseURL: server.url, maxRetries: 0 });

async function spans(): Promise<SpanData[]> {
  const [trace] = await t.exporter.waitFor(1);
  expect(trace.spans.every((s) => s.ended)).toBe(true);
  return trace.spans;
}
async function only(): Promise<SpanData> {
  const s = await spans();
  expect(s).toHaveLength(1);
  return s[0];
}

const completion = {
  id: 'chatcmpl-h1',
  object: 'chat.completion',
  created: 1763600000,
  model: 'gpt-4o-mini-2024-07-18',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hi.', refusal: null }, finish_reason: 'stop', logprobs: null }],
  usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11, prompt_tokens_details: { cached_tokens: 0 } },
};

describe('withLLMSpan', () => {
  it('records a result returned synchronously: CLIENT span {operation} {model} with request and response attributes', async () => {
    const value = withLLMSpan({ provider: 'openai', model: 'gpt-4o-mini', temperature: 0.2, maxTokens: 50, messages: [{ role: 'user', content: 'Say hi' }] }, () => completion);
    expect(value).toBe(completion);
    const span = await only();
    expect(span.name).toBe('chat gpt-4o-mini');
    expect(span.kind).toBe('client');
    expect(span.attributes).toMatchObject({
      'gen_ai.provider.name': 'openai',
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.request.temperature': 0.2,
      'gen_ai.request.max_tokens': 50,
      'gen_ai.response.id': 'chatcmpl-h1',
      'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 9,
      'gen_ai.usage.output_tokens': 2,
    });
    expect(span.attributes['tracewire.usage.cost']).toBeGreaterThan(0);
    expect(JSON.parse(span.attributes['gen_ai.input.messages'] as string)[0].parts[0].content).toBe('Say hi');
    expect(JSON.parse(span.attributes['gen_ai.output.messages'] as string)[0].parts[0].content).toBe('Hi.');
  });

  it('records what an SDK call resolves to (async), and the operation given', async () => {
    reply({ id: 'msg_h1', type: 'message', role: 'assistant', model: 'claude-haiku-4-5-20251001', content: [{ type: 'text', text: 'Hello.' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 10, output_tokens: 3, cache_read_input_tokens: 4, cache_creation_input_tokens: 2 } });
    const message = await withLLMSpan({ provider: 'anthropic', model: 'claude-haiku-4-5' }, () =>
      anthropic().messages.create({ model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }),
    );
    expect(message.id).toBe('msg_h1');
    const span = await only();
    expect(span.attributes).toMatchObject({
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.response.id': 'msg_h1',
      'gen_ai.usage.input_tokens': 16,
      'gen_ai.usage.cache_read.input_tokens': 4,
      'gen_ai.usage.cache_write.input_tokens': 2,
      'gen_ai.response.finish_reasons': ['end_turn'],
    });
  });

  it('records a throw and a rejection and re-throws them unchanged', async () => {
    const boom = new TypeError('bad request');
    expect(() => withLLMSpan({ provider: 'openai', model: 'm' }, () => { throw boom; })).toThrow(boom);
    let span = await only();
    expect(span.status).toEqual({ code: 'error', message: 'bad request' });
    expect(span.attributes['error.type']).toBe('TypeError');
    expect(span.events[0].name).toBe('exception');
    t.exporter.reset();
    const rejected = new Error('rate limited');
    await expect(withLLMSpan({ provider: 'openai', model: 'm' }, async () => { throw rejected; })).rejects.toBe(rejected);
    span = await only();
    expect(span.status.code).toBe('error');
  });

  it('wraps an SDK stream (create({ stream: true })): every chunk passes, the span ends with the stream', async () => {
    const f = replay('openai-chat-text-usage');
    const stream = await withLLMSpan({ provider: 'openai', model: 'gpt-4o-mini', stream: true }, () =>
      openai().chat.completions.create({ model: 'gpt-4o-mini', messages: f.request.messages, stream: true, stream_options: { include_usage: true } }),
    );
    // The SDK's own members still work through the wrapper.
    expect(stream.controller).toBeInstanceOf(AbortController);
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(f.expected.choices[0].text);
    const span = await only();
    expect(span.attributes).toMatchObject({
      'gen_ai.request.stream': true,
      'gen_ai.response.id': f.expected.id,
      'gen_ai.response.model': f.expected.model,
      'gen_ai.usage.input_tokens': f.expected.usage.input,
      'gen_ai.usage.output_tokens': f.expected.usage.output,
      'gen_ai.response.finish_reasons': ['stop'],
    });
    expect(span.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0);
    expect(JSON.parse(span.attributes['gen_ai.output.messages'] as string)[0].parts[0].content).toBe(f.expected.choices[0].text);
  });

  it('ends the span on break, keeping an estimated output count, marked and not priced', async () => {
    replay('openai-chat-text-usage');
    const stream = await withLLMSpan({ provider: 'openai', model: 'gpt-4o-mini' }, () =>
      openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], stream: true }),
    );
    let n = 0;
    for await (const _chunk of stream) if (++n === 5) break;
    const span = await only();
    expect(span.attributes['tracewire.stream.aborted']).toBe(true);
    expect(span.attributes['tracewire.llm.truncated']).toBe(true);
    expect(span.attributes['tracewire.usage.estimated']).toBe(true);
    expect(span.attributes['gen_ai.usage.output_tokens']).toBe(span.attributes['tracewire.llm.chunks']);
    expect(span.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(span.attributes['tracewire.usage.cost']).toBeUndefined();
    expect(span.status.code).toBe('unset');
  });

  it('ends the span when the stream is aborted with the SDK controller', async () => {
    replay('anthropic-text');
    const stream = await withLLMSpan({ provider: 'anthropic', model: 'claude-opus-4-5' }, () =>
      anthropic().messages.create({ model: 'claude-opus-4-5', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }], stream: true }),
    );
    for await (const event of stream) if (event.type === 'content_block_delta') stream.controller.abort();
    const span = await only();
    // Input usage came first (message_start); the output is estimated.
    expect(span.attributes['gen_ai.usage.input_tokens']).toBe(14);
    expect(span.attributes['tracewire.usage.estimated']).toBe(true);
    expect(span.attributes['tracewire.llm.truncated']).toBe(true);
  });

  it('records an error thrown while streaming (connection lost) and re-throws it', async () => {
    replay('openai-chat-text-usage', 2000);
    const stream = await withLLMSpan({ provider: 'openai', model: 'gpt-4o-mini' }, () =>
      openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], stream: true }),
    );
    let caught: unknown;
    try {
      for await (const _chunk of stream) {
        // read until it fails
      }
    } catch (err) {
      caught = err;
    }
    expect((caught as Error).message).toMatch(/terminated|aborted|socket|other side closed/i);
    const span = await only();
    expect(span.status.code).toBe('error');
    expect(span.events.some((e) => e.name === 'exception')).toBe(true);
    expect(span.attributes['tracewire.usage.estimated']).toBe(true);
  });

  it('follows an SDK stream helper (messages.stream()) without changing it', async () => {
    const f = replay('anthropic-tool-use');
    const runner = withLLMSpan({ provider: 'anthropic', model: 'claude-haiku-4-5' }, () => anthropic().messages.stream(f.request));
    const message = await runner.finalMessage();
    const span = await only();
    expect(span.attributes).toMatchObject({
      'gen_ai.response.id': message.id,
      'gen_ai.usage.output_tokens': message.usage.output_tokens,
      'gen_ai.response.finish_reasons': ['tool_use'],
    });
    const out = JSON.parse(span.attributes['gen_ai.output.messages'] as string)[0];
    expect(out.parts.filter((p: any) => p.type === 'tool_call').map((p: any) => p.name)).toEqual(['get_weather', 'get_local_time']);
  });

  it('wraps a ReadableStream (the SDK as NDJSON bytes) and a fetch Response (SSE bytes)', async () => {
    const f = replay('openai-responses-text');
    const readable = await withLLMSpan({ provider: 'openai', model: 'gpt-4.1-mini' }, async () =>
      (await openai().responses.create({ model: f.request.model, input: f.request.input, stream: true })).toReadableStream(),
    );
    const reader = readable.getReader();
    while (!(await reader.read()).done) {
      // drain
    }
    let span = await only();
    expect(span.attributes).toMatchObject({ 'gen_ai.response.id': f.expected.id, 'gen_ai.usage.output_tokens': f.expected.usage.output, 'tracewire.stream.format': 'ndjson' });
    t.exporter.reset();
    const g = replay('gemini-text-thoughts');
    const res = await withLLMSpan({ provider: 'gcp.gemini', model: 'gemini-2.5-flash', operation: 'generate_content' }, () =>
      fetch(`${server.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, { method: 'POST', body: '{}' }),
    );
    expect(await res.text()).toBe(readFileSync(join(FIXTURES, g.file), 'utf8'));
    span = await only();
    expect(span.name).toBe('generate_content gemini-2.5-flash');
    expect(span.attributes).toMatchObject({ 'gen_ai.provider.name': 'gcp.gemini', 'gen_ai.response.id': g.expected.id, 'gen_ai.usage.reasoning.output_tokens': 41, 'tracewire.stream.format': 'sse' });
  });

  it('uses the tracer of the active trace, and the global one outside any', async () => {
    const other = memoryTracer();
    try {
      await other.tracer.withSpan('request', async () => {
        withLLMSpan({ provider: 'openai', model: 'gpt-4o-mini' }, () => completion);
      });
      const [trace] = await other.exporter.waitFor(1);
      expect(trace.spans.map((s) => s.name)).toEqual(['request', 'chat gpt-4o-mini']);
      expect(t.exporter.spans()).toHaveLength(0);
    } finally {
      await other.tracer.shutdown();
    }
  });
});

describe('recordLLMResponse and recordLLMStream on spans of your own', () => {
  it('decode any supported body, and say when they do not know it', async () => {
    await withSpan('mine', async (span) => {
      expect(recordLLMResponse(span, { candidates: [{ content: { parts: [{ text: 'ok' }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 1 }, modelVersion: 'gemini-2.5-flash' })).toBe(true);
      expect(recordLLMResponse(span, { hello: 'world' })).toBe(false);
    });
    const span = await only();
    expect(span.attributes).toMatchObject({ 'gen_ai.provider.name': 'gcp.gemini', 'gen_ai.operation.name': 'generate_content', 'gen_ai.usage.input_tokens': 3, 'gen_ai.response.model': 'gemini-2.5-flash' });
  });

  it('follow a stream given to recordLLMStream', async () => {
    replay('vllm-usage-last');
    const span = t.tracer.startSpan('chat local', { kind: 'client' });
    const stream = recordLLMStream(span, await openai().chat.completions.create({ model: 'm', messages: [], stream: true }));
    for await (const _chunk of stream) {
      // drain
    }
    const s = await only();
    expect(s.attributes).toMatchObject({ 'gen_ai.usage.input_tokens': 42, 'gen_ai.usage.output_tokens': 16, 'gen_ai.response.model': 'meta-llama/Llama-3.1-8B-Instruct' });
  });
});

describe('withToolSpan', () => {
  it('names the span execute_tool {name} and records arguments and result with content capture (sync)', async () => {
    const r = withToolSpan('get_weather', () => ({ temp: 21 }), { args: { city: 'Zürich' }, callId: 'call_1' });
    expect(r).toEqual({ temp: 21 });
    const span = await only();
    expect(span.name).toBe('execute_tool get_weather');
    expect(span.kind).toBe('internal');
    expect(span.attributes).toEqual({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'get_weather',
      'gen_ai.tool.type': 'function',
      'gen_ai.tool.call.id': 'call_1',
      'gen_ai.tool.call.arguments': '{"city":"Zürich"}',
      'gen_ai.tool.call.result': '{"temp":21}',
    });
  });

  it('records neither arguments nor result without content capture (async)', async () => {
    const plain = memoryTracer();
    setGlobalTracer(plain.tracer);
    try {
      expect(await withToolSpan('lookup', async () => 'secret answer', { args: { q: 'secret question' } })).toBe('secret answer');
      const [trace] = await plain.exporter.waitFor(1);
      expect(JSON.stringify(trace.spans[0].attributes)).not.toContain('secret');
    } finally {
      await plain.tracer.shutdown();
    }
  });

  it('records a throw and re-throws it', async () => {
    const err = new RangeError('no such city');
    await expect(withToolSpan('get_weather', async () => { throw err; })).rejects.toBe(err);
    const span = await only();
    expect(span.status.code).toBe('error');
    expect(span.attributes['error.type']).toBe('RangeError');
  });

  it('ends with a returned stream, counting items, also on break', async () => {
    async function* items() {
      yield 'a';
      yield 'b';
      yield 'c';
    }
    const all: string[] = [];
    for await (const x of withToolSpan('search', () => items())) all.push(x as string);
    expect(all).toEqual(['a', 'b', 'c']);
    let span = await only();
    expect(span.attributes['tracewire.stream.chunks']).toBe(3);
    t.exporter.reset();
    for await (const _x of withToolSpan('search', () => items())) break;
    span = await only();
    expect(span.attributes['tracewire.stream.chunks']).toBe(1);
    expect(span.attributes['tracewire.stream.aborted']).toBe(true);
  });
});

describe('withAgentSpan', () => {
  it('holds the agent loop: invoke_agent → chat → execute_tool → chat', async () => {
    await withAgentSpan('weather-agent', async () => {
      withLLMSpan({ provider: 'openai', model: 'gpt-4o-mini' }, () => completion);
      await withToolSpan('get_weather', async () => 'sunny', { callId: 'c1' });
      withLLMSpan({ provider: 'openai', model: 'gpt-4o-mini' }, () => completion);
    }, { agentId: 'agent-7', description: 'answers weather questions' });
    const s = await spans();
    expect(s.map((x) => x.name)).toEqual(['invoke_agent weather-agent', 'chat gpt-4o-mini', 'execute_tool get_weather', 'chat gpt-4o-mini']);
    expect(s.slice(1).every((x) => x.parentSpanId === s[0].spanId)).toBe(true);
    expect(s[0].attributes).toMatchObject({ 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'weather-agent', 'gen_ai.agent.id': 'agent-7', 'gen_ai.agent.description': 'answers weather questions' });
  });

  it('records a throw (sync) and re-throws it', async () => {
    expect(() => withAgentSpan('a', () => { throw new Error('loop failed'); })).toThrow('loop failed');
    expect((await only()).status.code).toBe('error');
  });
});

describe('withEmbeddingsSpan', () => {
  it('records an SDK embeddings call: count, dimensions, input tokens', async () => {
    // The SDK asks for base64 and decodes it, as the API sends it.
    const vector = Buffer.from(new Float32Array([0.1, 0.2]).buffer).toString('base64');
    reply({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: vector }], model: 'text-embedding-3-small', usage: { prompt_tokens: 4, total_tokens: 4 } });
    await withEmbeddingsSpan({ provider: 'openai', model: 'text-embedding-3-small', dimensions: 2 }, () => openai().embeddings.create({ model: 'text-embedding-3-small', input: 'hi', dimensions: 2 }));
    const span = await only();
    expect(span.name).toBe('embeddings text-embedding-3-small');
    expect(span.attributes).toMatchObject({ 'gen_ai.operation.name': 'embeddings', 'gen_ai.usage.input_tokens': 4, 'tracewire.embeddings.count': 1, 'gen_ai.embeddings.dimension.count': 2 });
  });

  it('records vectors computed in process (sync)', async () => {
    withEmbeddingsSpan({ provider: 'local', model: 'minilm' }, () => [[1, 2, 3], [4, 5, 6]]);
    expect((await only()).attributes).toMatchObject({ 'tracewire.embeddings.count': 2, 'gen_ai.embeddings.dimension.count': 3 });
  });
});

describe('withSpeechSpan', () => {
  it('counts characters in and audio bytes out of an SDK speech call, as the audio is read', async () => {
    reply(Buffer.alloc(9000, 1), { 'content-type': 'audio/mpeg' });
    const res = await withSpeechSpan({ provider: 'openai', model: 'gpt-4o-mini-tts', voice: 'coral', input: 'Hello there' }, () =>
      openai().audio.speech.create({ model: 'gpt-4o-mini-tts', voice: 'coral', input: 'Hello there' }),
    );
    expect((await res.arrayBuffer()).byteLength).toBe(9000);
    const span = await only();
    expect(span.name).toBe('text_to_speech gpt-4o-mini-tts');
    expect(span.attributes).toMatchObject({ 'gen_ai.operation.name': 'text_to_speech', 'gen_ai.output.type': 'speech', 'gen_ai.speech.voice': 'coral', 'tracewire.speech.input_characters': 11, 'tracewire.audio.output_bytes': 9000 });
  });

  it('counts audio returned as bytes (sync) and streamed speech events', async () => {
    withSpeechSpan({ provider: 'local', model: 'piper' }, () => new Uint8Array(512));
    expect((await only()).attributes['tracewire.audio.output_bytes']).toBe(512);
    t.exporter.reset();
    async function* events() {
      yield { type: 'speech.audio.delta', audio: Buffer.alloc(300).toString('base64') };
      yield { type: 'speech.audio.delta', audio: Buffer.alloc(200).toString('base64') };
      yield { type: 'speech.audio.done', usage: { input_tokens: 5, output_tokens: 40, total_tokens: 45 } };
    }
    for await (const _e of withSpeechSpan({ provider: 'openai', model: 'gpt-4o-mini-tts' }, () => events())) {
      // play it
    }
    expect((await only()).attributes).toMatchObject({ 'tracewire.audio.output_bytes': 500, 'gen_ai.usage.input_tokens': 5, 'gen_ai.usage.output_tokens': 40 });
  });
});

describe('withTranscriptionSpan', () => {
  it('records a transcription: audio in, characters and usage out', async () => {
    reply({ text: 'Hello world.', usage: { type: 'tokens', input_tokens: 30, input_token_details: { audio_tokens: 30, text_tokens: 0 }, output_tokens: 4, total_tokens: 34 } });
    const r = await withTranscriptionSpan({ provider: 'openai', model: 'gpt-4o-transcribe', audioBytes: 2048 }, async () =>
      openai().audio.transcriptions.create({ file: await OpenAI.toFile(Buffer.alloc(2048), 'a.wav'), model: 'gpt-4o-transcribe' }),
    );
    expect(r.text).toBe('Hello world.');
    const span = await only();
    expect(span.name).toBe('speech_to_text gpt-4o-transcribe');
    expect(span.attributes).toMatchObject({ 'tracewire.audio.input_bytes': 2048, 'tracewire.transcription.output_characters': 12, 'gen_ai.usage.input_tokens': 30, 'gen_ai.usage.output_tokens': 4 });
  });

  it('follows a streamed transcription and ends on break', async () => {
    replay('openai-transcription-stream');
    const stream = await withTranscriptionSpan({ provider: 'openai', model: 'gpt-4o-mini-transcribe' }, async () =>
      openai().audio.transcriptions.create({ file: await OpenAI.toFile(Buffer.alloc(10), 'a.wav'), model: 'gpt-4o-mini-transcribe', stream: true }),
    );
    let n = 0;
    for await (const _e of stream) if (++n === 3) break;
    const span = await only();
    expect(span.attributes['tracewire.transcription.output_characters']).toBe('The quick brown'.length);
    expect(span.attributes['tracewire.stream.aborted']).toBe(true);
  });
});

describe('withPipelineStep', () => {
  it('counts frames in and out (sync) and the time to the first frame out', async () => {
    withPipelineStep('vad', (_span, frames) => {
      frames.in(10, 3200);
      frames.out(2, 640);
    });
    const span = await only();
    expect(span.name).toBe('vad');
    expect(span.attributes).toMatchObject({ 'tracewire.pipeline.frames_in': 10, 'tracewire.pipeline.frames_out': 2, 'tracewire.pipeline.bytes_in': 3200, 'tracewire.pipeline.bytes_out': 640 });
    expect(span.attributes['tracewire.pipeline.time_to_first_frame']).toBeGreaterThanOrEqual(0);
  });

  it('counts what a returned stream yields as frames out; records a throw', async () => {
    async function* audio() {
      yield new Uint8Array(160);
      yield new Uint8Array(160);
    }
    for await (const _f of withPipelineStep('tts', () => audio())) {
      // send it on
    }
    expect((await only()).attributes).toMatchObject({ 'tracewire.pipeline.frames_out': 2, 'tracewire.pipeline.bytes_out': 320 });
    t.exporter.reset();
    await expect(withPipelineStep('stt', async () => { throw new Error('decoder died'); })).rejects.toThrow('decoder died');
    expect((await only()).status.code).toBe('error');
  });
});

describe('OTEL_SEMCONV_STABILITY_OPT_IN on a tracer', () => {
  it('gen_ai_latest_experimental/dup writes the previous names next to the current ones', async () => {
    process.env.OTEL_SEMCONV_STABILITY_OPT_IN = 'gen_ai_latest_experimental/dup';
    const dup = memoryTracer();
    delete process.env.OTEL_SEMCONV_STABILITY_OPT_IN;
    try {
      expect(dup.tracer.config.genAiNames).toBe('dup');
      await dup.tracer.withSpan('request', async () => {
        withLLMSpan({ provider: 'anthropic', model: 'claude-haiku-4-5' }, () => ({ id: 'msg_d', type: 'message', model: 'claude-haiku-4-5', content: [], stop_reason: 'end_turn', usage: { input_tokens: 1, output_tokens: 1, cache_creation_input_tokens: 7 } }));
      });
      const [trace] = await dup.exporter.waitFor(1);
      expect(trace.spans[1].attributes).toMatchObject({ 'gen_ai.usage.cache_write.input_tokens': 7, 'gen_ai.usage.cache_creation.input_tokens': 7, 'gen_ai.system': 'anthropic' });
      expect(t.tracer.config.genAiNames).toBe('latest');
    } finally {
      await dup.tracer.shutdown();
    }
  });
});
