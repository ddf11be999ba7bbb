import fc from 'fast-check';
import { messagesJson, toInputMessages, toOutputMessages } from '../../src/llm';
import type { GenAIMessage, LLMResult } from '../../src/llm';

// Schemas: docs/gen-ai/gen-ai-input-messages.json and gen-ai-output-messages.json of the
// OpenTelemetry GenAI semantic conventions.

describe('toInputMessages', () => {
  it('converts an OpenAI Chat Completions conversation with tool calls and results', () => {
    expect(
      toInputMessages({
        model: 'gpt-4.1',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: [{ type: 'text', text: 'Weather?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] },
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }] },
          { role: 'tool', tool_call_id: 'call_1', content: 'rainy, 57°F' },
        ],
      }),
    ).toEqual([
      { role: 'system', parts: [{ type: 'text', content: 'Be brief.' }] },
      { role: 'user', parts: [{ type: 'text', content: 'Weather?' }, { type: 'image_url' }] },
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_1', name: 'get_weather', arguments: { location: 'Paris' } }] },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_1', response: 'rainy, 57°F' }] },
    ]);
  });

  it('converts an Anthropic request with a system prompt, tool_use and tool_result blocks', () => {
    expect(
      toInputMessages({
        system: 'You are terse.',
        messages: [
          { role: 'user', content: 'Weather?' },
          { role: 'assistant', content: [{ type: 'thinking', thinking: 'hmm' }, { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'Paris' } }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'rainy' }] }] },
        ],
      }),
    ).toEqual([
      { role: 'system', parts: [{ type: 'text', content: 'You are terse.' }] },
      { role: 'user', parts: [{ type: 'text', content: 'Weather?' }] },
      { role: 'assistant', parts: [{ type: 'reasoning', content: 'hmm' }, { type: 'tool_call', id: 'toolu_1', name: 'get_weather', arguments: { location: 'Paris' } }] },
      { role: 'user', parts: [{ type: 'tool_call_response', id: 'toolu_1', response: 'rainy' }] },
    ]);
  });

  it('converts Responses input: a string, or items with function calls and outputs', () => {
    expect(toInputMessages({ input: 'Hi', instructions: 'Be kind.' })).toEqual([
      { role: 'system', parts: [{ type: 'text', content: 'Be kind.' }] },
      { role: 'user', parts: [{ type: 'text', content: 'Hi' }] },
    ]);
    expect(
      toInputMessages([
        { role: 'user', content: [{ type: 'input_text', text: 'Weather?' }] },
        { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { type: 'function_call_output', call_id: 'call_1', output: 'rainy' },
      ]),
    ).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'Weather?' }] },
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }] },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_1', response: 'rainy' }] },
    ]);
  });

  it('gives undefined for nothing usable', () => {
    expect(toInputMessages(undefined)).toBeUndefined();
    expect(toInputMessages(42)).toBeUndefined();
  });
});

describe('toOutputMessages', () => {
  const result = (finishReason: string | null, extra: Partial<LLMResult['choices'][0]> = {}): LLMResult => ({
    provider: 'openai',
    api: 'chat.completions',
    id: 'x',
    model: 'm',
    choices: [{ index: 0, text: 'Hi', refusal: null, toolCalls: [], finishReason, ...extra }],
    usage: {},
    truncated: finishReason === null,
  });

  it('maps provider finish reasons to the convention’s values', () => {
    const reasons = ['stop', 'end_turn', 'completed', 'length', 'max_tokens', 'tool_calls', 'tool_use', 'content_filter', 'something_new', null];
    expect(reasons.map((r) => toOutputMessages(result(r))[0].finish_reason)).toEqual(['stop', 'stop', 'stop', 'length', 'length', 'tool_call', 'tool_call', 'content_filter', 'something_new', 'error']);
  });

  it('keeps tool arguments that are not complete JSON as text', () => {
    const out = toOutputMessages(result('tool_calls', { text: null, toolCalls: [{ id: 'c', name: 'f', arguments: '{"a": "unfinish' }] }));
    expect(out[0].parts).toEqual([{ type: 'tool_call', id: 'c', name: 'f', arguments: '{"a": "unfinish' }]);
  });
});

describe('messagesJson', () => {
  const long = (n: number): GenAIMessage[] => [
    { role: 'user', parts: [{ type: 'text', content: 'ü'.repeat(n) }] },
    { role: 'assistant', parts: [{ type: 'tool_call', id: 'c', name: 'f', arguments: { q: '"quoted"\n'.repeat(n) } }] },
  ];

  it('returns the plain JSON when it fits', () => {
    expect(messagesJson(long(3), 10_000, true)).toBe(JSON.stringify(long(3)));
  });

  it('cuts content to fit the byte cap and stays valid JSON', () => {
    const s = messagesJson(long(5000), 500, true);
    expect(Buffer.byteLength(s)).toBeLessThanOrEqual(500);
    const parsed = JSON.parse(s);
    expect(parsed[0].parts[0].content).toMatch(/^ü+$/);
    expect(Buffer.byteLength(s)).toBeGreaterThan(450);
  });

  it('leaves out the oldest input messages, or the last output messages, when even the structure is too big', () => {
    const many: GenAIMessage[] = Array.from({ length: 100 }, (_, i) => ({ role: 'user', parts: [{ type: 'text', content: `m${i}` }] }));
    const input = JSON.parse(messagesJson(many, 300, true));
    expect(input[input.length - 1].parts[0].content).toBe('m99');
    const output = JSON.parse(messagesJson(many, 300, false));
    expect(output[0].parts[0].content).toBe('m0');
  });

  it('always fits the cap with valid JSON (property)', () => {
    const part = fc.oneof(
      fc.record({ type: fc.constant('text'), content: fc.string({ unit: 'binary', maxLength: 300 }) }),
      fc.record({ type: fc.constant('tool_call'), id: fc.string(), name: fc.string(), arguments: fc.jsonValue() }),
    );
    const message = fc.record({ role: fc.constantFrom('user', 'assistant'), parts: fc.array(part, { maxLength: 4 }) });
    fc.assert(
      fc.property(fc.array(message, { maxLength: 6 }), fc.integer({ min: 2, max: 2000 }), fc.boolean(), (messages, cap, oldest) => {
        const s = messagesJson(messages as GenAIMessage[], cap, oldest);
        expect(Buffer.byteLength(s)).toBeLessThanOrEqual(Math.max(cap, 2));
        expect(() => JSON.parse(s)).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });
});
