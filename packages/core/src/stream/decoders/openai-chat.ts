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
import { detach } from '../lines';
import type { ChoiceBuilder } from './common';
import { CHAT_USAGE, DIGITS, JSON_INT, JSON_STRING, PLAIN_ASCII, PLAIN_ASCII_TEXT, PLAIN_STRING, StreamDecoder, digitsEnd, intAt, jsonText, keep, literal, openaiUsage, pattern, str, toError } from './common';

const CHOICES = '"choices":[';
const INDEX = '{"index":';
const CONTENT = ',"delta":{"content":"';

/** What ends a choice without a finish reason, and the chunk after it. */
const UNFINISHED = String.raw`(?:,"logprobs":null)?,"finish_reason":null\}\](?:,"usage":null)?(?:,"obfuscation":${PLAIN_STRING})?\}`;

/**
 * What follows the learnt prefix in the bulk of a stream, to the chunk's end:
 * `{"index":N,"delta":{"content":"…"}` with printable ASCII text that has nothing to unescape, then
 * UNFINISHED. Matched without captures (a chunk then costs the text it adds and nothing else): the
 * index follows INDEX, the text follows CONTENT after it and ends at the next quote.
 */
const PLAIN_CONTENT = pattern(literal(INDEX), DIGITS, literal(CONTENT), PLAIN_ASCII, String.raw`"\}`, UNFINISHED);

/**
 * The other canonical chunks with one choice, after the learnt prefix, to the end:
 * `{"index":N,"delta":{…}`, the delta empty or holding `"content":"…"` or
 * `"tool_calls":[{"index":N,"function":{"arguments":"…"}}]` (either optionally after a `"role"`, the
 * content optionally followed by `"refusal":null`, as OpenAI's first chunk has it),
 * optionally `,"logprobs":null`, then `,"finish_reason":null` or a reason without escapes, `}]`,
 * optionally `,"usage":null` and `,"obfuscation":"…"`, then `}`. Captures: choice index, content |
 * tool index, arguments; finish reason.
 */
const CHOICE_DELTA = pattern(
  String.raw`\{"index":${JSON_INT},"delta":\{(?:(?:"role":${PLAIN_STRING},)?`,
  String.raw`(?:"content":${JSON_STRING}(?:,"refusal":null)?|"tool_calls":\[\{"index":${JSON_INT},"function":\{"arguments":${JSON_STRING}\}\}\]))?\}`,
  String.raw`(?:,"logprobs":null)?,"finish_reason":(?:null|"([^"\\\x00-\x1f]*)")\}\](?:,"usage":null)?(?:,"obfuscation":${PLAIN_STRING})?\}`,
);

/**
 * A run of SSE events that PLAIN_CONTENT would each accept after the learnt prefix, with text (an
 * empty delta is no content), for one choice, as `data: ` lines each followed by a blank line:
 * the first event's prefix (group 1: `{`, members without a nested value or escape, `"choices":[`,
 * the shape learn() keeps) and choice index (group 2), then any number of events repeating both
 * exactly (back-references). Checked in one native call where each event would cost several
 * calls; `run()` then compares group 1 with the learnt prefix once. No CR, LF or other control
 * character can occur inside, so the events are exactly what SSEStreamParser#takeSimpleEvents
 * would dispatch one by one.
 */
const PLAIN_RUN = pattern(
  String.raw`data: (\{[^[{\\\n\r]*"choices":\[)\{"index":(${DIGITS}),"delta":\{"content":"${PLAIN_ASCII_TEXT}"\}${UNFINISHED}\n\n`,
  String.raw`(?:data: \1\{"index":\2,"delta":\{"content":"${PLAIN_ASCII_TEXT}"\}${UNFINISHED}\n\n)*`,
);

/** After the prefix of the usage-only last chunk: no choices, then the usage object. */
const NO_CHOICES_USAGE = '],"usage":{';
/** What may follow its usage object: the obfuscation padding, then the chunk's end. */
const OBFUSCATION_END = pattern(String.raw`,"obfuscation":${PLAIN_STRING}\}`);

/**
 * The start of a canonical first chunk, to its `"choices":[`: `{`, then members whose keys are
 * lower-case names and whose values are scalars (a string without escapes, a number, null, true,
 * false), none of them `type` (which other APIs' events carry). Whatever they are, such a chunk
 * with a Chat Completions choice is a Chat Completions chunk to detect().
 */
