/**
 * Messages in the OpenTelemetry GenAI convention's JSON schema (gen-ai-input-messages.json,
 * gen-ai-output-messages.json): `{ role, parts: [{ type: 'text', content } | { type: 'tool_call',
 * id, name, arguments } | { type: 'tool_call_response', id, response } | ...], finish_reason }`,
 * converted from OpenAI Chat Completions, Responses and Anthropic Messages request and response
 * shapes, and serialised within a byte cap without breaking the JSON.
 */
import type { LLMResult } from './types';

export interface GenAIPart {
  type: string;
  [key: string]: unknown;
}
export interface GenAIMessage {
  role: string;
  parts: GenAIPart[];
  name?: string;
  finish_reason?: string;
}

/** Tool arguments as an object when they are complete JSON, else the text as the model wrote it. */
function parseArguments(args: unknown): unknown {
  if (typeof args !== 'string') return args ?? null;
  if (args === '') return args;
  try {
    return JSON.parse(args);
  } catch {
    return args;
  }
}

// The convention's FinishReason values; the provider's own value is kept when none fits.
const FINISH: Record<string, string> = {
  stop: 'stop',
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  completed: 'stop',
  length: 'length',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  incomplete: 'length',
  tool_calls: 'tool_call',
  function_call: 'tool_call',
  tool_use: 'tool_call',
  content_filter: 'content_filter',
  refusal: 'content_filter',
  failed: 'error',
  // Gemini (FinishReason enum) and Ollama.
  STOP: 'stop',
  MAX_TOKENS: 'length',
  SAFETY: 'content_filter',
  RECITATION: 'content_filter',
  BLOCKLIST: 'content_filter',
  PROHIBITED_CONTENT: 'content_filter',
  SPII: 'content_filter',
  MALFORMED_FUNCTION_CALL: 'error',
  load: 'stop',
};

/** `gen_ai.output.messages`: one assistant message per choice. */
export function toOutputMessages(result: LLMResult): GenAIMessage[] {
  return result.choices.map((c) => {
    const parts: GenAIPart[] = [];
    if (c.text !== null) parts.push({ type: 'text', content: c.text });
    if (c.refusal !== null) parts.push({ type: 'refusal', content: c.refusal });
    for (const t of c.toolCalls) parts.push({ type: 'tool_call', id: t.id, name: t.name, arguments: parseArguments(t.arguments) });
    let finish: string;
    if (c.finishReason !== null) finish = FINISH[c.finishReason] ?? c.finishReason;
    // A transcript has no finish reason: complete is `stop`. Otherwise cut before the model
    // finished, or failed in-band.
    else finish = result.api === 'audio.transcriptions' && !result.truncated && result.error === undefined ? 'stop' : 'error';
    return { role: 'assistant', parts, finish_reason: finish };
  });
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((b) => (typeof b === 'string' ? b : b && typeof b === 'object' && typeof (b as any).text === 'string' ? (b as any).text : ''))
      .join('');
  }
  return content === undefined || content === null ? '' : JSON.stringify(content);
}

function partsOf(content: unknown): GenAIPart[] {
  if (typeof content === 'string') return [{ type: 'text', content }];
  if (!Array.isArray(content)) return [];
  const parts: GenAIPart[] = [];
  for (const block of content) {
    if (typeof block === 'string') {
      parts.push({ type: 'text', content: block });
      continue;
    }
    if (block === null || typeof block !== 'object') continue;
    const b = block as any;
    switch (b.type) {
      case 'text':
      case 'input_text':
      case 'output_text':
        parts.push({ type: 'text', content: typeof b.text === 'string' ? b.text : '' });
        break;
      case 'refusal':
        parts.push({ type: 'refusal', content: typeof b.refusal === 'string' ? b.refusal : '' });
        break;
      case 'tool_use':
        parts.push({ type: 'tool_call', id: b.id ?? null, name: String(b.name ?? ''), arguments: b.input ?? null });
        break;
      case 'tool_result':
        parts.push({ type: 'tool_call_response', id: b.tool_use_id ?? null, response: textOf(b.content) });
        break;
      case 'thinking':
        parts.push({ type: 'reasoning', content: typeof b.thinking === 'string' ? b.thinking : '' });
        break;
      default:
        // Images, files, audio...: the kind only, never the (possibly huge) data.
        if (typeof b.type === 'string') parts.push({ type: b.type });
    }
  }
  return parts;
}

