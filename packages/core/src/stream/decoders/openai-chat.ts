/**
 * OpenAI Chat Completions streams (`object: "chat.completion.chunk"`) and the OpenAI-compatible
 * servers that copy them. Merged as the official SDK does (`ChatCompletionStream`): choices by
 * `index` (`n` > 1 interleaves them), text and refusal fragments appended when non-empty, tool calls
 * by their `index` with `arguments` in fragments, the legacy `function_call`. Usage comes from
 * whichever chunk carries it: the usage-only last chunk (`choices: []`, `include_usage`) or the
 * finish chunk (compatible servers). Azure's first chunk (`choices: []`, `prompt_filter_results`,
 * empty `id` and `model`) is accepted and its empty fields ignored. In-band errors arrive as
 * `{"error": {...}}`; the stream ends with `data: [DONE]`.
 */
import type { ChoiceBuilder, Cursor } from './common';
import { StreamDecoder, count, jsonIntEnd, plainStringEnd, readJsonString, str, toError } from './common';

const CHOICES = '"choices":[';
const INDEX = '{"index":';
const CONTENT = ',"delta":{"content":"';
const TOOL_ARGS = ',"delta":{"tool_calls":[{"index":';
const FUNCTION_ARGS = ',"function":{"arguments":"';
const AFTER_CONTENT = '},"logprobs":null,"finish_reason":null}]';
const AFTER_ARGS = '}}]},"logprobs":null,"finish_reason":null}]';
const USAGE_NULL = ',"usage":null';
const OBFUSCATION = ',"obfuscation":"';

/** Usage object of Chat Completions (chunk or whole response). */
export function chatUsage(u: any): { input?: number; output?: number; cached?: number; reasoning?: number } {
  const out: { input?: number; output?: number; cached?: number; reasoning?: number } = {};
  const input = count(u.prompt_tokens);
  if (input !== undefined) out.input = input;
  const output = count(u.completion_tokens);
  if (output !== undefined) out.output = output;
  const cached = count(u.prompt_tokens_details?.cached_tokens);
  if (cached !== undefined) out.cached = cached;
  const reasoning = count(u.completion_tokens_details?.reasoning_tokens);
  if (reasoning !== undefined) out.reasoning = reasoning;
  return out;
}

export class OpenAIChatDecoder extends StreamDecoder {
  readonly provider = 'openai' as const;
  readonly api = 'chat.completions' as const;
  private sawDone = false;
  /**
   * The text of a chunk up to and including `"choices":[`, when it held only top-level scalars
   * (id, object, created, model, fingerprint...). Chunks of one stream repeat it byte for byte, so a
   * chunk starting with it has nothing new before its choices.
   */
  private prefix: string | undefined = undefined;
  private readonly cursor: Cursor = { end: 0 };

  /**
   * The canonical content and tool-argument chunks, validated to the last byte: the learnt prefix,
   * then exactly `{"index":N,"delta":{"content":"…"},"logprobs":null,"finish_reason":null}]` or
   * `{"index":N,"delta":{"tool_calls":[{"index":N,"function":{"arguments":"…"}}]},"logprobs":null,
   * "finish_reason":null}]`, optionally `,"usage":null` and `,"obfuscation":"…"`, then `}`.
   * Anything else goes through JSON.parse.
   */
  override fast(raw: string): boolean | undefined {
    const prefix = this.prefix;
    if (prefix === undefined || !raw.startsWith(prefix)) return undefined;
    let i = prefix.length;
    if (!raw.startsWith(INDEX, i)) return undefined;
    const indexStart = i + INDEX.length;
    const indexEnd = jsonIntEnd(raw, indexStart);
    if (indexEnd < 0) return undefined;
    let toolStart = -1;
    let toolEnd = -1;
    let after: string;
    if (raw.startsWith(CONTENT, indexEnd)) {
      i = indexEnd + CONTENT.length;
      after = AFTER_CONTENT;
    } else if (raw.startsWith(TOOL_ARGS, indexEnd)) {
      toolStart = indexEnd + TOOL_ARGS.length;
      toolEnd = jsonIntEnd(raw, toolStart);
      if (toolEnd < 0 || !raw.startsWith(FUNCTION_ARGS, toolEnd)) return undefined;
      i = toolEnd + FUNCTION_ARGS.length;
      after = AFTER_ARGS;
    } else {
      return undefined;
    }
    const value = readJsonString(raw, i, this.cursor);
    if (value === undefined) return undefined;
    i = this.cursor.end + 1;
    if (!raw.startsWith(after, i)) return undefined;
    i += after.length;
    if (raw.startsWith(USAGE_NULL, i)) i += USAGE_NULL.length;
    if (raw.startsWith(OBFUSCATION, i)) {
      i = plainStringEnd(raw, i + OBFUSCATION.length);
      if (i < 0) return undefined;
      i++;
    }
    if (i !== raw.length - 1 || raw.charCodeAt(i) !== 0x7d) return undefined;
    // Same effect as event(JSON.parse(raw)).
    const choice = this.choice(Number(raw.slice(indexStart, indexEnd)));
    if (choice === undefined) return false;
    if (toolStart < 0) {
      if (value === '') return false;
      choice.addText(this.budget, value);
      return true;
    }
    const tool = choice.tool(Number(raw.slice(toolStart, toolEnd)));
    if (tool === undefined) return false;
    if (value !== '') {
      const kept = this.budget.take(value);
      if (kept !== '') tool.args.push(kept);
    }
    return true;
  }

