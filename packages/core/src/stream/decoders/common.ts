/**
 * Pieces shared by the stream decoders: a byte budget for captured text (so memory stays bounded
 * however long the stream), and builders that collect text fragments in arrays and join them once.
 */
import type { LLMApi, LLMChoice, LLMError, LLMProvider, LLMResult, LLMToolCall, LLMUsage } from '../../llm/types';

/** Most choices (OpenAI `n`) and tool calls per choice kept from one response. */
export const MAX_CHOICES = 128;
export const MAX_TOOL_CALLS = 128;

/** Cuts `s` to at most `maxBytes` of UTF-8, never inside a character. */
export function truncateUtf8(s: string, maxBytes: number): string {
  if (maxBytes <= 0) return '';
  if (s.length * 3 <= maxBytes) return s;
  const buf = Buffer.from(s, 'utf8');
  if (buf.length <= maxBytes) return s;
  let cut = maxBytes;
  // Back up to the start of the character the cut falls in (continuation bytes are 10xxxxxx).
  while (cut > 0 && (buf[cut] & 0xc0) === 0x80) cut--;
  return buf.toString('utf8', 0, cut);
}

/** The captured-text allowance of one response, shared by text, refusals and tool arguments. */
export class TextBudget {
  remaining: number;
  capped = false;
  constructor(readonly limit: number) {
    this.remaining = limit;
  }
  /** What of `s` fits; '' once the budget is spent. */
  take(s: string): string {
    if (this.remaining <= 0) {
      this.capped = true;
      return '';
    }
    // Cheap bound first: a UTF-16 unit is at most 3 UTF-8 bytes.
    if (s.length * 3 <= this.remaining) {
      this.remaining -= Buffer.byteLength(s, 'utf8');
      return s;
    }
    const n = Buffer.byteLength(s, 'utf8');
    if (n <= this.remaining) {
      this.remaining -= n;
      return s;
    }
    const cut = truncateUtf8(s, this.remaining);
    this.remaining = 0;
    this.capped = true;
    return cut;
  }
  get used(): number {
    return this.limit - this.remaining;
  }
}

export class ToolCallBuilder {
  id = '';
  name = '';
  args: string[] = [];
  /** Complete arguments given at once (`.done` events, Anthropic's initial `input`), used when no fragments came. */
  whole: string | undefined = undefined;
  build(): LLMToolCall {
    const args = this.args.length > 0 ? this.args.join('') : (this.whole ?? '');
    return { id: this.id, name: this.name, arguments: args };
  }
}

export class ChoiceBuilder {
  text: string[] | null = null;
  refusal: string[] | null = null;
  /** Keyed by the provider's tool index / block index / output index, built in key order. */
  tools = new Map<number, ToolCallBuilder>();
  finishReason: string | null = null;
  constructor(readonly index: number) {}

  addText(budget: TextBudget, s: string): void {
    if (this.text === null) this.text = [];
    const kept = budget.take(s);
    if (kept !== '') this.text.push(kept);
  }
  addRefusal(budget: TextBudget, s: string): void {
    if (this.refusal === null) this.refusal = [];
    const kept = budget.take(s);
    if (kept !== '') this.refusal.push(kept);
  }
  tool(key: number): ToolCallBuilder | undefined {
    let t = this.tools.get(key);
    if (t === undefined) {
      if (this.tools.size >= MAX_TOOL_CALLS) return undefined;
      t = new ToolCallBuilder();
      this.tools.set(key, t);
    }
    return t;
  }
  build(): LLMChoice {
    const keys = [...this.tools.keys()].sort((a, b) => a - b);
    return {
      index: this.index,
      text: this.text === null ? null : this.text.join(''),
      refusal: this.refusal === null ? null : this.refusal.join(''),
      toolCalls: keys.map((k) => (this.tools.get(k) as ToolCallBuilder).build()),
      finishReason: this.finishReason,
    };
  }
}