function convert(list: unknown[]): GenAIMessage[] {
  const out: GenAIMessage[] = [];
  for (const item of list) {
    if (item === null || typeof item !== 'object') continue;
    const m = item as any;
    if (m.type === 'function_call') {
      out.push({ role: 'assistant', parts: [{ type: 'tool_call', id: m.call_id ?? null, name: String(m.name ?? ''), arguments: parseArguments(m.arguments) }] });
      continue;
    }
    if (m.type === 'function_call_output') {
      out.push({ role: 'tool', parts: [{ type: 'tool_call_response', id: m.call_id ?? null, response: textOf(m.output) }] });
      continue;
    }
    if (typeof m.role !== 'string') continue;
    let parts: GenAIPart[];
    if (m.role === 'tool') {
      parts = [{ type: 'tool_call_response', id: m.tool_call_id ?? null, response: textOf(m.content) }];
    } else {
      parts = partsOf(m.content);
      if (Array.isArray(m.tool_calls)) {
        for (const t of m.tool_calls) {
          if (t === null || typeof t !== 'object') continue;
          parts.push({ type: 'tool_call', id: t.id ?? null, name: String(t.function?.name ?? ''), arguments: parseArguments(t.function?.arguments) });
        }
      }
      if (m.function_call !== null && typeof m.function_call === 'object') {
        parts.push({ type: 'tool_call', id: null, name: String(m.function_call.name ?? ''), arguments: parseArguments(m.function_call.arguments) });
      }
    }
    const msg: GenAIMessage = { role: m.role, parts };
    if (typeof m.name === 'string') msg.name = m.name;
    out.push(msg);
  }
  return out;
}

/**
 * `gen_ai.input.messages` from what the request sent: a request body (`{ messages, system }`,
 * `{ input, instructions }`), a list of messages or Responses input items, or a plain prompt string.
 * Undefined when nothing usable was given.
 */
export function toInputMessages(input: unknown): GenAIMessage[] | undefined {
  if (input === undefined || input === null) return undefined;
  if (typeof input === 'string') return [{ role: 'user', parts: [{ type: 'text', content: input }] }];
  if (Array.isArray(input)) return convert(input);
  if (typeof input !== 'object') return undefined;
  const o = input as any;
  const out: GenAIMessage[] = [];
  const system = o.system ?? o.instructions ?? o.systemInstruction ?? o.system_instruction;
  if (system !== undefined && system !== null) out.push({ role: 'system', parts: Array.isArray(system?.parts) ? geminiParts(system.parts) : partsOf(system) });
  if (Array.isArray(o.messages)) out.push(...convert(o.messages));
  else if (Array.isArray(o.contents)) out.push(...geminiContents(o.contents));
  else if (typeof o.prompt === 'string') out.push({ role: 'user', parts: [{ type: 'text', content: o.prompt }] });
  else if (typeof o.input === 'string') out.push({ role: 'user', parts: [{ type: 'text', content: o.input }] });
  else if (Array.isArray(o.input)) out.push(...convert(o.input));
  else if (typeof o.role === 'string') out.push(...convert([o]));
  return out;
}

