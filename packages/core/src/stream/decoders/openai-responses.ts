/**
 * OpenAI Responses streams: typed events `response.*`. Id and model from `response.created`;
 * text from `response.output_text.delta` (`.done` only fills in when no delta came), refusals from
 * `response.refusal.delta`; function calls announced by `response.output_item.added` (name,
 * `call_id`) with arguments from `response.function_call_arguments.delta` / `.done`; usage and the
 * final status (`completed`, `incomplete`, `failed`) from the terminal `response.*` event. Reasoning
 * summaries are not output text. In-band errors: `response.failed` (`response.error`) or an `error`
 * event.
 */
import type { ToolCallBuilder } from './common';
import { DIGITS, JSON_STRING, PLAIN_ASCII, PLAIN_STRING, RESPONSES_USAGE, StreamDecoder, digitsEnd, intAt, jsonText, keep, literal, openaiUsage, pattern, str, toError } from './common';

const DELTA_HEAD = '{"type":"response.output_text.delta","content_index":';
const DELTA = ',"delta":"';
const OUTPUT_INDEX = '"output_index":';

/** What follows the delta: `"item_id":"…","logprobs":[],`, optionally `"obfuscation":"…",`, the indexes, the end. */
const AFTER_DELTA = String.raw`,"item_id":${PLAIN_STRING},"logprobs":\[\],(?:"obfuscation":${PLAIN_STRING},)?${literal(OUTPUT_INDEX)}${DIGITS},"sequence_number":${DIGITS}\}`;

/**
 * The canonical text delta, whole:
 * `{"type":"response.output_text.delta","content_index":N,"delta":"…",` then AFTER_DELTA. Matched
 * without captures: the delta follows DELTA after the content index and ends at the next quote
 * (PLAIN_TEXT_DELTA, printable ASCII with nothing to unescape) or is read by JSON rules
 * (TEXT_DELTA); the output index follows the last OUTPUT_INDEX.
 */
const PLAIN_TEXT_DELTA = pattern(literal(DELTA_HEAD), DIGITS, literal(DELTA), PLAIN_ASCII, '"', AFTER_DELTA);
const TEXT_DELTA = pattern(literal(DELTA_HEAD), DIGITS, literal(',"delta":'), JSON_STRING, AFTER_DELTA);

export class OpenAIResponsesDecoder extends StreamDecoder {
  readonly provider = 'openai' as const;
  readonly api = 'responses' as const;
  /** Output items (by `output_index`) whose text came as deltas, so `.done` must not add it again. */
  private readonly textByDelta = new Set<number>();
  private readonly toolByItemId = new Map<string, ToolCallBuilder>();

  /** The canonical text delta (PLAIN_TEXT_DELTA, TEXT_DELTA), validated to the last character. Anything else goes through JSON.parse. */
  override fast(text: string, start: number, end: number): boolean | undefined {
    let delta: string;
    let bytes: number | undefined;
    PLAIN_TEXT_DELTA.lastIndex = start;
    if (PLAIN_TEXT_DELTA.test(text) && PLAIN_TEXT_DELTA.lastIndex === end) {
      const from = digitsEnd(text, start + DELTA_HEAD.length) + DELTA.length;
      const to = text.indexOf('"', from);
      delta = keep(text.slice(from, to), text);
      bytes = to - from;
    } else {
      TEXT_DELTA.lastIndex = start;
      const m = TEXT_DELTA.exec(text);
      if (m === null || TEXT_DELTA.lastIndex !== end) return undefined;
      delta = jsonText(m[1], text);
    }
    // Same effect as event(JSON.parse(raw)).
    if (delta === '') return false;
    this.textByDelta.add(intAt(text, text.lastIndexOf(OUTPUT_INDEX, end) + OUTPUT_INDEX.length));
    this.main()?.addText(this.budget, delta, bytes);
    return true;
  }

