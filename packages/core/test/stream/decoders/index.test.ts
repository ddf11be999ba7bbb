import type { LLMResult } from '../../../src/llm';
import { expectedResult, feed, loadFixtures, pieces, sse } from '../helpers';
import type { Fixture } from '../helpers';

// The LLM stream decoders, driven through the accumulator with streams written for each situation
// real providers and OpenAI-compatible servers produce.

const fixtures = loadFixtures();
const fixture = (name: string): Fixture => fixtures.find((f) => f.name === name) as Fixture;

/** Feeds `body` whole and in 1-byte pieces; both must agree. Returns the result of the whole feed. */
function decode(body: string | Buffer, format: 'sse' | 'ndjson' = 'sse'): { result: LLMResult | undefined; acc: ReturnType<typeof feed> } {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const acc = feed([bytes], { format });
  expect(feed(pieces(bytes, 1), { format }).llm()).toEqual(acc.llm());
  return { result: acc.llm(), acc };
}

const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'gpt-4o-mini-2024-07-18',
  choices,
  ...extra,
});

describe('OpenAI Chat Completions decoder', () => {
  it('keeps n = 2 interleaved choices apart by index', () => {
    const body = sse([
      chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]),
      chunk([{ index: 1, delta: { role: 'assistant', content: '' }, finish_reason: null }]),
      chunk([{ index: 1, delta: { content: 'B1' }, finish_reason: null }]),
      chunk([{ index: 0, delta: { content: 'A1' }, finish_reason: null }]),
      chunk([{ index: 0, delta: { content: ' A2' }, finish_reason: null }, { index: 1, delta: { content: ' B2' }, finish_reason: null }]),
      chunk([{ index: 1, delta: {}, finish_reason: 'length' }]),
      chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]),
      '[DONE]',
    ]);
    const { result, acc } = decode(body);
    expect(result?.choices).toEqual([
      { index: 0, text: 'A1 A2', refusal: null, toolCalls: [], finishReason: 'stop' },
      { index: 1, text: 'B1 B2', refusal: null, toolCalls: [], finishReason: 'length' },
    ]);
    expect(result?.truncated).toBe(false);
    expect(acc.attributes()['gen_ai.response.finish_reasons']).toEqual(['stop', 'length']);
    expect(acc.firstContentChunk).toBe(2);
    expect(acc.contentChunks).toBe(3);
  });

  it('collects refusal deltas apart from the text', () => {
    const body = sse([
      chunk([{ index: 0, delta: { role: 'assistant', content: null, refusal: '' }, finish_reason: null }]),
      chunk([{ index: 0, delta: { refusal: "I'm sorry, " }, finish_reason: null }]),
      chunk([{ index: 0, delta: { refusal: "I can't help with that." }, finish_reason: null }]),
      chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]),
      '[DONE]',
    ]);
    const { result, acc } = decode(body);
    expect(result?.choices).toEqual([{ index: 0, text: null, refusal: "I'm sorry, I can't help with that.", toolCalls: [], finishReason: 'stop' }]);
    expect(acc.firstContentChunk).toBe(1);
  });

  it("accepts Azure's empty first chunk and takes id and model from the next ones", () => {
    const azureFirst = {
      choices: [],
      created: 0,
      id: '',
      model: '',
      object: '',
      prompt_filter_results: [{ prompt_index: 0, content_filter_results: { hate: { filtered: false, severity: 'safe' } } }],
    };
    const filtered = { hate: { filtered: false, severity: 'safe' } };
    const body = sse([
      azureFirst,
      chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null, content_filter_results: {} }], { model: 'gpt-4o-2024-11-20' }),
      chunk([{ index: 0, delta: { content: 'Hi' }, finish_reason: null, content_filter_results: filtered }], { model: 'gpt-4o-2024-11-20' }),
      chunk([{ index: 0, delta: {}, finish_reason: 'stop', content_filter_results: {} }], { model: 'gpt-4o-2024-11-20' }),
      '[DONE]',
    ]);
    const { result, acc } = decode(body);
    expect(result).toMatchObject({ provider: 'openai', api: 'chat.completions', id: 'chatcmpl-1', model: 'gpt-4o-2024-11-20' });
    expect(result?.choices[0].text).toBe('Hi');
    expect(acc.firstContentChunk).toBe(2);
  });

  it('takes usage from the finish chunk, as OpenAI-compatible servers send it', () => {
    const body = sse([
      chunk([{ index: 0, delta: { role: 'assistant', content: 'Hello' }, finish_reason: null }], { model: 'llama-3.1-8b-instant' }),
      chunk([{ index: 0, delta: {}, finish_reason: 'stop' }], { model: 'llama-3.1-8b-instant', usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } }),
      '[DONE]',
    ]);
    const { result, acc } = decode(body);
    expect(result?.usage).toEqual({ input: 10, output: 5 });
    const a = acc.attributes();
    expect(a['gen_ai.usage.input_tokens']).toBe(10);
    expect(a['gen_ai.usage.output_tokens']).toBe(5);
    expect(a).not.toHaveProperty(['gen_ai.usage.cache_read.input_tokens']);
    expect(a).not.toHaveProperty(['gen_ai.usage.reasoning.output_tokens']);
    expect(a).not.toHaveProperty(['tracewire.usage.cost']); // an unknown model gets no cost
  });

  it('reads reasoning tokens and the legacy function_call delta', () => {
    const body = sse([
      chunk([{ index: 0, delta: { role: 'assistant', function_call: { name: 'lookup', arguments: '' } }, finish_reason: null }], { model: 'o4-mini-2025-04-16' }),
      chunk([{ index: 0, delta: { function_call: { arguments: '{"q":' } }, finish_reason: null }]),
      chunk([{ index: 0, delta: { function_call: { arguments: '"x"}' } }, finish_reason: null }]),
      chunk([{ index: 0, delta: {}, finish_reason: 'function_call' }]),
      chunk([], { usage: { prompt_tokens: 20, completion_tokens: 100, completion_tokens_details: { reasoning_tokens: 64 } } }),
      '[DONE]',
    ]);
    const { result } = decode(body);
    expect(result?.choices[0].toolCalls).toEqual([{ id: '', name: 'lookup', arguments: '{"q":"x"}' }]);
    expect(result?.usage).toEqual({ input: 20, output: 100, reasoning: 64 });
  });

  it('ignores comments and keep-alives between chunks', () => {
    const f = fixture('openai-chat-text-usage');
    const events = f.bytes.toString('utf8').split('\n\n');
    const body = ': OPENROUTER PROCESSING\n\n' + events.join('\n\n:\n\n: keep-alive\n');
    const { result, acc } = decode(body);
    expect(result).toMatchObject(expectedResult(f));
    expect(acc.chunks).toBe(f.wire.sseEvents);
  });

  it('parses data split over several data: lines', () => {
    const body = [
      `data: ${JSON.stringify(chunk([{ index: 0, delta: { content: 'multi' }, finish_reason: null }]), null, 2).split('\n').join('\ndata: ')}\n\n`,
      `data: ${JSON.stringify(chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]))}\n\n`,
      'data: [DONE]\n\n',
    ].join('');
    expect(body).toContain('data:   "object"');
    expect(decode(body).result?.choices[0].text).toBe('multi');
  });

  it('decodes a stream with CR-only line endings', () => {
    const f = fixture('openai-chat-text-usage');
    const body = f.bytes.toString('utf8').replace(/\n/g, '\r');
    const { result, acc } = decode(body);
    expect(result).toMatchObject(expectedResult(f));
    expect(acc.chunks).toBe(f.wire.sseEvents);
  });

  it('decodes a stream that starts with a BOM', () => {
    const f = fixture('openai-chat-tool-calls-parallel');
    const { result } = decode(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), f.bytes]));
    expect(result).toMatchObject(expectedResult(f));
  });

  it('counts non-JSON data and skips it', () => {
    const body = sse([
      'hello',
      chunk([{ index: 0, delta: { content: 'A' }, finish_reason: null }]),
      '{"truncated json',
      chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]),
      '[DONE]',
    ]);
    const { result, acc } = decode(body);
    expect(result?.choices[0].text).toBe('A');
    expect(acc.nonJsonEvents).toBe(2);
    expect(acc.chunks).toBe(5);
    expect(acc.firstContentChunk).toBe(1);
  });

  it('records an in-band server_error after some output', () => {
    const body = sse([
      chunk([{ index: 0, delta: { role: 'assistant', content: 'Partial' }, finish_reason: null }]),
      { error: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null } },
    ]);
    const { result } = decode(body);
    expect(result?.error).toEqual({ type: 'server_error', message: 'The server had an error while processing your request. Sorry about that!' });
    expect(result?.choices[0].text).toBe('Partial');
    expect(result?.truncated).toBe(false);
  });

  it('recognises a stream whose first event is the error', () => {
    const { result } = decode(sse([{ error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } }]));
    expect(result).toMatchObject({ provider: 'openai', api: 'chat.completions', error: { type: 'requests', message: 'Rate limit reached' }, choices: [] });
  });

  it('is complete without [DONE] once every choice has finished (chunks relayed as NDJSON)', () => {
    const f = fixture('openai-chat-tool-calls-parallel');
    const lines = f.bytes
      .toString('utf8')
      .split('\n\n')
      .filter((e) => e.startsWith('data: {'))
      .map((e) => e.slice(6))
      .join('\n');
    const { result, acc } = decode(lines + '\n', 'ndjson');
    expect(result).toEqual({ ...expectedResult(f) });
    expect(acc.chunks).toBe(f.wire.dataEvents);
    expect(acc.firstContentChunk).toBe(f.wire.ttftEventIndex);
  });
});