const SCALAR_MEMBERS = pattern(String.raw`\{(?:"(?!type")[a-z_]+":(?:${PLAIN_STRING}|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|null|true|false),)*"choices":\[`);

/**
 * Where the choices of `text[start, end)` start (just after `"choices":[`) when it opens as a
 * canonical first chunk of a Chat Completions stream does (SCALAR_MEMBERS); -1 when it does not.
 * For `OpenAIChatDecoder#first`, which checks the rest.
 */
export function firstChunkChoices(text: string, start: number, end: number): number {
  if (text.charCodeAt(start) !== 0x7b || text.charCodeAt(start + 1) !== 0x22) return -1;
  SCALAR_MEMBERS.lastIndex = start;
  if (!SCALAR_MEMBERS.test(text)) return -1;
  const at = SCALAR_MEMBERS.lastIndex;
  return at < end ? at : -1;
}

/** Text without a nested value or an escape: stops at the first `[`, `{` or backslash. */
const SCALARS = /[^[{\\]*/y;

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

  /**
   * The canonical chunks (content, tool arguments, finish, usage), validated to the last character:
   * the learnt prefix, then PLAIN_CONTENT, CHOICE_DELTA or the usage. Anything else goes through
   * JSON.parse.
   */
  override fast(text: string, start: number, end: number): boolean | undefined {
    const prefix = this.prefix;
    if (prefix === undefined) return undefined;
    const at = start + prefix.length;
    if (at > end || text.slice(start, at) !== prefix) return undefined;
    PLAIN_CONTENT.lastIndex = at;
    if (PLAIN_CONTENT.test(text) && PLAIN_CONTENT.lastIndex === end) return this.plainContent(text, at);
    if (text.charCodeAt(at) === 0x5d) return this.usageChunk(text, at, end);
    CHOICE_DELTA.lastIndex = at;
    const m = CHOICE_DELTA.exec(text);
    if (m === null || CHOICE_DELTA.lastIndex !== end) return undefined;
    return this.choiceDelta(m, text);
  }

  /**
   * The stream's first chunk, when it is canonical: top-level scalars (`scalarsEnd` is where
   * SCALAR_MEMBERS stopped, just after `"choices":[`, see firstChunkChoices), then one choice
   * CHOICE_DELTA matches to the end (the role chunk, usually). The same effect as
   * detect(JSON.parse(raw)) choosing this decoder and event(json, raw); undefined when the rest
   * does not match, and JSON.parse must run.
   */
  first(text: string, start: number, scalarsEnd: number, end: number): boolean | undefined {
    CHOICE_DELTA.lastIndex = scalarsEnd;
    const m = CHOICE_DELTA.exec(text);
    if (m === null || CHOICE_DELTA.lastIndex !== end) return undefined;
    // What event() reads before the choices: id and model (the last of each, as JSON.parse keeps
    // it), as non-empty strings. An error or usage among scalars is not an object: nothing.
    let id: string | undefined;
    let model: string | undefined;
    for (let i = start + 1; i < scalarsEnd - CHOICES.length; ) {
      const keyEnd = text.indexOf('"', i + 1);
      const v = keyEnd + 2;
      const isString = text.charCodeAt(v) === 0x22;
      const valueEnd = isString ? text.indexOf('"', v + 1) + 1 : text.indexOf(',', v);
      const keyLength = keyEnd - i - 1;
      if (keyLength === 2 && text.startsWith('id', i + 1)) id = isString ? text.slice(v + 1, valueEnd - 1) : undefined;
      else if (keyLength === 5 && text.startsWith('model', i + 1)) model = isString ? text.slice(v + 1, valueEnd - 1) : undefined;
      i = valueEnd + 1;
    }
    const raw = text.slice(start, end);
    this.learn(raw);
    // Copies: the span keeps them as attributes until it is exported, and a slice would keep the
    // whole first event (its chunk's text, often a few hundred bytes) alive with them.
    if (id !== undefined && id !== '') this.id = detach(id);
    if (model !== undefined && model !== '') this.model = detach(model);
    return this.choiceDelta(m, text);
  }

  /** A chunk CHOICE_DELTA matched, with the same effect as event(JSON.parse(raw)). */
  private choiceDelta(m: RegExpExecArray, text: string): boolean {
    const choice = this.choice(Number(m[1]));
    if (choice === undefined) return false;
    const finish = m[5];
    // A copy, as id and model in first(): a capture of 13 characters or more is a slice of the text.
    if (finish !== undefined && finish !== '') choice.finishReason = detach(finish);
    const content = m[2];
    if (content !== undefined) {
      if (content === '') return false;
      choice.addText(this.budget, jsonText(content, text));
      return true;
    }
    if (m[3] === undefined) return false; // an empty delta
    const tool = choice.tool(Number(m[3]));
    if (tool === undefined) return false;
    if (m[4] !== '') {
      const kept = this.budget.take(jsonText(m[4], text));
      if (kept !== '') tool.args.push(kept);
    }
    return true;
  }

  /**
   * A chunk PLAIN_CONTENT matched from `at` (just after the prefix), with the same effect as
   * event(JSON.parse(raw)): its text added to its choice. Returns whether it carried content.
   */
  private plainContent(text: string, at: number): boolean {
    const choice = this.choice(intAt(text, at + INDEX.length));
    if (choice === undefined) return false;
    const from = digitsEnd(text, at + INDEX.length) + CONTENT.length;
    const to = text.indexOf('"', from);
    if (to === from) return false;
    if (!choice.wantsText(this.budget)) {
      this.plainRun = true;
      return true;
    }
    choice.addText(this.budget, keep(text.slice(from, to), text), to - from);
    return true;
  }

  /** See StreamDecoder#run: PLAIN_RUN, the learnt prefix, a choice that wants no text. */
  override run(text: string, pos: number, limit: number): number {
    const prefix = this.prefix;
    if (prefix === undefined) return 0;
    PLAIN_RUN.lastIndex = pos;
    const m = PLAIN_RUN.exec(text);
    if (m === null) return 0;
    const end = PLAIN_RUN.lastIndex;
    if (end - pos > limit || m[1] !== prefix) return 0;
    // As plainContent() for each event: the choice, which wants no text (the budget is spent, and
    // nothing taken here adds to it).
    const choice = this.choice(Number(m[2]));
    if (choice === undefined || choice.wantsText(this.budget)) return 0;
    let n = 0;
    for (let i = text.indexOf('\n\n', pos); i !== -1 && i < end; i = text.indexOf('\n\n', i + 2)) n++;
    this.runEnd = end;
    this.plainRun = true;
    return n;
  }

  /**
   * The usage-only last chunk: after the learnt prefix (at `at`), `],"usage":{…}`, optionally the
   * obfuscation padding, `}`. Only the usage object goes through JSON.parse: the rest is fixed
   * text, so the chunk is valid JSON exactly when the object is.
   */
  private usageChunk(text: string, at: number, end: number): boolean | undefined {
    if (!text.startsWith(NO_CHOICES_USAGE, at)) return undefined;
    const start = at + NO_CHOICES_USAGE.length - 1;
    let objectEnd = end - 1;
    if (text.charCodeAt(end - 2) === 0x22) {
      const k = text.lastIndexOf(',"obfuscation":"', end);
      if (k <= start) return undefined;
      OBFUSCATION_END.lastIndex = k;
      if (!OBFUSCATION_END.test(text) || OBFUSCATION_END.lastIndex !== end) return undefined;
      objectEnd = k;
    } else if (text.charCodeAt(end - 1) !== 0x7d) {
      return undefined;
    }
    let usage: unknown;
    try {
      usage = JSON.parse(text.slice(start, objectEnd));
    } catch {
      return undefined;
    }
    // Same effect as event(JSON.parse(raw)): the value starts with `{`, so it is an object.
    this.usage = openaiUsage(usage, CHAT_USAGE);
    return false;
  }

  /** Learns the prefix from a chunk JSON.parse accepted, if it has only scalars before its choices. */
  private learn(raw: string): void {
    const k = raw.indexOf(CHOICES);
    if (k <= 0 || raw.charCodeAt(0) !== 0x7b) return;
    // A nested value or an escape before the choices: keep JSON.parse.
    SCALARS.lastIndex = 1;
    SCALARS.test(raw);
    if (SCALARS.lastIndex < k) return;
    // A copy: the prefix outlives the chunk it was cut from.
    this.prefix = detach(raw.slice(0, k + CHOICES.length));
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
    if (u !== null && typeof u === 'object') this.usage = openaiUsage(u, CHAT_USAGE);
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