/** A decoder of one provider's stream events, fed parsed JSON objects. */
export abstract class StreamDecoder {
  abstract readonly provider: LLMProvider;
  abstract readonly api: LLMApi;
  id: string | null = null;
  model: string | null = null;
  usage: LLMUsage = {};
  error: LLMError | undefined = undefined;
  /** The provider's terminal event (or an error) was seen. */
  complete = false;
  protected readonly choices = new Map<number, ChoiceBuilder>();

  constructor(protected readonly budget: TextBudget) {}

  /**
   * Handles one event (`raw` is its text); returns true when it carried generated content (text,
   * refusal, tool call).
   */
  abstract event(json: any, raw: string): boolean;

  /**
   * Handles the event from its text without `JSON.parse` when it has exactly the canonical shape of
   * a content delta (the bulk of every stream); undefined when it does not, and `event()` must run.
   * A fast path accepts only text it has fully validated as JSON, with the same effect as `event()`.
   */
  fast(_raw: string): boolean | undefined {
    return undefined;
  }

  /** `data: [DONE]` (OpenAI Chat Completions). */
  done(): void {
    // Only Chat Completions ends this way.
  }

  protected choice(index: number): ChoiceBuilder | undefined {
    let c = this.choices.get(index);
    if (c === undefined) {
      if (this.choices.size >= MAX_CHOICES) return undefined;
      c = new ChoiceBuilder(index);
      this.choices.set(index, c);
    }
    return c;
  }

  protected isComplete(): boolean {
    return this.complete;
  }

  result(): LLMResult {
    const keys = [...this.choices.keys()].sort((a, b) => a - b);
    const result: LLMResult = {
      provider: this.provider,
      api: this.api,
      id: this.id,
      model: this.model,
      choices: keys.map((k) => (this.choices.get(k) as ChoiceBuilder).build()),
      usage: { ...this.usage },
      truncated: !this.isComplete(),
    };
    if (this.error !== undefined) result.error = { ...this.error };
    if (this.budget.capped) result.contentTruncated = true;
    return result;
  }
}

/** A non-empty string, or undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** A finite non-negative count, or undefined. */
export function count(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

/** An in-band error object (`{ type?, code?, message? }`) as `{ type, message }`. */
export function toError(e: any, fallbackType: string): LLMError {
  const type = str(e?.type) ?? str(e?.code) ?? (typeof e?.code === 'number' ? String(e.code) : undefined) ?? fallbackType;
  const message = typeof e?.message === 'string' ? e.message : '';
  return { type, message };
}

/** Where a fast-path read stopped. */
export interface Cursor {
  end: number;
}

/**
 * Reads the JSON string whose opening quote is just before `start`: its decoded value, with
 * `cursor.end` at the closing quote; undefined when it is not valid JSON (a raw control character,
 * a bad escape) or does not end.
 */
export function readJsonString(s: string, start: number, cursor: Cursor): string | undefined {
  let escaped = false;
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) {
      cursor.end = i;
      if (!escaped) return s.slice(start, i);
      try {
        const v: unknown = JSON.parse(s.slice(start - 1, i + 1));
        return typeof v === 'string' ? v : undefined;
      } catch {
        return undefined;
      }
    }
    if (c === 0x5c) {
      escaped = true;
      i++;
    } else if (c < 0x20) {
      return undefined;
    }
  }
  return undefined;
}

/** End of a plain JSON string (no escapes) starting at `start`: its closing quote, or -1. */
export function plainStringEnd(s: string, start: number): number {
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) return i;
    if (c === 0x5c || c < 0x20) return -1;
  }
  return -1;
}

/** Index just past a JSON non-negative integer at `start` (no leading zeros, ≤ 9 digits), or -1. */
export function jsonIntEnd(s: string, start: number): number {
  let i = start;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    i++;
  }
  const n = i - start;
  if (n === 0 || n > 9 || (n > 1 && s.charCodeAt(start) === 0x30)) return -1;
  return i;
}