/** Gemini `parts`: text, `functionCall`, `functionResponse`; thoughts as reasoning; media by kind only. */
function geminiParts(parts: unknown[]): GenAIPart[] {
  const out: GenAIPart[] = [];
  for (const p of parts) {
    if (p === null || typeof p !== 'object') continue;
    const part = p as any;
    if (typeof part.text === 'string') out.push({ type: part.thought === true ? 'reasoning' : 'text', content: part.text });
    else if (part.functionCall && typeof part.functionCall === 'object') {
      out.push({ type: 'tool_call', id: part.functionCall.id ?? null, name: String(part.functionCall.name ?? ''), arguments: part.functionCall.args ?? null });
    } else if (part.functionResponse && typeof part.functionResponse === 'object') {
      out.push({ type: 'tool_call_response', id: part.functionResponse.id ?? null, response: part.functionResponse.response ?? null });
    } else if (part.inlineData || part.fileData) out.push({ type: part.inlineData ? 'blob' : 'file' });
  }
  return out;
}

/** Gemini `contents` (role `user` / `model`) as messages. */
function geminiContents(contents: unknown[]): GenAIMessage[] {
  const out: GenAIMessage[] = [];
  for (const c of contents) {
    if (c === null || typeof c !== 'object') continue;
    const content = c as any;
    const role = content.role === 'model' ? 'assistant' : typeof content.role === 'string' ? content.role : 'user';
    out.push({ role, parts: Array.isArray(content.parts) ? geminiParts(content.parts) : [] });
  }
  return out;
}

// Part fields that hold content (and may be large).
const CONTENT_KEYS = ['content', 'arguments', 'response'] as const;

function jsonBytes(s: string): number {
  return Buffer.byteLength(JSON.stringify(s), 'utf8') - 2;
}

/** The longest prefix of `s` whose JSON-escaped UTF-8 size fits `budget`, never splitting a surrogate pair. */
function cutToJsonBudget(s: string, budget: number): string {
  let lo = 0;
  let hi = s.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (jsonBytes(s.slice(0, mid)) <= budget) lo = mid;
    else hi = mid - 1;
  }
  let k = lo;
  if (k > 0 && k < s.length) {
    const c = s.charCodeAt(k - 1);
    if (c >= 0xd800 && c <= 0xdbff) k--;
  }
  return s.slice(0, k);
}

/**
 * `messages` as a JSON string of at most `maxBytes` UTF-8 bytes that is still valid JSON: content
 * strings are cut short in order (non-string content is first turned into its JSON text), and when
 * even the bare structure does not fit, whole messages are left out (the oldest for input, the last
 * for output).
 */
export function messagesJson(messages: GenAIMessage[], maxBytes: number, dropOldest: boolean): string {
  const whole = JSON.stringify(messages);
  if (Buffer.byteLength(whole, 'utf8') <= maxBytes) return whole;
  const slots: Array<{ part: GenAIPart; key: string; value: string }> = [];
  let copy: GenAIMessage[] = messages.map((m) => ({
    ...m,
    parts: m.parts.map((p) => {
      const q: GenAIPart = { ...p };
      for (const key of CONTENT_KEYS) {
        if (!(key in q)) continue;
        const v = q[key];
        const value = typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v) ?? '';
        q[key] = '';
        slots.push({ part: q, key, value });
      }
      return q;
    }),
  }));
  // The structure alone: drop messages until it fits.
  const sizes = copy.map((m) => Buffer.byteLength(JSON.stringify(m), 'utf8') + 1);
  let total = 1 + sizes.reduce((a, b) => a + b, 0);
  while (copy.length > 0 && total > maxBytes) {
    total -= dropOldest ? sizes.shift()! : sizes.pop()!;
    copy = dropOldest ? copy.slice(1) : copy.slice(0, -1);
  }
  if (copy.length === 0) return '[]';
  const kept = new Set(copy.flatMap((m) => m.parts));
  let budget = maxBytes - total;
  for (const slot of slots) {
    if (!kept.has(slot.part) || budget <= 0) continue;
    const n = jsonBytes(slot.value);
    if (n <= budget) {
      slot.part[slot.key] = slot.value;
      budget -= n;
    } else {
      slot.part[slot.key] = cutToJsonBudget(slot.value, budget);
      budget = 0;
    }
  }
  return JSON.stringify(copy);
}
