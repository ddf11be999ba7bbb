/**
 * Non-streamed LLM responses (a parsed JSON body, or the object an SDK returns) → the same
 * `LLMResult` the stream decoders build, so `tracedFetch` and `recordLLMResponse` record streamed
 * and non-streamed calls alike: an OpenAI `chat.completion`, a Responses `response`, an Anthropic
 * `message` or error body, a Gemini `GenerateContentResponse`, an Ollama chat/generate/embed
 * response, OpenAI embeddings, transcriptions and image generations (counts, never the images),
 * and the management calls (OpenAI batches and files, Anthropic message batches and
 * `count_tokens`: their ids and states only).
 */
import type { LLMApi, LLMChoice, LLMResult, LLMToolCall } from '../llm/types';
import { anthropicUsage } from './decoders/anthropic';
import { CHAT_USAGE, RESPONSES_USAGE, TextBudget, count, openaiUsage, str, toError } from './decoders/common';
import { GeminiDecoder } from './decoders/gemini';
import { OllamaDecoder, isOllamaLine } from './decoders/ollama';
import { audioUsage, base64Bytes } from './decoders/openai-audio';

/** What the caller knows of the call (the endpoint it went to), for bodies that do not say what they are. */
export interface ResponseHint {
  api?: LLMApi;
  /** `gen_ai.operation.name` of the call (`create_batch`, `count_tokens`...). */
  operation?: string;
}

/** Reconstructs a non-streamed response body; undefined when it is not one Tracewire knows. Never throws. */
export function decodeLLMResponseBody(json: unknown, hint: ResponseHint = {}): LLMResult | undefined {
  try {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) return undefined;
    const body = json as any;
    const result = decode(body, hint);
    if (result !== undefined && hint.operation !== undefined && result.operation === undefined && hint.operation !== 'chat') result.operation = hint.operation;
    return result;
  } catch {
    return undefined;
  }
}

function decode(body: any, hint: ResponseHint): LLMResult | undefined {
  if (body.object === 'chat.completion' || (Array.isArray(body.choices) && body.choices.some(hasMessage))) {
    return chatCompletion(body);
  }
  if (body.object === 'response' && Array.isArray(body.output)) return response(body);
  if (body.type === 'message' && Array.isArray(body.content)) return message(body);
  if (body.type === 'error' && body.error !== null && typeof body.error === 'object') {
    return { provider: 'anthropic', api: 'messages', id: null, model: null, choices: [], usage: {}, error: toError(body.error, 'error'), truncated: false };
  }
  if (Array.isArray(body.candidates) || (hint.api === 'generate_content' && body.usageMetadata !== undefined)) return whole(new GeminiDecoder(wholeBudget()), body);
  if (isOllamaLine(body)) return whole(new OllamaDecoder(wholeBudget(), body), body);
  if (Array.isArray(body.embeddings) || Array.isArray(body.embedding) || isEmbeddingList(body)) return embeddings(body);
  if (body.type === 'message_batch' || body.object === 'batch') return management(hint, 'batches', batchFacts(body));
  if (body.object === 'file') return management(hint, 'files', fileFacts(body));
  if (body.object === 'list' && Array.isArray(body.data)) {
    const kind = body.data[0]?.object;
    if (hint.api === 'batches' || kind === 'batch') return management(hint, 'batches', { 'tracewire.batch.count': body.data.length });
    if (hint.api === 'files' || kind === 'file') return management(hint, 'files', { 'tracewire.file.count': body.data.length });
  }
  if (hint.api === 'count_tokens' && count(body.input_tokens) !== undefined) {
    // A count, not a use of tokens: never reported as usage, never priced.
    return management(hint, 'count_tokens', { 'tracewire.count_tokens.input_tokens': body.input_tokens });
  }
  if (hint.api === 'audio.transcriptions' || (typeof body.text === 'string' && (body.usage?.type === 'tokens' || body.usage?.type === 'duration'))) {
    return transcription(body);
  }
  if (hint.api === 'images' || isImageList(body)) return images(body);
  return undefined;
}

/** Whole bodies keep all their text: they are in memory already, and messagesJson caps what is recorded. */
function wholeBudget(): TextBudget {
  return new TextBudget(Number.MAX_SAFE_INTEGER);
}

function whole(decoder: GeminiDecoder | OllamaDecoder, body: unknown): LLMResult {
  decoder.event(body);
  const result = decoder.result(true);
  // A whole body is the whole answer: nothing more is coming.
  result.truncated = false;
  return result;
}

function isEmbeddingList(body: any): boolean {
  return body.object === 'list' && Array.isArray(body.data) && body.data.length > 0 && body.data[0]?.object === 'embedding';
}

function isImageList(body: any): boolean {
  return typeof body.created === 'number' && Array.isArray(body.data) && body.data.length > 0 && body.data.every((d: any) => d !== null && typeof d === 'object' && ('b64_json' in d || 'url' in d));
}

