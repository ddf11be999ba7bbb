/**
 * Anthropic Messages streams: `message_start` (id, model, input usage incl. cache reads and writes),
 * content blocks (`content_block_start` / `_delta` / `_stop`): `text` blocks with `text_delta`,
 * `tool_use` blocks with `input_json_delta.partial_json` fragments, `thinking` / `redacted_thinking`
 * blocks (`thinking_delta`, `signature_delta`) kept out of the output text; `message_delta` (stop
 * reason, cumulative output usage, and on newer API versions updated input counts); `message_stop`.
 * `event: error` (`{"type":"error","error":{"type":"overloaded_error",...}}`) is an in-band error.
 *
 * Anthropic reports `input_tokens` without cached and cache-write tokens; the GenAI convention's
 * input count includes them, so `usage.input` is their sum. The `output_tokens` of `message_start` is
 * a placeholder and is not reported.
 */
import { DIGITS, JSON_INT, JSON_STRING, PLAIN_ASCII, StreamDecoder, count, digitsEnd, jsonText, keep, literal, pattern, str, toError } from './common';

const DELTA_HEAD = '{"type":"content_block_delta","index":';
const TEXT_DELTA = ',"delta":{"type":"text_delta","text":"';
const DELTA_TAIL = '"}}';

/**
 * The bulk of a stream, whole: `{"type":"content_block_delta","index":N,"delta":{"type":"text_delta","text":"…"}}`
 * with printable ASCII text that has nothing to unescape. Matched without captures: the text
 * follows TEXT_DELTA after the index and ends before DELTA_TAIL.
 */
const PLAIN_TEXT_DELTA = pattern(literal(DELTA_HEAD), DIGITS, literal(TEXT_DELTA), PLAIN_ASCII, literal(DELTA_TAIL));

/**
 * The other canonical text and tool-input deltas, whole: the same with any text, and the
 * `input_json_delta` / `partial_json` twin. Captures: block index, text | partial JSON.
 */
const BLOCK_DELTA = pattern(
  literal(DELTA_HEAD),
  String.raw`${JSON_INT},"delta":\{"type":(?:"text_delta","text":${JSON_STRING}|"input_json_delta","partial_json":${JSON_STRING})\}\}`,
);

/**
 * The events that only mark a point in the stream, whole: `{"type":"ping"}`,
 * `{"type":"content_block_stop","index":N}`, `{"type":"message_stop"}`. Captures: type.
 */
const MARKER = pattern(String.raw`\{"type":"(ping|content_block_stop|message_stop)"(?:,"index":${DIGITS})?\}`);

export class AnthropicDecoder extends StreamDecoder {
  readonly provider = 'anthropic' as const;
  readonly api = 'messages' as const;
  private inputBase: number | undefined = undefined;
  private cacheRead: number | undefined = undefined;
  private cacheWrite: number | undefined = undefined;
  private output: number | undefined = undefined;

  /**
   * The canonical text and tool-input deltas (PLAIN_TEXT_DELTA, BLOCK_DELTA) and the markers
   * (MARKER), validated to the last character. Anything else goes through JSON.parse.
   */
  override fast(text: string, start: number, end: number): boolean | undefined {
    PLAIN_TEXT_DELTA.lastIndex = start;
    if (PLAIN_TEXT_DELTA.test(text) && PLAIN_TEXT_DELTA.lastIndex === end) {
      // Same effect as event(JSON.parse(raw)).
      const from = digitsEnd(text, start + DELTA_HEAD.length) + TEXT_DELTA.length;
      const to = end - DELTA_TAIL.length;
      if (to === from) return false;
      this.main()?.addText(this.budget, keep(text.slice(from, to), text), to - from);
      return true;
    }
    BLOCK_DELTA.lastIndex = start;
    const m = BLOCK_DELTA.exec(text);
    if (m === null || BLOCK_DELTA.lastIndex !== end) return this.marker(text, start, end);
    // Same effect as event(JSON.parse(raw)).
    const value = m[2] ?? m[3];
    if (value === '') return false;
    if (m[2] !== undefined) {
      this.main()?.addText(this.budget, jsonText(value, text));
      return true;
    }
    const tool = this.main()?.tool(Number(m[1]));
    if (tool === undefined) return false;
    const kept = this.budget.take(jsonText(value, text));
    if (kept !== '') tool.args.push(kept);
    return true;
  }

  private marker(text: string, start: number, end: number): boolean | undefined {
    MARKER.lastIndex = start;
    const m = MARKER.exec(text);
    if (m === null || MARKER.lastIndex !== end) return undefined;
    // Same effect as event(JSON.parse(raw)).
    if (m[1] === 'message_stop') this.complete = true;
    return false;
  }

