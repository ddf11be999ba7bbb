import fc from 'fast-check';
import { LLMStreamDecoder, createSSEParser } from '../../../src/stream';
import { loadFixtures } from '../helpers';

// The decoders handle canonical content deltas without JSON.parse. Whatever the input, the result
// must be exactly what the JSON.parse path gives: same LLM result, same per-event content flags,
// same count of non-JSON events.

function run(datas: string[], fastPaths: boolean): { result: unknown; flags: boolean[]; nonJson: number } {
  const d = new LLMStreamDecoder(32 * 1024, fastPaths);
  const flags = datas.map((x) => d.data(x));
  return { result: d.result(), flags, nonJson: d.nonJsonEvents };
}

function sseData(body: Buffer): string[] {
  const out: string[] = [];
  const p = createSSEParser((e) => out.push(e.data));
  p.write(body);
  p.end();
  return out;
}

function expectSame(datas: string[]): void {
  expect(run(datas, true)).toEqual(run(datas, false));
}

const fixtures = loadFixtures();
// Formats decoded through JSON.parse only: no fast path (Gemini, OpenAI transcriptions, and
// llama.cpp, whose chunks put their keys in another order than OpenAI's). NDJSON fixtures give no
// SSE events here.
const PARSED_ONLY: ReadonlySet<string> = new Set(['gemini-text-thoughts', 'openai-transcription-stream', 'llamacpp-usage-finish']);