function base(provider: LLMResult['provider'], api: LLMApi, operation: string, body: any): LLMResult {
  return { provider, api, id: str(body.id) ?? null, model: str(body.model) ?? null, choices: [], usage: {}, truncated: false, operation };
}

function embeddings(body: any): LLMResult {
  if (Array.isArray(body.data)) {
    const r = base('openai', 'embeddings', 'embeddings', body);
    r.id = null;
    if (body.usage !== null && typeof body.usage === 'object') {
      const input = count(body.usage.prompt_tokens);
      if (input !== undefined) r.usage = { input };
    }
    const first = body.data[0]?.embedding;
    r.attributes = { 'tracewire.embeddings.count': body.data.length };
    if (Array.isArray(first) && first.length > 0) r.attributes['gen_ai.embeddings.dimension.count'] = first.length;
    // encoding_format base64 (what the SDK asks for): little-endian float32s.
    else if (typeof first === 'string' && first !== '') r.attributes['gen_ai.embeddings.dimension.count'] = Math.floor(base64Bytes(first) / 4);
    return r;
  }
  // Ollama: /api/embed `{ model, embeddings: [[...]], prompt_eval_count }`, /api/embeddings `{ embedding: [...] }`.
  const r = base('ollama', 'embeddings', 'embeddings', body);
  const input = count(body.prompt_eval_count);
  if (input !== undefined) r.usage = { input };
  const vectors: unknown[] = Array.isArray(body.embeddings) ? body.embeddings : [body.embedding];
  r.attributes = { 'tracewire.embeddings.count': vectors.length };
  if (Array.isArray(vectors[0])) r.attributes['gen_ai.embeddings.dimension.count'] = (vectors[0] as unknown[]).length;
  return r;
}

function transcription(body: any): LLMResult {
  const r = base('openai', 'audio.transcriptions', 'speech_to_text', body);
  r.id = null;
  const text = typeof body.text === 'string' ? body.text : '';
  r.choices = [{ index: 0, text: text === '' ? null : text, refusal: null, toolCalls: [], finishReason: null }];
  r.attributes = { 'tracewire.transcription.output_characters': text.length };
  if (body.usage !== null && typeof body.usage === 'object') {
    const { usage, seconds } = audioUsage(body.usage);
    r.usage = usage;
    if (seconds !== undefined) r.attributes['tracewire.audio.input_seconds'] = seconds;
  }
  // verbose_json: the audio's length and the detected language.
  const duration = typeof body.duration === 'number' && Number.isFinite(body.duration) && body.duration >= 0 ? body.duration : undefined;
  if (duration !== undefined && r.attributes['tracewire.audio.input_seconds'] === undefined) r.attributes['tracewire.audio.input_seconds'] = duration;
  const language = str(body.language);
  if (language !== undefined) r.attributes['gen_ai.speech.input.language'] = language;
  return r;
}

function images(body: any): LLMResult {
  const r = base('openai', 'images', 'generate_image', body);
  r.id = null;
  // Counts only: never an image, a URL (it grants access) or a revised prompt.
  r.attributes = { 'tracewire.image.count': Array.isArray(body.data) ? body.data.length : 0 };
  const u = body.usage;
  if (u !== null && typeof u === 'object') {
    const input = count(u.input_tokens);
    const output = count(u.output_tokens);
    r.usage = {};
    if (input !== undefined) r.usage.input = input;
    if (output !== undefined) r.usage.output = output;
  }
  for (const key of ['size', 'quality', 'output_format'] as const) {
    const v = str(body[key]);
    if (v !== undefined) r.attributes[`tracewire.image.${key}`] = v;
  }
  return r;
}

function batchFacts(body: any): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  const id = str(body.id);
  if (id !== undefined) out['tracewire.batch.id'] = id;
  const status = str(body.status) ?? str(body.processing_status);
  if (status !== undefined) out['tracewire.batch.status'] = status;
  const endpoint = str(body.endpoint);
  if (endpoint !== undefined) out['tracewire.batch.endpoint'] = endpoint;
  const file = str(body.input_file_id);
  if (file !== undefined) out['tracewire.file.id'] = file;
  const c = body.request_counts;
  if (c !== null && typeof c === 'object') {
    // OpenAI: total / completed / failed; Anthropic: processing / succeeded / errored / canceled / expired.
    let total = count(c.total);
    if (total === undefined) {
      total = 0;
      for (const k of ['processing', 'succeeded', 'errored', 'canceled', 'expired']) total += count(c[k]) ?? 0;
    }
    out['tracewire.batch.requests.total'] = total;
    const done = count(c.completed) ?? count(c.succeeded);
    if (done !== undefined) out['tracewire.batch.requests.succeeded'] = done;
    const failed = count(c.failed) ?? count(c.errored);
    if (failed !== undefined) out['tracewire.batch.requests.failed'] = failed;
  }
  return out;
}