  event(json: any): boolean {
    switch (json.type) {
      case 'content_block_delta':
        return this.delta(json);
      case 'content_block_start':
        return this.start(json);
      case 'message_start': {
        const m = json.message;
        if (m !== null && typeof m === 'object') {
          const id = str(m.id);
          if (id !== undefined) this.id = id;
          const model = str(m.model);
          if (model !== undefined) this.model = model;
          this.main();
          if (m.usage !== null && typeof m.usage === 'object') this.inputUsage(m.usage);
        }
        return false;
      }
      case 'message_delta': {
        const d = json.delta;
        if (d !== null && typeof d === 'object') {
          const stop = str(d.stop_reason);
          const choice = this.main();
          if (stop !== undefined && choice !== undefined) choice.finishReason = stop;
        }
        const u = json.usage;
        if (u !== null && typeof u === 'object') {
          this.inputUsage(u);
          const output = count(u.output_tokens);
          if (output !== undefined) this.output = output;
          this.updateUsage();
        }
        return false;
      }
      case 'message_stop':
        this.complete = true;
        return false;
      case 'error':
        this.error = toError(json.error, 'error');
        this.complete = true;
        return false;
      default:
        return false;
    }
  }

  private start(json: any): boolean {
    const block = json.content_block;
    if (block === null || typeof block !== 'object') return false;
    const choice = this.main();
    if (choice === undefined) return false;
    if (block.type === 'text') {
      if (typeof block.text === 'string' && block.text !== '') {
        choice.addText(this.budget, block.text);
        return true;
      }
      return false;
    }
    if (block.type === 'tool_use') {
      const tool = choice.tool(blockIndex(json));
      if (tool === undefined) return false;
      const id = str(block.id);
      if (id !== undefined) tool.id = id;
      const name = str(block.name);
      if (name !== undefined) tool.name = name;
      // The real input arrives as partial JSON; a non-empty initial input is used if none does.
      const input = block.input;
      if (input !== null && typeof input === 'object' && Object.keys(input).length > 0) {
        tool.whole = this.budget.take(JSON.stringify(input));
      }
      return true;
    }
    return false;
  }

  private delta(json: any): boolean {
    const d = json.delta;
    if (d === null || typeof d !== 'object') return false;
    if (d.type === 'text_delta') {
      if (typeof d.text !== 'string' || d.text === '') return false;
      this.main()?.addText(this.budget, d.text);
      return true;
    }
    if (d.type === 'input_json_delta') {
      const part = d.partial_json;
      if (typeof part !== 'string' || part === '') return false;
      const tool = this.main()?.tool(blockIndex(json));
      if (tool === undefined) return false;
      const kept = this.budget.take(part);
      if (kept !== '') tool.args.push(kept);
      return true;
    }
    // thinking_delta, signature_delta, citations_delta: not output text.
    return false;
  }

  private inputUsage(u: any): void {
    const base = count(u.input_tokens);
    if (base !== undefined) this.inputBase = base;
    const read = count(u.cache_read_input_tokens);
    if (read !== undefined) this.cacheRead = read;
    const write = count(u.cache_creation_input_tokens);
    if (write !== undefined) this.cacheWrite = write;
    this.updateUsage();
  }

  private updateUsage(): void {
    const usage: { input?: number; output?: number; cached?: number; cacheCreation?: number } = {};
    if (this.inputBase !== undefined) usage.input = this.inputBase + (this.cacheRead ?? 0) + (this.cacheWrite ?? 0);
    if (this.output !== undefined) usage.output = this.output;
    if (this.cacheRead !== undefined) usage.cached = this.cacheRead;
    if (this.cacheWrite !== undefined) usage.cacheCreation = this.cacheWrite;
    this.usage = usage;
  }

  protected override isComplete(): boolean {
    if (this.complete) return true;
    // message_delta with a stop reason is the last event with content; message_stop only follows it.
    const c = this.choices.get(0);
    return c !== undefined && c.finishReason !== null;
  }
}

/** Anthropic usage (non-streamed `message.usage`) in Tracewire's terms. */
export function anthropicUsage(u: any): { input?: number; output?: number; cached?: number; cacheCreation?: number } {
  const out: { input?: number; output?: number; cached?: number; cacheCreation?: number } = {};
  const base = count(u.input_tokens);
  const read = count(u.cache_read_input_tokens);
  const write = count(u.cache_creation_input_tokens);
  if (base !== undefined) out.input = base + (read ?? 0) + (write ?? 0);
  const output = count(u.output_tokens);
  if (output !== undefined) out.output = output;
  if (read !== undefined) out.cached = read;
  if (write !== undefined) out.cacheCreation = write;
  return out;
}

function blockIndex(json: any): number {
  return typeof json.index === 'number' ? json.index : 0;
}