  /** Learns the prefix from a chunk JSON.parse accepted, if it has only scalars before its choices. */
  private learn(raw: string): void {
    const k = raw.indexOf(CHOICES);
    if (k <= 0 || raw.charCodeAt(0) !== 0x7b) return;
    for (let i = 1; i < k; i++) {
      const c = raw.charCodeAt(i);
      if (c === 0x7b || c === 0x5b || c === 0x5c) return; // nested value or escape: keep JSON.parse
    }
    this.prefix = raw.slice(0, k + CHOICES.length);
  }

  event(json: any, raw: string): boolean {
    if (Array.isArray(json.choices) && json.choices.length > 0 && (this.prefix === undefined || !raw.startsWith(this.prefix))) {
      this.learn(raw);
    }
    if (json.error !== undefined && json.error !== null && typeof json.error === 'object') {
      this.error = toError(json.error, 'error');
      this.complete = true;
      return false;
    }
    if (this.id === null) {
      const id = str(json.id);
      if (id !== undefined) this.id = id;
    }
    if (this.model === null) {
      const model = str(json.model);
      if (model !== undefined) this.model = model;
    }
    const u = json.usage;
    if (u !== null && typeof u === 'object') this.usage = chatUsage(u);
    const choices = json.choices;
    if (!Array.isArray(choices)) return false;
    let content = false;
    for (let i = 0; i < choices.length; i++) {
      const c = choices[i];
      if (c === null || typeof c !== 'object') continue;
      const index = typeof c.index === 'number' ? c.index : i;
      const choice = this.choice(index);
      if (choice === undefined) continue;
      if (typeof c.finish_reason === 'string' && c.finish_reason !== '') choice.finishReason = c.finish_reason;
      const delta = c.delta;
      if (delta !== null && typeof delta === 'object' && this.delta(choice, delta)) content = true;
    }
    return content;
  }

  private delta(choice: ChoiceBuilder, delta: any): boolean {
    let content = false;
    const text = delta.content;
    if (typeof text === 'string' && text !== '') {
      choice.addText(this.budget, text);
      content = true;
    }
    const refusal = delta.refusal;
    if (typeof refusal === 'string' && refusal !== '') {
      choice.addRefusal(this.budget, refusal);
      content = true;
    }
    const calls = delta.tool_calls;
    if (Array.isArray(calls)) {
      for (let i = 0; i < calls.length; i++) {
        const call = calls[i];
        if (call === null || typeof call !== 'object') continue;
        const tool = choice.tool(typeof call.index === 'number' ? call.index : i);
        if (tool === undefined) continue;
        content = true;
        const id = str(call.id);
        if (id !== undefined) tool.id = id;
        const fn = call.function;
        if (fn !== null && typeof fn === 'object') {
          const name = str(fn.name);
          if (name !== undefined) tool.name = name;
          if (typeof fn.arguments === 'string' && fn.arguments !== '') {
            const kept = this.budget.take(fn.arguments);
            if (kept !== '') tool.args.push(kept);
          }
        }
      }
    }
    const legacy = delta.function_call;
    if (legacy !== null && typeof legacy === 'object') {
      const tool = choice.tool(0);
      if (tool !== undefined) {
        content = true;
        const name = str(legacy.name);
        if (name !== undefined) tool.name = name;
        if (typeof legacy.arguments === 'string' && legacy.arguments !== '') {
          const kept = this.budget.take(legacy.arguments);
          if (kept !== '') tool.args.push(kept);
        }
      }
    }
    return content;
  }

  override done(): void {
    this.sawDone = true;
  }

  protected override isComplete(): boolean {
    if (this.complete || this.sawDone) return true;
    // Without `[DONE]` (e.g. chunks relayed as NDJSON): complete once every choice has finished.
    if (this.choices.size === 0) return false;
    for (const c of this.choices.values()) if (c.finishReason === null) return false;
    return true;
  }
}
