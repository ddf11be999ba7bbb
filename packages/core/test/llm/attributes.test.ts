import { llmAttributes } from '../../src/llm';
import { MAX_EXTRA_ATTRIBUTES, MAX_LLM_ATTRIBUTES } from '../../src/llm/attributes';
import type { LLMResult } from '../../src/llm';

const result: LLMResult = {
  provider: 'openai',
  api: 'responses',
  id: 'resp_1',
  model: 'gpt-4.1-mini-2025-04-14',
  choices: [{ index: 0, text: 'Hi', refusal: null, toolCalls: [], finishReason: 'completed' }],
  usage: { input: 2114, output: 20, cached: 1920, reasoning: 0 },
  truncated: false,
};

describe('llmAttributes', () => {
  it('describes a non-streamed call without stream-only attributes', () => {
    const a = llmAttributes(result, { stream: false, requestModel: 'gpt-4.1-mini', startTime: 1000, firstChunkTime: 1500 });
    expect(a).toEqual({
      'gen_ai.provider.name': 'openai',
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4.1-mini',
      'gen_ai.response.model': 'gpt-4.1-mini-2025-04-14',
      'gen_ai.response.id': 'resp_1',
      'gen_ai.response.finish_reasons': ['completed'],
      'gen_ai.usage.input_tokens': 2114,
      'gen_ai.usage.output_tokens': 20,
      'gen_ai.usage.cache_read.input_tokens': 1920,
      'gen_ai.usage.reasoning.output_tokens': 0,
      // gpt-4.1-mini: 194 × $0.40 + 1920 × $0.10 + 20 × $1.60 per million
      'tracewire.usage.cost': (194 * 0.4 + 1920 * 0.1 + 20 * 1.6) / 1e6,
    });
  });

  it('adds stream, time to first chunk and content chunks for a stream', () => {
    const a = llmAttributes(result, { stream: true, startTime: 1000, firstChunkTime: 1250, contentChunks: 7 });
    expect(a['gen_ai.request.stream']).toBe(true);
    expect(a['gen_ai.response.time_to_first_chunk']).toBe(0.25);
    expect(a['tracewire.llm.chunks']).toBe(7);
  });

  it('prices by the request model when the response names none', () => {
    const a = llmAttributes({ ...result, model: null }, { stream: false, requestModel: 'gpt-4.1-mini' });
    expect(a['tracewire.usage.cost']).toBeGreaterThan(0);
    expect(a).not.toHaveProperty(['gen_ai.response.model']);
  });

  it('marks a truncated result and leaves out what is unknown', () => {
    const a = llmAttributes({ ...result, id: null, usage: {}, truncated: true, choices: [{ ...result.choices[0], finishReason: null }] }, { stream: true });
    expect(a['tracewire.llm.truncated']).toBe(true);
    expect(Object.keys(a).sort()).toEqual(['gen_ai.operation.name', 'gen_ai.provider.name', 'gen_ai.request.stream', 'gen_ai.response.model', 'tracewire.llm.truncated']);
  });

  it('records messages only with captureContent, each within maxBytes', () => {
    expect(llmAttributes(result, { stream: false, inputMessages: 'Hello' })).not.toHaveProperty(['gen_ai.input.messages']);
    const a = llmAttributes(result, { stream: false, captureContent: true, inputMessages: 'x'.repeat(1000), maxBytes: 100 });
    expect(JSON.parse(a['gen_ai.output.messages'] as string)).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: 'Hi' }], finish_reason: 'stop' }]);
    const input = a['gen_ai.input.messages'] as string;
    expect(Buffer.byteLength(input)).toBeLessThanOrEqual(100);
    expect(JSON.parse(input)[0].role).toBe('user');
  });

  it('writes into the object it is given, never more than MAX_LLM_ATTRIBUTES (the room a span must have)', () => {
    const target: Record<string, unknown> = { 'http.route': '/chat' };
    const extras = Object.fromEntries(Array.from({ length: MAX_EXTRA_ATTRIBUTES + 3 }, (_, i) => [`tracewire.extra.${i}`, i]));
    const all = { ...result, truncated: true, usage: { ...result.usage, cacheCreation: 5 }, attributes: extras };
    const a = llmAttributes(all, { stream: true, requestModel: 'gpt-4.1-mini', startTime: 1, firstChunkTime: 2, contentChunks: 3, captureContent: true, inputMessages: 'Hi', names: 'dup' }, target as never);
    expect(a).toBe(target);
    expect(target['http.route']).toBe('/chat');
    expect(Object.keys(target)).toHaveLength(1 + MAX_LLM_ATTRIBUTES);
  });
});

describe('llmAttributes names (OTEL_SEMCONV_STABILITY_OPT_IN)', () => {
  const anthropic: LLMResult = { ...result, provider: 'anthropic', api: 'messages', usage: { input: 120, output: 9, cached: 0, cacheCreation: 100 } };

  it('writes the current name cache_write by default, and the previous ones only with dup', () => {
    const latest = llmAttributes(anthropic, { stream: false });
    expect(latest['gen_ai.usage.cache_write.input_tokens']).toBe(100);
    expect(latest).not.toHaveProperty(['gen_ai.usage.cache_creation.input_tokens']);
    expect(latest).not.toHaveProperty(['gen_ai.system']);
    const dup = llmAttributes(anthropic, { stream: false, names: 'dup' });
    expect(dup['gen_ai.usage.cache_write.input_tokens']).toBe(100);
    expect(dup['gen_ai.usage.cache_creation.input_tokens']).toBe(100);
    expect(dup['gen_ai.system']).toBe('anthropic');
  });

  it('follows the tracer: OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental/dup on a server span', async () => {
    const { createStreamAccumulator } = await import('../../src/stream');
    const acc = createStreamAccumulator({ format: 'sse', genAiNames: 'dup' });
    acc.write('event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","model":"claude-haiku-4-5","usage":{"input_tokens":10,"cache_creation_input_tokens":5,"cache_read_input_tokens":0,"output_tokens":1}}}\n\n');
    acc.end();
    expect(acc.attributes()).toMatchObject({ 'gen_ai.usage.cache_write.input_tokens': 5, 'gen_ai.usage.cache_creation.input_tokens': 5, 'gen_ai.system': 'anthropic' });
  });
});

describe('llmAttributes estimate', () => {
  it('estimates a missing output count from content chunks, marks it and gives no cost', () => {
    const a = llmAttributes({ ...result, usage: { input: 50 }, truncated: true }, { stream: true, contentChunks: 12, estimateOutputFrom: 12 });
    expect(a['gen_ai.usage.output_tokens']).toBe(12);
    expect(a['tracewire.usage.estimated']).toBe(true);
    expect(a).not.toHaveProperty(['tracewire.usage.cost']);
  });

  it('never replaces a count the provider reported', () => {
    const a = llmAttributes(result, { stream: true, estimateOutputFrom: 99 });
    expect(a['gen_ai.usage.output_tokens']).toBe(20);
    expect(a).not.toHaveProperty(['tracewire.usage.estimated']);
  });
});