  event(json: any): boolean {
    const type = json.type;
    if (typeof type !== 'string') return false;
    switch (type) {
      case 'response.output_text.delta': {
        const delta = json.delta;
        if (typeof delta !== 'string' || delta === '') return false;
        this.textByDelta.add(outputIndex(json));
        this.main()?.addText(this.budget, delta);
        return true;
      }
      case 'response.output_text.done': {
        const text = json.text;
        if (typeof text === 'string' && text !== '' && !this.textByDelta.has(outputIndex(json))) {
          this.main()?.addText(this.budget, text);
          return true;
        }
        return false;
      }
      case 'response.refusal.delta': {
        const delta = json.delta;
        if (typeof delta !== 'string' || delta === '') return false;
        this.textByDelta.add(-1 - outputIndex(json));
        this.main()?.addRefusal(this.budget, delta);
        return true;
      }
      case 'response.refusal.done': {
        const refusal = json.refusal;
        if (typeof refusal === 'string' && refusal !== '' && !this.textByDelta.has(-1 - outputIndex(json))) {
          this.main()?.addRefusal(this.budget, refusal);
          return true;
        }
        return false;
      }
      case 'response.output_item.added':
      case 'response.output_item.done':
        return this.item(json.item, outputIndex(json), type === 'response.output_item.added');
      case 'response.function_call_arguments.delta': {
        const delta = json.delta;
        if (typeof delta !== 'string' || delta === '') return false;
        const tool = this.toolFor(json);
        if (tool === undefined) return false;
        const kept = this.budget.take(delta);
        if (kept !== '') tool.args.push(kept);
        return true;
      }
      case 'response.function_call_arguments.done': {
        const tool = this.toolFor(json);
        if (tool !== undefined && typeof json.arguments === 'string') this.whole(tool, json.arguments);
        return false;
      }
      case 'response.created':
      case 'response.in_progress':
      case 'response.queued':
        this.response(json.response, false);
        return false;
      case 'response.completed':
      case 'response.incomplete':
      case 'response.failed':
        this.response(json.response, true);
        this.complete = true;
        return false;
      case 'error':
        // `{ type: 'error', code, message }`: the top-level type is the event's, not the error's.
        this.error =
          json.error !== null && typeof json.error === 'object'
            ? toError(json.error, 'error')
            : toError({ code: json.code, message: json.message }, 'error');
        this.complete = true;
        return false;
      default:
        return false;
    }
  }

  private response(r: any, terminal: boolean): void {
    if (r === null || typeof r !== 'object') return;
    const id = str(r.id);
    if (id !== undefined) this.id = id;
    const model = str(r.model);
    if (model !== undefined) this.model = model;
    if (r.usage !== null && typeof r.usage === 'object') this.usage = openaiUsage(r.usage, RESPONSES_USAGE);
    if (!terminal) return;
    const status = str(r.status);
    if (status !== undefined) {
      const choice = this.main();
      if (choice !== undefined) choice.finishReason = status;
    }
    if (r.error !== null && typeof r.error === 'object') this.error = toError(r.error, 'error');
  }

  private item(item: any, index: number, added: boolean): boolean {
    if (item === null || typeof item !== 'object' || item.type !== 'function_call') return false;
    const choice = this.main();
    const tool = choice?.tool(index);
    if (tool === undefined) return false;
    const callId = str(item.call_id) ?? str(item.id);
    if (callId !== undefined && tool.id === '') tool.id = callId;
    const name = str(item.name);
    if (name !== undefined) tool.name = name;
    const itemId = str(item.id);
    if (itemId !== undefined && !this.toolByItemId.has(itemId)) this.toolByItemId.set(itemId, tool);
    if (typeof item.arguments === 'string' && item.arguments !== '') this.whole(tool, item.arguments);
    return added;
  }

  /** Complete arguments, kept (within the budget) only if no fragments came. */
  private whole(tool: ToolCallBuilder, args: string): void {
    if (tool.args.length === 0 && tool.whole === undefined) tool.whole = this.budget.take(args);
  }

  private toolFor(json: any): ToolCallBuilder | undefined {
    const itemId = str(json.item_id);
    if (itemId !== undefined) {
      const byId = this.toolByItemId.get(itemId);
      if (byId !== undefined) return byId;
    }
    return this.main()?.tool(outputIndex(json));
  }
}

function outputIndex(json: any): number {
  return typeof json.output_index === 'number' ? json.output_index : 0;
}