describe('OpenAI Responses decoder', () => {
  const base = { id: 'resp_1', object: 'response', model: 'o4-mini-2025-04-16', status: 'in_progress', output: [], usage: null };

  it('collects function calls announced by output_item.added, with argument deltas', () => {
    const body = sse(
      [
        { type: 'response.created', response: base, sequence_number: 0 },
        { type: 'response.output_item.added', output_index: 0, item: { id: 'rs_1', type: 'reasoning', summary: [] } },
        { type: 'response.reasoning_summary_text.delta', output_index: 0, delta: 'Thinking about weather' },
        { type: 'response.output_item.added', output_index: 1, item: { id: 'fc_1', type: 'function_call', status: 'in_progress', arguments: '', call_id: 'call_A', name: 'get_weather' } },
        { type: 'response.function_call_arguments.delta', item_id: 'fc_1', output_index: 1, delta: '{"location":' },
        { type: 'response.function_call_arguments.delta', item_id: 'fc_1', output_index: 1, delta: '"Zürich"}' },
        { type: 'response.function_call_arguments.done', item_id: 'fc_1', output_index: 1, arguments: '{"location":"Zürich"}' },
        { type: 'response.output_item.added', output_index: 2, item: { id: 'fc_2', type: 'function_call', arguments: '', call_id: 'call_B', name: 'get_time' } },
        { type: 'response.function_call_arguments.done', item_id: 'fc_2', output_index: 2, arguments: '{"tz":"Europe/Zurich"}' },
        {
          type: 'response.completed',
          response: { ...base, status: 'completed', usage: { input_tokens: 50, input_tokens_details: { cached_tokens: 0 }, output_tokens: 80, output_tokens_details: { reasoning_tokens: 64 }, total_tokens: 130 } },
        },
      ],
      true,
    );
    const { result, acc } = decode(body);
    expect(result).toEqual({
      provider: 'openai',
      api: 'responses',
      id: 'resp_1',
      model: 'o4-mini-2025-04-16',
      choices: [
        {
          index: 0,
          text: null,
          refusal: null,
          toolCalls: [
            { id: 'call_A', name: 'get_weather', arguments: '{"location":"Zürich"}' },
            { id: 'call_B', name: 'get_time', arguments: '{"tz":"Europe/Zurich"}' },
          ],
          finishReason: 'completed',
        },
      ],
      usage: { input: 50, output: 80, cached: 0, reasoning: 64 },
      truncated: false,
    });
    expect(acc.firstContentChunk).toBe(3); // the reasoning summary is not generated output
  });

  it('marks response.incomplete with its status and usage', () => {
    const body = sse(
      [
        { type: 'response.created', response: base },
        { type: 'response.output_text.delta', output_index: 0, content_index: 0, delta: 'Long answer' },
        { type: 'response.incomplete', response: { ...base, status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, usage: { input_tokens: 5, output_tokens: 16 } } },
      ],
      true,
    );
    const { result } = decode(body);
    expect(result?.choices[0]).toMatchObject({ text: 'Long answer', finishReason: 'incomplete' });
    expect(result?.usage).toEqual({ input: 5, output: 16 });
    expect(result?.truncated).toBe(false);
  });

  it('records response.failed and error events as in-band errors', () => {
    const failed = sse(
      [
        { type: 'response.created', response: base },
        { type: 'response.failed', response: { ...base, status: 'failed', error: { code: 'server_error', message: 'Something went wrong' } } },
      ],
      true,
    );
    expect(decode(failed).result?.error).toEqual({ type: 'server_error', message: 'Something went wrong' });
    const errorEvent = sse([{ type: 'response.created', response: base }, { type: 'error', code: 'rate_limit_exceeded', message: 'Slow down', param: null }], true);
    expect(decode(errorEvent).result?.error).toEqual({ type: 'rate_limit_exceeded', message: 'Slow down' });
  });

  it('uses output_text.done only when no delta came', () => {
    const body = sse(
      [
        { type: 'response.created', response: base },
        { type: 'response.output_text.done', output_index: 0, content_index: 0, text: 'All at once' },
        { type: 'response.completed', response: { ...base, status: 'completed' } },
      ],
      true,
    );
    expect(decode(body).result?.choices[0].text).toBe('All at once');
  });
});

