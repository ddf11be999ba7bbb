/**
 * Recognises an LLM stream from its events (no configuration) and merges the events into an
 * `LLMResult`. Fed the data of each SSE event or NDJSON line; the first JSON object that looks like
 * one of the supported APIs picks the decoder for the rest of the stream.
 */
import type { LLMResult } from '../../llm/types';
import { AnthropicDecoder } from './anthropic';
import { StreamDecoder, TextBudget } from './common';
import { GeminiDecoder } from './gemini';
import { OllamaDecoder, isOllamaLine } from './ollama';
import { OpenAIAudioDecoder } from './openai-audio';
import { OpenAIChatDecoder, firstChunkChoices } from './openai-chat';
import { OpenAIResponsesDecoder } from './openai-responses';

export { truncateUtf8 } from './common';

const ANTHROPIC_TYPES: ReadonlySet<string> = new Set([
  'message_start',
  'message_delta',
  'message_stop',
  'content_block_start',
  'content_block_delta',
  'content_block_stop',
]);

/** The decoder for a stream whose first JSON event is `json`, or undefined if it is not an LLM stream. */
function detect(json: any, budget: TextBudget): StreamDecoder | undefined {
  const type = json.type;
  if (typeof type === 'string') {
    if (type.startsWith('response.')) return new OpenAIResponsesDecoder(budget);
    if (ANTHROPIC_TYPES.has(type)) return new AnthropicDecoder(budget);
    if (type === 'error') {
      // Anthropic nests the error; the Responses API puts code and message at the top.
      if (json.error !== null && typeof json.error === 'object') return new AnthropicDecoder(budget);
      if (typeof json.message === 'string' || json.code !== undefined) return new OpenAIResponsesDecoder(budget);
      return undefined;
    }
    // The checks for the formats added later come after the older ones, so that recognising them
    // costs the older ones nothing (and the decoder is chosen once per stream).
    if (type.startsWith('transcript.text.') || type.startsWith('speech.audio.')) return new OpenAIAudioDecoder(budget, type);
  }
  if (json.object === 'chat.completion.chunk') return new OpenAIChatDecoder(budget);
  const choices = json.choices;
  if (Array.isArray(choices)) {
    // Azure's first chunk: no object, no model, choices [] and prompt_filter_results.
    if (choices.length === 0) {
      return json.prompt_filter_results !== undefined || json.usage !== undefined ? new OpenAIChatDecoder(budget) : undefined;
    }
    const c = choices[0];
    if (c !== null && typeof c === 'object' && c.delta !== undefined) return new OpenAIChatDecoder(budget);
    return undefined;
  }
  // OpenAI's in-band error as the first event of a Chat Completions stream.
  const err = json.error;
  if (err !== null && typeof err === 'object' && typeof err.message === 'string') return new OpenAIChatDecoder(budget);
  // Gemini: every chunk is a GenerateContentResponse (candidates, or only usage at the end).
  if (Array.isArray(json.candidates) || (json.usageMetadata !== null && typeof json.usageMetadata === 'object' && typeof json.modelVersion === 'string')) {
    return new GeminiDecoder(budget);
  }
  if (isOllamaLine(json)) return new OllamaDecoder(budget, json);
  return undefined;
}

const NOT_JSON = 0;
const JSON_LITERAL = 1;
const MAYBE_JSON = 2;

/** Whether `text[i]` is JSON whitespace (RFC 8259: space, tab, LF, CR). */
function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** Whether `text[from, to)` is exactly `word`. */
function isWord(text: string, from: number, to: number, word: string): boolean {
  return to - from === word.length && text.startsWith(word, from);
}

/**
 * What `JSON.parse(text.slice(start, end))` would make of the text, as far as its first character
 * tells (RFC 8259 section 2: a JSON text is a value between optional whitespace): NOT_JSON when it
 * would throw (empty, or a first character no value starts with, or a word that is not `true`,
 * `false` or `null`), JSON_LITERAL for one of those three words, MAYBE_JSON for an object, array,
 * string or number, which only JSON.parse can settle. Exact: the same events count as not JSON.
 */
function jsonKind(text: string, start: number, end: number): number {
  let i = start;
  while (i < end && isJsonSpace(text.charCodeAt(i))) i++;
  if (i === end) return NOT_JSON;
  const c = text.charCodeAt(i);
  // { [ " - 0-9
  if (c === 0x7b || c === 0x5b || c === 0x22 || c === 0x2d || (c >= 0x30 && c <= 0x39)) return MAYBE_JSON;
  if (c !== 0x74 && c !== 0x66 && c !== 0x6e) return NOT_JSON;
  let j = end;
  while (j > i && isJsonSpace(text.charCodeAt(j - 1))) j--;
  return isWord(text, i, j, 'true') || isWord(text, i, j, 'false') || isWord(text, i, j, 'null') ? JSON_LITERAL : NOT_JSON;
}

