import fc from 'fast-check';
import type { LLMResult } from '../../src/llm';
import { createStreamAccumulator } from '../../src/stream';
import { expectedResult, feed, insideMultibyte, loadFixtures, pieces, randomPieces, randomTextPieces, splitAt } from './helpers';
import type { Fixture } from './helpers';

// Every recorded stream must reconstruct to exactly what the official SDKs made of it
// (fixtures/llm-streams/expected.json), however the bytes are cut into chunks.

const fixtures = loadFixtures();

function core(r: LLMResult | undefined): unknown {
  if (r === undefined) return undefined;
  const { provider, api, id, model, choices, usage, truncated } = r;
  return { provider, api, id, model, choices, usage, truncated, error: r.error, contentTruncated: r.contentTruncated };
}

/** The format the fixture is parsed as: SSE, or NDJSON (Ollama's native API). */
const formatOf = (f: Fixture) => (f.wire.format === 'ndjson' ? 'ndjson' : 'sse');
/** SSE events or NDJSON lines. */
const eventsOf = (f: Fixture) => f.wire.sseEvents ?? f.wire.ndjsonLines;

function check(f: Fixture, chunks: Array<Buffer | string>): void {
  const acc = feed(chunks, { contentType: f.responseHeaders['content-type'], format: formatOf(f) });
  expect(core(acc.llm())).toEqual({ ...expectedResult(f), error: undefined, contentTruncated: undefined });
  expect(acc.chunks).toBe(eventsOf(f));
  expect(acc.bytes).toBe(f.wire.bytes);
  expect(acc.firstContentChunk).toBe(f.wire.ttftEventIndex);
  expect(acc.nonJsonEvents).toBe(0);
}

describe('createStreamAccumulator with the recorded provider streams', () => {
  it('has every fixture listed in expected.json on disk', () => {
    expect(fixtures.map((f) => f.name).sort()).toEqual([
      'anthropic-text',
      'anthropic-tool-use',
      'edge-openai-chat-crlf',
      'gemini-text-thoughts',
      'llamacpp-usage-finish',
      'lmstudio-usage-last',
      'ollama-chat',
      'ollama-generate',
      'ollama-openai-compat',
      'openai-chat-text-usage',
      'openai-chat-tool-calls-parallel',
      'openai-responses-text',
      'openai-transcription-stream',
      'vllm-usage-last',
    ]);
    for (const f of fixtures) expect(f.bytes.length).toBe(f.wire.bytes);
  });

  describe.each(fixtures.map((f) => [f.name, f] as const))('%s', (_name, f) => {
    it('reconstructs the response when fed whole', () => {
      check(f, [f.bytes]);
    });

    it('reconstructs it from 1-byte pieces', () => {
      check(f, pieces(f.bytes, 1));
    });

    it('reconstructs it from random pieces (10 seeds)', () => {
      for (let seed = 1; seed <= 10; seed++) check(f, randomPieces(f.bytes, seed * 7919));
    });

    it('reconstructs it from arbitrary split points (property)', () => {
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 1, max: f.bytes.length - 1 }), { maxLength: 40 }), (offsets) => {
          check(f, splitAt(f.bytes, offsets));
        }),
        { numRuns: 40 },
      );
    });

    it('reconstructs it when split inside every multi-byte character, one split at a time and all at once', () => {
      const inside = insideMultibyte(f.bytes);
      // The fixtures with non-ASCII text (Zürich) must really exercise this.
      expect(inside.length > 0).toBe(f.bytes.some((b) => b >= 0x80));
      for (const offset of inside) check(f, splitAt(f.bytes, [offset]));
      check(f, splitAt(f.bytes, inside));
    });

    it('reconstructs it when written as UTF-8 strings, whole and in random pieces', () => {
      // What a server writing text (`res.write(string)`) hands the tap: read as text, never re-encoded.
      const text = f.bytes.toString('utf8');
      check(f, [text]);
      for (let seed = 1; seed <= 5; seed++) check(f, randomTextPieces(text, seed * 7919));
    });

    it('reconstructs it when written as strings', () => {
      // A relay that decoded the body itself writes strings; the accumulator re-encodes them.
      const acc = createStreamAccumulator({ contentType: f.responseHeaders['content-type'] });
      for (const p of randomPieces(f.bytes, 42, 200)) acc.write(p.toString('latin1'), 'latin1');
      acc.end();
      expect(core(acc.llm())).toEqual({ ...expectedResult(f), error: undefined, contentTruncated: undefined });
    });

    it('agrees with the SDK totals (usage.input includes cached and cache-write tokens)', () => {
      const u = f.expected.usage;
      const r = feed([f.bytes], { format: formatOf(f) }).llm() as LLMResult;
      expect((r.usage.input ?? 0) + (r.usage.output ?? 0)).toBe(u.total);
      if (u.inputUncached !== undefined) {
        expect((r.usage.input ?? 0) - (r.usage.cached ?? 0) - (r.usage.cacheCreation ?? 0)).toBe(u.inputUncached);
      }
    });
  });

  it('counts [DONE] as an SSE event but not as a data (JSON) event', () => {
    for (const f of fixtures) {
      const acc = feed([f.bytes], { format: formatOf(f) });
      expect(acc.chunks - (f.wire.doneSentinel ? 1 : 0)).toBe(f.wire.dataEvents);
    }
  });

  it('parses Anthropic tool arguments to the same input the SDK reports', () => {
    const f = fixtures.find((x) => x.name === 'anthropic-tool-use') as Fixture;
    const r = feed([f.bytes]).llm() as LLMResult;
    const sdk = (f.expected.choices[0].toolCalls as unknown as Array<{ input: unknown }>).map((t) => t.input);
    expect(r.choices[0].toolCalls.map((t) => JSON.parse(t.arguments))).toEqual(sdk);
  });
});