describe('Anthropic Messages decoder', () => {
  const start = {
    type: 'message_start',
    message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929', content: [], usage: { input_tokens: 20, cache_creation_input_tokens: 100, cache_read_input_tokens: 0, output_tokens: 1 } },
  };

  it('keeps thinking blocks out of the output text', () => {
    const body = sse(
      [
        start,
        { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } },
        { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Let me think. ' } },
        { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Done.' } },
        { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'EqQBCgIYAhIM' } },
        { type: 'content_block_stop', index: 0 },
        { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
        { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'The answer is 4.' } },
        { type: 'content_block_stop', index: 1 },
        { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 90 } },
        { type: 'message_stop' },
      ],
      true,
    );
    const { result, acc } = decode(body);
    expect(result?.choices).toEqual([{ index: 0, text: 'The answer is 4.', refusal: null, toolCalls: [], finishReason: 'end_turn' }]);
    expect(result?.usage).toEqual({ input: 120, output: 90, cached: 0, cacheCreation: 100 });
    expect(acc.firstContentChunk).toBe(7);
    expect(acc.attributes()['gen_ai.usage.cache_write.input_tokens']).toBe(100);
  });

  it('records overloaded_error mid-stream and keeps what came before', () => {
    const body = sse(
      [
        start,
        { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hel' } },
        { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
      ],
      true,
    );
    const { result } = decode(body);
    expect(result?.error).toEqual({ type: 'overloaded_error', message: 'Overloaded' });
    expect(result?.choices[0].text).toBe('Hel');
    expect(result?.usage).toEqual({ input: 120, cached: 0, cacheCreation: 100 }); // no output count yet
  });

  it('recognises a stream that is only an error event', () => {
    const { result } = decode('event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n');
    expect(result).toMatchObject({ provider: 'anthropic', api: 'messages', error: { type: 'overloaded_error' }, choices: [], truncated: false });
  });

  it('decodes Anthropic events relayed as NDJSON', () => {
    const f = fixture('anthropic-tool-use');
    const lines = f.bytes
      .toString('utf8')
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => l.slice(6))
      .join('\r\n');
    const { result } = decode(lines, 'ndjson');
    expect(result).toEqual(expectedResult(f));
  });
});

describe('stream recognition', () => {
  it('reports no LLM result for a stream that is not one', () => {
    const { result, acc } = decode(sse([{ type: 'progress', pct: 10 }, { hello: 'world' }, 'plain text']));
    expect(result).toBeUndefined();
    expect(acc.chunks).toBe(3);
    expect(acc.nonJsonEvents).toBe(1);
    expect(Object.keys(acc.attributes()).filter((k) => k.startsWith('gen_ai.'))).toEqual([]);
  });
});
