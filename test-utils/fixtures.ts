/**
 * The recorded LLM streams of test-utils/fixtures/llm-streams, the ways tests re-chunk them, and the
 * check that a span's attributes reconstruct what the official SDKs reconstructed (expected.json).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SpanData } from '@tracewire/core';

export const FIXTURE_DIR = join(__dirname, 'fixtures', 'llm-streams');

export interface ExpectedChoice {
  index: number;
  text: string | null;
  refusal?: string | null;
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  finishReason: string | null;
}
export interface Fixture {
  name: string;
  bytes: Buffer;
  contentType: string;
  headers: Record<string, string>;
  expected: {
    /** null: the provider sends none (Ollama, transcriptions). */
    id: string | null;
    model: string | null;
    choices: ExpectedChoice[];
    usage: { input: number; output: number; cached?: number; cacheCreation?: number; reasoning?: number };
  };
  /** `events`: SSE events (`sseEvents`) or NDJSON lines (`ndjsonLines`); `format` defaults to sse. */
  wire: { format: 'sse' | 'ndjson'; events: number; sseEvents?: number; ndjsonLines?: number; ttftEventIndex: number };
}

export function loadFixtures(): Fixture[] {
  const index = JSON.parse(readFileSync(join(FIXTURE_DIR, 'expected.json'), 'utf8')).fixtures as Record<string, any>;
  return Object.entries(index).map(([name, f]) => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries((f.responseHeaders ?? {}) as Record<string, string>)) headers[k.toLowerCase()] = String(v);
    return {
      name,
      bytes: readFileSync(join(FIXTURE_DIR, f.file)),
      contentType: headers['content-type'] ?? 'text/event-stream',
      headers,
      expected: f.expected,
      wire: { ...f.wire, format: f.wire.format ?? 'sse', events: f.wire.sseEvents ?? f.wire.ndjsonLines },
    };
  });
}

/** A small deterministic PRNG, so a failing random split can be reproduced from its seed. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function splitAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of [...new Set(cuts)].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b)) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  out.push(bytes.subarray(prev));
  return out;
}

/** Offsets that fall inside a multi-byte UTF-8 character (after its lead byte). */
export function insideMultibyte(bytes: Buffer): number[] {
  const cuts: number[] = [];
  for (let i = 0; i < bytes.length; i++) if ((bytes[i] & 0xc0) === 0x80) cuts.push(i);
  return cuts;
}

/** The re-chunkings every replay runs: whole, 1-byte pieces, random boundaries, inside characters. */
export function chunkings(bytes: Buffer, seeds = [1, 2, 3]): Array<[string, Buffer[]]> {
  const modes: Array<[string, Buffer[]]> = [
    ['whole', [bytes]],
    ['1-byte pieces', splitAt(bytes, Array.from({ length: bytes.length }, (_, i) => i))],
  ];
  for (const seed of seeds) {
    const rnd = seeded(seed);
    const cuts: number[] = [];
    for (let at = 0; at < bytes.length; at += 1 + Math.floor(rnd() * 200)) cuts.push(at);
    modes.push([`random boundaries (seed ${seed})`, splitAt(bytes, cuts)]);
  }
  const mb = insideMultibyte(bytes);
  // Splitting at every continuation byte is the worst case for per-chunk decoding; when a fixture
  // has no multi-byte characters, split after every line end instead (CR/LF boundaries).
  modes.push(['inside every multi-byte character', splitAt(bytes, mb.length ? mb : [...bytes.keys()].filter((i) => bytes[i] === 0x0a || bytes[i] === 0x0d))]);
  return modes;
}

/** The assistant text and tool calls a span recorded (needs captureContent). */
function outputOf(span: SpanData): Array<{ text: string | null; toolCalls: Array<{ id: string; name: string; arguments: unknown }> }> {
  const raw = span.attributes['gen_ai.output.messages'];
  if (typeof raw !== 'string') throw new Error(`span ${span.name} has no gen_ai.output.messages`);
  const messages = JSON.parse(raw) as Array<{ parts: Array<Record<string, any>> }>;
  return messages.map((m) => {
    const texts = m.parts.filter((p) => p.type === 'text').map((p) => p.content as string);
    return {
      text: texts.length ? texts.join('') : null,
      toolCalls: m.parts.filter((p) => p.type === 'tool_call').map((p) => ({ id: p.id, name: p.name, arguments: p.arguments })),
    };
  });
}

function parsedArgs(args: string): unknown {
  try {
    return JSON.parse(args);
  } catch {
    return args;
  }
}

/** Asserts (jest expect) that `span` carries the reconstruction of `fixture`. */
export function expectReconstruction(span: SpanData, fixture: Fixture): void {
  const a = span.attributes;
  const e = fixture.expected;
  // What the provider does not send is absent, never made up.
  expect(a['gen_ai.response.id']).toBe(e.id ?? undefined);
  expect(a['gen_ai.response.model']).toBe(e.model ?? undefined);
  const reasons = e.choices.map((c) => c.finishReason).filter((r) => r !== null);
  expect(a['gen_ai.response.finish_reasons']).toEqual(reasons.length > 0 ? reasons : undefined);
  expect(a['gen_ai.usage.input_tokens']).toBe(e.usage.input);
  expect(a['gen_ai.usage.output_tokens']).toBe(e.usage.output);
  if (e.usage.cached) expect(a['gen_ai.usage.cache_read.input_tokens']).toBe(e.usage.cached);
  if (e.usage.reasoning) expect(a['gen_ai.usage.reasoning.output_tokens']).toBe(e.usage.reasoning);
  expect(typeof a['gen_ai.response.time_to_first_chunk']).toBe('number');
  const out = outputOf(span);
  expect(out.map((o) => o.text)).toEqual(e.choices.map((c) => c.text));
  expect(out.map((o) => o.toolCalls)).toEqual(
    e.choices.map((c) => c.toolCalls.map((t) => ({ id: t.id, name: t.name, arguments: parsedArgs(t.arguments) }))),
  );
}