describe('LLMStreamDecoder fast paths', () => {
  it.each(fixtures.map((f) => [f.name, f] as const))('decode %s exactly as JSON.parse does, mostly without it', (_name, f) => {
    const datas = sseData(f.bytes);
    expectSame(datas);
    const contentEvents = run(datas, false).flags.filter(Boolean).length;
    const spy = jest.spyOn(JSON, 'parse');
    try {
      run(datas, true);
      // Only the events that are not plain content deltas are parsed (start, finish, usage...);
      // a content string with escapes is decoded on its own.
      const whole = spy.mock.calls.filter(([arg]) => String(arg).startsWith('{')).length;
      if (PARSED_ONLY.has(f.name)) expect(whole).toBe(datas.filter((x) => x.startsWith('{')).length);
      else expect(whole).toBeLessThanOrEqual(datas.length - contentEvents + 2);
    } finally {
      spy.mockRestore();
    }
  });

  const text = fc.string({ unit: 'binary', maxLength: 12 });
  const chat = (index: number, s: string, tail: string) =>
    `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":${index},"delta":{"content":${JSON.stringify(s)}},"logprobs":null,"finish_reason":null}]${tail}}`;
  const chatTool = (index: number, tool: number, s: string, tail: string) =>
    `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":${index},"delta":{"tool_calls":[{"index":${tool},"function":{"arguments":${JSON.stringify(s)}}}]},"logprobs":null,"finish_reason":null}]${tail}}`;
  const anthropic = (index: number, s: string, json: boolean) =>
    json
      ? `{"type":"content_block_delta","index":${index},"delta":{"type":"input_json_delta","partial_json":${JSON.stringify(s)}}}`
      : `{"type":"content_block_delta","index":${index},"delta":{"type":"text_delta","text":${JSON.stringify(s)}}}`;
  const responses = (index: number, s: string, obf: boolean) =>
    `{"type":"response.output_text.delta","content_index":0,"delta":${JSON.stringify(s)},"item_id":"msg_1","logprobs":[],${obf ? '"obfuscation":"ab",' : ''}"output_index":${index},"sequence_number":5}`;

  /** A canonical event of each API, and the same with one character inserted, removed or replaced. */
  const mutated = (canonical: fc.Arbitrary<string>) =>
    fc.tuple(canonical, fc.nat(), fc.constantFrom('insert', 'remove', 'replace', 'none'), fc.constantFrom('"', '\\', '}', ']', ',', '0', 'x', '\n', ' ', '\u0001', 'ü', '{'))
      .map(([s, at, op, ch]) => {
        const i = at % (s.length + 1);
        if (op === 'insert') return s.slice(0, i) + ch + s.slice(i);
        if (op === 'remove') return s.slice(0, i) + s.slice(i + 1);
        if (op === 'replace') return s.slice(0, i) + ch + s.slice(i + 1);
        return s;
      });

  it('agrees with JSON.parse on Chat Completions chunks and their near misses (property)', () => {
    const first = chat(0, '', ',"usage":null');
    const event = fc
      .tuple(fc.nat({ max: 3 }), fc.nat({ max: 2 }), text, fc.constantFrom('', ',"usage":null', ',"usage":null,"obfuscation":"xYz"', ',"obfuscation":"a"', ',"usage":{"prompt_tokens":1}', ',"x":1'), fc.boolean(), fc.boolean())
      .map(([i, t, s, tail, tool, logprobs]) => {
        const e = tool ? chatTool(i, t, s, tail) : chat(i, s, tail);
        return logprobs ? e : e.replace(',"logprobs":null', '');
      });
    fc.assert(fc.property(fc.array(mutated(event), { maxLength: 8 }), (events) => expectSame([first, ...events])), { numRuns: 1000 });
  });

  const head = '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[';
  const finishChunk = (i: number, delta: string, reason: string, logprobs: boolean, tail: string) =>
    `${head}{"index":${i},"delta":${delta}${logprobs ? ',"logprobs":null' : ''},"finish_reason":${reason}}]${tail}}`;
  const usageChunk = (p: number, c: number, details: boolean, tail: string) =>
    `${head}],"usage":{"prompt_tokens":${p},"completion_tokens":${c},"total_tokens":${p + c}${details ? ',"prompt_tokens_details":{"cached_tokens":1},"completion_tokens_details":{"reasoning_tokens":2}' : ''}}${tail}}`;

  it('agrees with JSON.parse on Chat Completions role, finish and usage-only chunks and their near misses (property)', () => {
    const first = chat(0, '', ',"usage":null');
    const finish = fc
      .tuple(
        fc.nat({ max: 2 }),
        fc.constantFrom('{}', '{"role":"assistant"}', '{"role":"assistant","content":"Hi"}', '{"role":"assistant","content":null}', '{"content":"x"}'),
        fc.constantFrom('null', '"stop"', '"length"', '""', '"tool_calls"'),
        fc.boolean(),
        fc.constantFrom('', ',"usage":null', ',"obfuscation":"ab"'),
      )
      .map(([i, delta, reason, logprobs, tail]) => finishChunk(i, delta, reason, logprobs, tail));
    const usage = fc
      .tuple(fc.nat({ max: 99 }), fc.nat({ max: 99 }), fc.boolean(), fc.constantFrom('', ',"obfuscation":"xYz"', ',"obfuscation":""', ' '))
      .map(([p, c, details, tail]) => usageChunk(p, c, details, tail));
    fc.assert(fc.property(fc.array(mutated(fc.oneof(finish, usage)), { maxLength: 8 }), (events) => expectSame([first, ...events])), { numRuns: 1000 });
  });

  it('takes the first, content and finish chunks without JSON.parse and parses only the usage object of the last chunk', () => {
    const events = [
      chat(0, '', ''),
      chat(0, 'Hi', ''),
      finishChunk(0, '{}', '"stop"', true, ''),
      usageChunk(3, 1, true, ',"obfuscation":"xYz"'),
      '[DONE]',
    ];
    const spy = jest.spyOn(JSON, 'parse');
    try {
      const { result } = run(events, true);
      expect(spy.mock.calls.map(([arg]) => String(arg).slice(0, 16))).toEqual(['{"prompt_tokens"']);
      expect(result).toMatchObject({ id: 'chatcmpl-1', model: 'gpt-4o', choices: [{ text: 'Hi', finishReason: 'stop' }], usage: { input: 3, output: 1, cached: 1, reasoning: 2 }, truncated: false });
    } finally {
      spy.mockRestore();
    }
  });

  it('agrees with JSON.parse on first chunks of every shape and their near misses (property)', () => {
    // The first event picks the decoder: a canonical Chat Completions chunk is taken without
    // JSON.parse (top-level scalars, then one choice), anything else must come out the same.
    const value = fc.constantFrom('"chatcmpl-1"', '""', '"gpt-4o"', '"chat.completion.chunk"', '"response.created"', '1', '-0.5e3', '1.', 'null', 'true', 'false', '"a{b"', '"[x"', '01', '"\\u0041"', '{}', '[]', '{"message":"x"}');
    const key = fc.constantFrom('id', 'model', 'object', 'created', 'system_fingerprint', 'service_tier', 'usage', 'error', 'type', 'choices', 'prompt_filter_results', 'x_1', 'Model');
    const scalars = fc.array(fc.tuple(key, value), { maxLength: 6 }).map((ms) => ms.map(([k, v]) => `"${k}":${v},`).join(''));
    const choice = fc.constantFrom(
      '{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}',
      '{"index":1,"delta":{"content":"Hi"},"finish_reason":null}',
      '{"index":0,"delta":{"role":"assistant","content":"Hi \\"x\\""},"logprobs":null,"finish_reason":null}',
      '{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\"a"}}]},"finish_reason":null}',
      '{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]},"finish_reason":null}',
      '{"index":0,"delta":{},"finish_reason":"stop"}',
      '{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}',
      '{"index":0,"delta":{"content":"x","refusal":"no"},"finish_reason":null}',
    );
    const tail = fc.constantFrom('', ',"usage":null', ',"obfuscation":"ab"', ',"usage":{"prompt_tokens":1}', ',"id":"later"');
    const firstChunk = fc.tuple(scalars, fc.array(choice, { minLength: 0, maxLength: 2 }), tail).map(([s, cs, t]) => `{${s}"choices":[${cs.join(',')}]${t}}`);
    fc.assert(fc.property(mutated(firstChunk), fc.boolean(), (f, more) => expectSame(more ? [f, chat(0, 'Hi', ''), '[DONE]'] : [f])), { numRuns: 3000 });
  });

  it('takes a canonical first chunk of a recorded stream without JSON.parse', () => {
    const f = fixtures.find((x) => x.name === 'openai-chat-text-usage');
    expect(f).toBeDefined();
    const datas = sseData(f!.bytes);
    const spy = jest.spyOn(JSON, 'parse');
    try {
      run(datas.slice(0, 1), true);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
    expect(run(datas.slice(0, 1), true)).toEqual(run(datas.slice(0, 1), false));
  });

  it('agrees with JSON.parse on Anthropic deltas and their near misses (property)', () => {
    const first = '{"type":"message_start","message":{"id":"msg_1","model":"claude-haiku-4-5","usage":{"input_tokens":3}}}';
    const event = fc.tuple(fc.nat({ max: 3 }), text, fc.boolean()).map(([i, s, json]) => anthropic(i, s, json));
    fc.assert(fc.property(fc.array(mutated(event), { maxLength: 8 }), (events) => expectSame([first, ...events])), { numRuns: 1000 });
  });

  it('agrees with JSON.parse on Anthropic markers (ping, block stop, message stop) and their near misses (property)', () => {
    const first = '{"type":"message_start","message":{"id":"msg_1","model":"claude-haiku-4-5","usage":{"input_tokens":3}}}';
    const marker = fc.constantFrom('{"type":"ping"}', '{"type":"content_block_stop","index":0}', '{"type":"content_block_stop","index":12}', '{"type":"message_stop"}');
    fc.assert(fc.property(fc.array(mutated(fc.oneof(marker, fc.tuple(fc.nat({ max: 3 }), text).map(([i, s]) => anthropic(i, s, false)))), { maxLength: 8 }), (events) => expectSame([first, ...events])), { numRuns: 1000 });
  });

  it('agrees with JSON.parse on Responses text deltas and their near misses (property)', () => {
    const first = '{"type":"response.created","response":{"id":"resp_1","model":"gpt-4.1"}}';
    const event = fc.tuple(fc.nat({ max: 3 }), text, fc.boolean()).map(([i, s, obf]) => responses(i, s, obf));
    const done = '{"type":"response.output_text.done","output_index":1,"text":"whole"}';
    fc.assert(fc.property(fc.array(mutated(event), { maxLength: 8 }), (events) => expectSame([first, ...events, done])), { numRuns: 1000 });
  });

  it('does not take a chunk with a different prefix (another id) for the learnt one', () => {
    const a = chat(0, 'x', '').replace('chatcmpl-1', 'chatcmpl-A');
    const b = chat(0, 'y', '').replace('chatcmpl-1', 'chatcmpl-B');
    expectSame([a, b, a]);
    expect((run([a, b], true).result as { id: string }).id).toBe('chatcmpl-A');
  });
});

describe('LLMStreamDecoder data that is not JSON', () => {
  // JSON.parse is not called for data that cannot be JSON (a plain-text event stream would pay a
  // thrown SyntaxError per event), and the events counted as not JSON are exactly those JSON.parse
  // rejects.
  const parseFails = (x: string): boolean => {
    try {
      JSON.parse(x);
      return false;
    } catch {
      return true;
    }
  };

  it('counts as not JSON exactly what JSON.parse rejects', () => {
    const start = fc.constantFrom('', ' ', '\t', '\n', '\r', '\u00a0', '\ufeff', '{', '[', '"', '-', '0', '7', 't', 'f', 'n', 'true', 'false', 'null', 'x', 'T', ':', '}');
    const end = fc.constantFrom('', ' ', '\t\r\n', 'x', '}', ']', '"', 'e', 'l', 'ue', 'alse', 'ull', '\u00a0');
    const data = fc.tuple(start, fc.string({ maxLength: 6 }), end).map(([a, b, c]) => a + b + c);
    fc.assert(
      fc.property(fc.array(fc.oneof(data, start, fc.tuple(start, end).map(([a, c]) => a + c)), { maxLength: 12 }), (datas) => {
        const d = new LLMStreamDecoder(1024);
        for (const x of datas) d.data(x);
        expect(d.nonJsonEvents).toBe(datas.filter((x) => x !== '[DONE]' && parseFails(x)).length);
        expect(d.result()).toBeUndefined();
      }),
      { numRuns: 3000 },
    );
  });

  it('does not call JSON.parse for plain text, empty data or a word that is not a JSON literal', () => {
    const plain = ['line 1 of a plain-text feed', ' hello', '', '   ', 'tru', 'nullx', 'false!', 'True', 'data', ':)', '\ufeff{}'];
    const spy = jest.spyOn(JSON, 'parse');
    try {
      const d = new LLMStreamDecoder(1024);
      for (const x of plain) d.data(x);
      for (const x of ['true', ' null ', 'false\n']) d.data(x);
      expect(spy).not.toHaveBeenCalled();
      expect(d.nonJsonEvents).toBe(plain.length);
    } finally {
      spy.mockRestore();
    }
  });

  it('still parses what may be JSON: objects, arrays, strings and numbers', () => {
    const d = new LLMStreamDecoder(1024);
    for (const x of ['{"a":1}', '[1]', '"s"', '-1', '42', '{"broken', '12 apples']) d.data(x);
    expect(d.nonJsonEvents).toBe(2);
  });
});
