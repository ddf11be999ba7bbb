import { decodeLLMResponseBody } from '../../src/stream';

describe('decodeLLMResponseBody', () => {
  it('reads an OpenAI chat.completion with tool calls and usage', () => {
    expect(
      decodeLLMResponseBody({
        id: 'chatcmpl-1',
        object: 'chat.completion',
        model: 'gpt-4.1-2025-04-14',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: null, refusal: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }] },
            finish_reason: 'tool_calls',
          },
        ],
        usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120, prompt_tokens_details: { cached_tokens: 64 }, completion_tokens_details: { reasoning_tokens: 0 } },
      }),
    ).toEqual({
      provider: 'openai',
      api: 'chat.completions',
      id: 'chatcmpl-1',
      model: 'gpt-4.1-2025-04-14',
      choices: [{ index: 0, text: null, refusal: null, toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"location":"Paris"}' }], finishReason: 'tool_calls' }],
      usage: { input: 100, output: 20, cached: 64, reasoning: 0 },
      truncated: false,
    });
  });

  it('reads a Responses response object', () => {
    expect(
      decodeLLMResponseBody({
        id: 'resp_1',
        object: 'response',
        status: 'completed',
        model: 'gpt-4.1-mini-2025-04-14',
        error: null,
        output: [
          { type: 'reasoning', id: 'rs_1', summary: [] },
          { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Hello', annotations: [] }] },
          { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'f', arguments: '{}' },
        ],
        usage: { input_tokens: 10, input_tokens_details: { cached_tokens: 0 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 2 } },
      }),
    ).toEqual({
      provider: 'openai',
      api: 'responses',
      id: 'resp_1',
      model: 'gpt-4.1-mini-2025-04-14',
      choices: [{ index: 0, text: 'Hello', refusal: null, toolCalls: [{ id: 'call_1', name: 'f', arguments: '{}' }], finishReason: 'completed' }],
      usage: { input: 10, output: 5, cached: 0, reasoning: 2 },
      truncated: false,
    });
  });

  it('reads an Anthropic message, adding cache tokens into the input and leaving thinking out', () => {
    expect(
      decodeLLMResponseBody({
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5-20250929',
        content: [
          { type: 'thinking', thinking: 'secret', signature: 's' },
          { type: 'text', text: 'Sure.' },
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'Paris' } },
        ],
        stop_reason: 'tool_use',
        usage: { input_tokens: 10, cache_creation_input_tokens: 20, cache_read_input_tokens: 30, output_tokens: 40 },
      }),
    ).toEqual({
      provider: 'anthropic',
      api: 'messages',
      id: 'msg_1',
      model: 'claude-sonnet-4-5-20250929',
      choices: [{ index: 0, text: 'Sure.', refusal: null, toolCalls: [{ id: 'toolu_1', name: 'get_weather', arguments: '{"location":"Paris"}' }], finishReason: 'tool_use' }],
      usage: { input: 60, output: 40, cached: 30, cacheCreation: 20 },
      truncated: false,
    });
  });

  it('reads an Anthropic error body', () => {
    expect(decodeLLMResponseBody({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })).toMatchObject({
      provider: 'anthropic',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    });
  });

  it('gives undefined for anything else, never throwing', () => {
    for (const body of [null, 'text', 42, [], {}, { choices: 'x' }, { object: 'list', data: [] }]) expect(decodeLLMResponseBody(body)).toBeUndefined();
  });
});
