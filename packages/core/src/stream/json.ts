/**
 * Non-streamed LLM responses (a parsed JSON body) → the same `LLMResult` the stream decoders build,
 * so `tracedFetch` records streamed and non-streamed calls alike: an OpenAI `chat.completion`, a
 * Responses `response` object, an Anthropic `message`, or Anthropic's error body.
 */
import type { LLMChoice, LLMResult, LLMToolCall } from '../llm/types';
import { anthropicUsage } from './decoders/anthropic';
import { str, toError } from './decoders/common';
import { chatUsage } from './decoders/openai-chat';
import { responsesUsage } from './decoders/openai-responses';

/** Reconstructs a non-streamed response body; undefined when it is not one Tracewire knows. Never throws. */
export function decodeLLMResponseBody(json: unknown): LLMResult | undefined {
  try {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) return undefined;
    const body = json as any;
    if (body.object === 'chat.completion' || (Array.isArray(body.choices) && body.choices.some(hasMessage))) {
      return chatCompletion(body);
    }
    if (body.object === 'response' && Array.isArray(body.output)) return response(body);
    if (body.type === 'message' && Array.isArray(body.content)) return message(body);
    if (body.type === 'error' && body.error !== null && typeof body.error === 'object') {
      return { provider: 'anthropic', api: 'messages', id: null, model: null, choices: [], usage: {}, error: toError(body.error, 'error'), truncated: false };
    }
    return undefined;
  } catch {
    return undefined;
  }
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
    usage: body.usage !== null && typeof body.usage === 'object' ? chatUsage(body.usage) : {},
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
    usage: body.usage !== null && typeof body.usage === 'object' ? responsesUsage(body.usage) : {},
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
