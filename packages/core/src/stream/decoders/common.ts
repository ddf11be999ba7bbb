/**
 * Pieces shared by the stream decoders: a byte budget for captured text (so memory stays bounded
 * however long the stream), and builders that collect text fragments in arrays and join them once.
 */
import type { LLMApi, LLMChoice, LLMError, LLMProvider, LLMResult, LLMToolCall, LLMUsage } from '../../llm/types';
import { detach, utf8Length } from '../lines';

/** Where OpenAI's usage objects keep each count: Chat Completions and the Responses API name them apart. */
export interface OpenAIUsageNames {
  input: string;
  output: string;
  inputDetails: string;
  outputDetails: string;
}
export const CHAT_USAGE: OpenAIUsageNames = { input: 'prompt_tokens', output: 'completion_tokens', inputDetails: 'prompt_tokens_details', outputDetails: 'completion_tokens_details' };
export const RESPONSES_USAGE: OpenAIUsageNames = { input: 'input_tokens', output: 'output_tokens', inputDetails: 'input_tokens_details', outputDetails: 'output_tokens_details' };

/** An OpenAI usage object (chunk or whole response) in Tracewire's terms; counts it lacks are left out. */
export function openaiUsage(u: any, names: OpenAIUsageNames): LLMUsage {
  const out: LLMUsage = {};
  const input = count(u[names.input]);
  if (input !== undefined) out.input = input;
  const output = count(u[names.output]);
  if (output !== undefined) out.output = output;
  const cached = count(u[names.inputDetails]?.cached_tokens);
  if (cached !== undefined) out.cached = cached;
  const reasoning = count(u[names.outputDetails]?.reasoning_tokens);
  if (reasoning !== undefined) out.reasoning = reasoning;
  return out;
}

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
  /** What of `s` fits; '' once the budget is spent. `bytes`: its UTF-8 size, when the caller knows it. */
  take(s: string, bytes?: number): string {
    if (this.remaining <= 0) {
      this.capped = true;
      return '';
    }
    const n = bytes ?? utf8Length(s);
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

  addText(budget: TextBudget, s: string, bytes?: number): void {
    if (this.text === null) this.text = [];
    const kept = budget.take(s, bytes);
    if (kept !== '') this.text.push(kept);
  }
  /**
   * Whether text added now would be kept; when not, records what addText would (a text of this
   * choice, cut by the budget), so the caller need not make the string at all.
   */
  wantsText(budget: TextBudget): boolean {
    if (budget.remaining > 0) return true;
    if (this.text === null) this.text = [];
    budget.capped = true;
    return false;
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
  /** The choice; without `content`, its text, refusal and tool calls are left out (nothing is joined). */
  build(content: boolean): LLMChoice {
    if (!content) return { index: this.index, text: null, refusal: null, toolCalls: [], finishReason: this.finishReason };
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
  /** `gen_ai.operation.name` when it is not `chat`. */
  protected readonly operation: string | undefined = undefined;

  constructor(protected readonly budget: TextBudget) {}

  /** Named facts beyond tokens and content (LLMResult#attributes), for the decoders that have some. */
  protected extras(): Record<string, string | number | boolean> | undefined {
    return undefined;
  }

  /**
   * Handles one event (`raw` is its text); returns true when it carried generated content (text,
   * refusal, tool call).
   */
  abstract event(json: any, raw: string): boolean;

  /**
   * Handles the event from its text `text[start, end)` without `JSON.parse` when it has exactly the
   * canonical shape of a content delta (the bulk of every stream); undefined when it does not, and
   * `event()` must run. A fast path accepts only text it has fully validated as JSON, with the same
   * effect as `event()`.
   */
  fast(_text: string, _start: number, _end: number): boolean | undefined {
    return undefined;
  }

  /**
   * Set by a fast path when the event it just took was a plain content delta whose text is not
   * wanted (nothing captured): the next events are likely the same, and `run()` may take them
   * together. Cleared before every event (LLMStreamDecoder#data).
   */
  plainRun = false;
  /** Where the events the last `run()` took end. */
  runEnd = 0;

  /**
   * Takes, from `text[pos]` (the start of an SSE event line), a run of complete SSE events that are
   * each exactly `data: <a plain content delta>` LF LF with no text to keep, in one step, with the
   * same effect as handing each to `fast()`; returns how many (0: none, the caller goes on event by
   * event) and sets `runEnd`. A run longer than `limit` is not taken. Only after `plainRun`.
   */
  run(_text: string, _pos: number, _limit: number): number {
    return 0;
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

  /** The one choice of an API without `n` (Anthropic Messages, OpenAI Responses). */
  protected main(): ChoiceBuilder | undefined {
    return this.choice(0);
  }

  protected isComplete(): boolean {
    return this.complete;
  }

  /** The result so far; without `content`, choices carry no text, refusal or tool calls. */
  result(content = true): LLMResult {
    const keys = [...this.choices.keys()].sort((a, b) => a - b);
    const result: LLMResult = {
      provider: this.provider,
      api: this.api,
      id: this.id,
      model: this.model,
      choices: keys.map((k) => (this.choices.get(k) as ChoiceBuilder).build(content)),
      usage: { ...this.usage },
      truncated: !this.isComplete(),
    };
    if (this.error !== undefined) result.error = { ...this.error };
    if (this.budget.capped) result.contentTruncated = true;
    if (this.operation !== undefined) result.operation = this.operation;
    const extras = this.extras();
    if (extras !== undefined) result.attributes = extras;
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

// Pieces of the fast paths' patterns: sticky regular expressions, so that one native call validates
// a whole event, where comparing it piece by piece in JavaScript costs several times more.

/** A JSON integer as JSON writes a count or an index: no sign, no leading zero, at most 9 digits. */
export const DIGITS = String.raw`(?:0|[1-9]\d{0,8})`;
/** DIGITS, captured. */
export const JSON_INT = String.raw`(0|[1-9]\d{0,8})`;
/** A JSON string: no raw control character, only JSON's escapes. Its inside (still escaped) is captured. */
export const JSON_STRING = String.raw`"((?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*)"`;
/** The inside of a JSON string of printable ASCII with nothing to unescape (most tokens): one byte per character. */
export const PLAIN_ASCII = String.raw`[\x20\x21\x23-\x5b\x5d-\x7e]*`;
/** PLAIN_ASCII, at least one character. */
export const PLAIN_ASCII_TEXT = String.raw`[\x20\x21\x23-\x5b\x5d-\x7e]+`;
/** A JSON string without escapes (ids, obfuscation padding). Not captured. */
export const PLAIN_STRING = String.raw`"[^"\\\x00-\x1f]*"`;

/** `text` as a pattern matching exactly it. */
export function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** A sticky pattern from pieces, applied with `lastIndex` at the start of the text to check. */
export function pattern(...pieces: string[]): RegExp {
  return new RegExp(pieces.join(''), 'y');
}

/** Where the digits from `i` end (for a pattern that matched DIGITS there). */
export function digitsEnd(text: string, i: number): number {
  let c = text.charCodeAt(i);
  while (c >= 0x30 && c <= 0x39) c = text.charCodeAt(++i);
  return i;
}

/** The number whose digits start at `i` (for a pattern that matched DIGITS there). */
export function intAt(text: string, i: number): number {
  let n = 0;
  for (let c = text.charCodeAt(i); c >= 0x30 && c <= 0x39; c = text.charCodeAt(++i)) n = n * 10 + (c - 0x30);
  return n;
}

/**
 * `part` of `source` as text to keep: cut from a chunk much larger than itself, it is copied, so the
 * chunk is not kept alive with it.
 */
export function keep(part: string, source: string): string {
  return source.length > part.length + 256 ? detach(part) : part;
}

/** The value of a JSON string whose inside `raw` (in `source`) a fast path validated, as text to keep. */
export function jsonText(raw: string, source: string): string {
  const backslash = raw.indexOf('\\');
  return keep(backslash === -1 ? raw : unescapeJson(raw, backslash), source);
}

const ESCAPED: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/**
 * The value of a JSON string's inside, validated by JSON_STRING (so every escape is well formed),
 * whose first backslash is at `from`. Tool arguments are JSON cut in pieces (`{\"`, `\":\"`), so
 * nearly every piece has escapes; this is several times cheaper than JSON.parse for them.
 */
function unescapeJson(raw: string, from: number): string {
  let out = '';
  let done = 0;
  for (let i = from; i !== -1; i = raw.indexOf('\\', i)) {
    out += raw.slice(done, i);
    const c = raw[i + 1];
    if (c === 'u') {
      out += String.fromCharCode(parseInt(raw.slice(i + 2, i + 6), 16));
      i += 6;
    } else {
      out += ESCAPED[c];
      i += 2;
    }
    done = i;
  }
  return out + raw.slice(done);
}
