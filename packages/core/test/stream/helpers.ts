import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createStreamAccumulator } from '../../src/stream';
import type { StreamAccumulator, StreamAccumulatorOptions } from '../../src/stream';
import type { LLMResult } from '../../src/llm';

export const FIXTURES = join(__dirname, '../../../../test-utils/fixtures/llm-streams');

export interface Fixture {
  name: string;
  file: string;
  provider: string;
  api: string;
  request: Record<string, unknown>;
  expected: {
    id: string | null;
    model: string | null;
    choices: Array<{ index: number; text: string | null; refusal?: string | null; toolCalls: Array<{ id: string; name: string; arguments: string }>; finishReason: string | null }>;
    usage: Record<string, number>;
    error?: unknown;
  };
  /** SSE fixtures count `sseEvents`; NDJSON ones (`format: 'ndjson'`) count `ndjsonLines`. */
  wire: { bytes: number; lineEndings: string; format?: 'ndjson'; sseEvents?: number; ndjsonLines?: number; dataEvents: number; doneSentinel: boolean; ttftEventIndex: number };
  responseHeaders: Record<string, string>;
  bytes: Buffer;
}

export function loadFixtures(): Fixture[] {
  const index = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as { fixtures: Record<string, Omit<Fixture, 'name' | 'bytes'>> };
  return Object.entries(index.fixtures).map(([name, f]) => ({ ...f, name, bytes: readFileSync(join(FIXTURES, f.file)) }));
}

/**
 * What expected.json says, in LLMResult's terms: the SDK-only extras (`total`, `inputUncached`,
 * `thinking`, parsed tool `input`, `status`, `error: null`) are checked separately, not compared.
 */
export function expectedResult(f: Fixture): Pick<LLMResult, 'provider' | 'api' | 'id' | 'model' | 'choices' | 'usage' | 'truncated'> {
  const { total: _total, inputUncached: _uncached, ...usage } = f.expected.usage;
  return {
    provider: f.provider as LLMResult['provider'],
    api: f.api as LLMResult['api'],
    id: f.expected.id,
    model: f.expected.model,
    choices: f.expected.choices.map((c) => ({
      index: c.index,
      text: c.text,
      refusal: c.refusal ?? null,
      toolCalls: c.toolCalls.map((t) => ({ id: t.id, name: t.name, arguments: t.arguments })),
      finishReason: c.finishReason,
    })),
    usage,
    truncated: false,
  };
}

/** Seeded PRNG (mulberry32), so "random" splits are reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `bytes` cut at the given offsets (sorted, deduplicated, within range). */
export function splitAt(bytes: Buffer, offsets: number[]): Buffer[] {
  const cuts = [...new Set(offsets.filter((o) => o > 0 && o < bytes.length))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of cuts) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  out.push(bytes.subarray(prev));
  return out;
}

export function pieces(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

export function randomPieces(bytes: Buffer, seed: number, maxSize = 64): Buffer[] {
  const next = rng(seed);
  const out: Buffer[] = [];
  let i = 0;
  while (i < bytes.length) {
    const n = 1 + Math.floor(next() * maxSize);
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  return out;
}

/** `text` cut into pieces of 1 to `maxSize` UTF-16 units, never between the two halves of a surrogate pair. */
export function randomTextPieces(text: string, seed: number, maxSize = 64): string[] {
  const next = rng(seed);
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    let n = Math.min(text.length, i + 1 + Math.floor(next() * maxSize));
    const c = text.charCodeAt(n - 1);
    if (c >= 0xd800 && c <= 0xdbff && n < text.length) n++;
    out.push(text.slice(i, n));
    i = n;
  }
  return out;
}

/** Byte offsets strictly inside each multi-byte UTF-8 character of `bytes`. */
export function insideMultibyte(bytes: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    const len = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    for (let k = 1; k < len; k++) out.push(i + k);
    i += len - 1;
  }
  return out;
}

/** Feeds the chunks (copied, so a parser that kept a reference would be caught) and ends the stream. */
export function feed(chunks: Array<Buffer | string>, options: StreamAccumulatorOptions = {}, end = true): StreamAccumulator {
  const acc = createStreamAccumulator({ format: 'sse', ...options });
  for (const c of chunks) {
    if (typeof c === 'string') {
      acc.write(c);
    } else {
      const copy = Buffer.from(c);
      acc.write(copy);
      copy.fill(0x21); // the caller may reuse its buffer after write() returns
    }
  }
  if (end) acc.end();
  return acc;
}

/** An SSE body from event objects: `data: JSON\n\n` each (plus `event:` lines when `typed`). */
export function sse(events: Array<Record<string, unknown> | string>, typed = false): string {
  return events
    .map((e) => {
      if (typeof e === 'string') return `data: ${e}\n\n`;
      const head = typed && typeof e.type === 'string' ? `event: ${e.type}\n` : '';
      return `${head}data: ${JSON.stringify(e)}\n\n`;
    })
    .join('');
}