function fileFacts(body: any): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  const id = str(body.id);
  if (id !== undefined) out['tracewire.file.id'] = id;
  const purpose = str(body.purpose);
  if (purpose !== undefined) out['tracewire.file.purpose'] = purpose;
  const bytes = count(body.bytes);
  if (bytes !== undefined) out['tracewire.file.bytes'] = bytes;
  if (body.deleted === true) out['tracewire.file.deleted'] = true;
  return out;
}

/** A call that manages things (batches, files, token counts): no content, no usage, its facts only. */
function management(hint: ResponseHint, api: LLMApi, facts: Record<string, string | number | boolean>): LLMResult {
  const provider = hint.api === 'count_tokens' || facts['tracewire.batch.id']?.toString().startsWith('msgbatch_') ? 'anthropic' : 'openai';
  return { provider, api, id: null, model: null, choices: [], usage: {}, truncated: false, operation: hint.operation ?? api, attributes: facts };
}

function hasMessage(c: any): boolean {
  return c !== null && typeof c === 'object' && c.message !== null && typeof c.message === 'object';
}

function text(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

function chatCompletion(body: any): LLMResult {
  const choices: LLMChoice[] = [];
  body.choices.forEach((c: any, i: number) => {
    if (c === null || typeof c !== 'object') return;
    const m = c.message ?? {};
    const toolCalls: LLMToolCall[] = [];
    if (Array.isArray(m.tool_calls)) {
      for (const t of m.tool_calls) {
        if (t === null || typeof t !== 'object') continue;
        toolCalls.push({ id: str(t.id) ?? '', name: str(t.function?.name) ?? '', arguments: typeof t.function?.arguments === 'string' ? t.function.arguments : '' });
      }
    } else if (m.function_call !== null && typeof m.function_call === 'object') {
      const f = m.function_call;
      toolCalls.push({ id: '', name: str(f.name) ?? '', arguments: typeof f.arguments === 'string' ? f.arguments : '' });
    }
    choices.push({
      index: typeof c.index === 'number' ? c.index : i,
      text: text(m.content),
      refusal: text(m.refusal),
      toolCalls,
      finishReason: str(c.finish_reason) ?? null,
    });
  });
  choices.sort((a, b) => a.index - b.index);
  const result: LLMResult = {
    provider: 'openai',
    api: 'chat.completions',
    id: str(body.id) ?? null,
    model: str(body.model) ?? null,
    choices,
    usage: body.usage !== null && typeof body.usage === 'object' ? openaiUsage(body.usage, CHAT_USAGE) : {},
    truncated: false,
  };
  return result;
}

function response(body: any): LLMResult {
  const texts: string[] = [];
  const refusals: string[] = [];
  const toolCalls: LLMToolCall[] = [];
  for (const item of body.output) {
    if (item === null || typeof item !== 'object') continue;
    if (item.type === 'message' && Array.isArray(item.content)) {
      for (const part of item.content) {
        if (part?.type === 'output_text' && typeof part.text === 'string') texts.push(part.text);
        else if (part?.type === 'refusal' && typeof part.refusal === 'string') refusals.push(part.refusal);
      }
    } else if (item.type === 'function_call') {
      toolCalls.push({ id: str(item.call_id) ?? str(item.id) ?? '', name: str(item.name) ?? '', arguments: typeof item.arguments === 'string' ? item.arguments : '' });
    }
  }
  const result: LLMResult = {
    provider: 'openai',
    api: 'responses',
    id: str(body.id) ?? null,
    model: str(body.model) ?? null,
    choices: [
      {
        index: 0,
        text: text(texts.join('')),
        refusal: text(refusals.join('')),
        toolCalls,
        finishReason: str(body.status) ?? null,
      },
    ],
    usage: body.usage !== null && typeof body.usage === 'object' ? openaiUsage(body.usage, RESPONSES_USAGE) : {},
    truncated: false,
  };
  if (body.error !== null && typeof body.error === 'object') result.error = toError(body.error, 'error');
  return result;
}

function message(body: any): LLMResult {
  const texts: string[] = [];
  const toolCalls: LLMToolCall[] = [];
  for (const block of body.content) {
    if (block === null || typeof block !== 'object') continue;
    if (block.type === 'text' && typeof block.text === 'string') texts.push(block.text);
    else if (block.type === 'tool_use') {
      toolCalls.push({ id: str(block.id) ?? '', name: str(block.name) ?? '', arguments: JSON.stringify(block.input ?? {}) });
    }
    // thinking / redacted_thinking blocks are not output text.
  }
  return {
    provider: 'anthropic',
    api: 'messages',
    id: str(body.id) ?? null,
    model: str(body.model) ?? null,
    choices: [{ index: 0, text: text(texts.join('')), refusal: null, toolCalls, finishReason: str(body.stop_reason) ?? null }],
    usage: body.usage !== null && typeof body.usage === 'object' ? anthropicUsage(body.usage) : {},
    truncated: false,
  };
}