/** Per-stream LLM decoding state: counts and the chosen decoder. */
export class LLMStreamDecoder {
  /** Events whose data was not JSON (`[DONE]` excepted). */
  nonJsonEvents = 0;
  private decoder: StreamDecoder | undefined = undefined;
  private readonly budget: TextBudget;

  /**
   * @param maxTextBytes cap on captured text (output, refusals, tool arguments)
   * @param fastPaths decode canonical content deltas without JSON.parse (off only to test equivalence)
   */
  constructor(
    maxTextBytes: number,
    private readonly fastPaths = true,
  ) {
    this.budget = new TextBudget(maxTextBytes);
  }

  /** Bytes of captured text held. */
  get retainedBytes(): number {
    return this.budget.used;
  }

  /**
   * One event's data, `text[start, end)` (a view of the chunk it came in). Returns true when the
   * event carried generated content. Never throws.
   */
  data(text: string, start = 0, end = text.length): boolean {
    if (this.decoder !== undefined) this.decoder.plainRun = false;
    if (end - start === 6 && text.startsWith('[DONE]', start)) {
      this.decoder?.done();
      return false;
    }
    if (this.fastPaths && this.decoder !== undefined) {
      try {
        const fast = this.decoder.fast(text, start, end);
        if (fast !== undefined) return fast;
      } catch {
        // fall through to the general path
      }
    }
    if (this.fastPaths && this.decoder === undefined) {
      // The first chunk of a Chat Completions stream, the most common first event, without JSON.parse.
      const at = firstChunkChoices(text, start, end);
      if (at !== -1) {
        try {
          const chat = new OpenAIChatDecoder(this.budget);
          const content = chat.first(text, start, at, end);
          if (content !== undefined) {
            this.decoder = chat;
            return content;
          }
        } catch {
          // fall through to the general path
        }
      }
    }
    // Decided before JSON.parse: a data line that cannot be JSON (plain-text event streams) would
    // otherwise cost a thrown and caught SyntaxError per event (issue 20: 10-14 µs each).
    const kind = jsonKind(text, start, end);
    if (kind === NOT_JSON) {
      this.nonJsonEvents++;
      return false;
    }
    if (kind === JSON_LITERAL) return false; // true, false or null: JSON, but not an event
    const data = start === 0 && end === text.length ? text : text.slice(start, end);
    let json: any;
    try {
      json = JSON.parse(data);
    } catch {
      this.nonJsonEvents++;
      return false;
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) return false;
    try {
      if (this.decoder === undefined) {
        this.decoder = detect(json, this.budget);
        if (this.decoder === undefined) return false;
      }
      return this.decoder.event(json, data);
    } catch {
      // A shape we did not foresee: skip the event rather than lose the stream.
      return false;
    }
  }

  /**
   * A run of plain content events from `text[pos]` taken at once (StreamDecoder#run): how many,
   * each of them content; `runEnd` is where they end. 0 when the last event was not one (then
   * nothing is tried) or the text does not go on with them. Never throws.
   */
  run(text: string, pos: number, limit: number): number {
    const d = this.decoder;
    if (d === undefined || !d.plainRun || !this.fastPaths) return 0;
    try {
      return d.run(text, pos, limit);
    } catch {
      return 0;
    }
  }

  /** Where the events the last `run()` took end. */
  get runEnd(): number {
    return this.decoder?.runEnd ?? 0;
  }

  /**
   * One event already parsed (what an SDK's stream yields: the wire JSON as an object). Returns true
   * when it carried generated content. Never throws.
   */
  object(json: unknown): boolean {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) return false;
    try {
      if (this.decoder === undefined) {
        this.decoder = detect(json, this.budget);
        if (this.decoder === undefined) return false;
      }
      // No text: the prefix a fast path learns from the text does not apply to objects.
      return this.decoder.event(json, '');
    } catch {
      return false;
    }
  }

  /**
   * The result so far (a snapshot), or undefined when no LLM stream was recognised. Without
   * `content`, choices carry no text, refusal or tool calls (enough for attributes without captured
   * content, and nothing is joined).
   */
  result(content = true): LLMResult | undefined {
    return this.decoder?.result(content);
  }
}
