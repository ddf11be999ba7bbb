/**
 * `LLMResult` → span attributes, shared by the stream accumulator (server spans) and `tracedFetch`
 * (client spans). Names follow the OpenTelemetry GenAI semantic conventions
 * (docs/gen-ai/gen-ai-spans.md, openai.md, anthropic.md) and the README's attribute tables. Usage the response did not
 * carry is left out, never 0.
 */
import type { Attributes } from '../types';
import { messagesJson, toInputMessages, toOutputMessages } from './messages';
import { llmCost } from './pricing';
import type { LLMResult, PricingTable } from './types';

/** The most attributes llmAttributes writes. */
export const MAX_LLM_ATTRIBUTES = 18;

/** Default cap on captured content (output text while streaming, and each message attribute). */
export const DEFAULT_CONTENT_BYTES = 32 * 1024;

export interface LLMAttributeOptions {
  /** The model the request asked for (`gen_ai.request.model`). */
  requestModel?: string;
  /** Whether the request was streamed (`gen_ai.request.stream`, set only when true). */
  stream: boolean;
  /** Epoch ms the request (server span) or the call (`tracedFetch`) started. */
  startTime?: number;
  /** Epoch ms of the first event carrying generated content (`gen_ai.response.time_to_first_chunk`). */
  firstChunkTime?: number;
  /** Record `gen_ai.input.messages` / `gen_ai.output.messages` (default false). */
  captureContent?: boolean;
  /** The request's messages or body, for `gen_ai.input.messages`. */
  inputMessages?: unknown;
  /** Byte cap of each message attribute (default 32 KiB). */
  maxBytes?: number;
  /** User prices, searched before the shipped table. */
  pricing?: PricingTable;
  /** Events that carried generated content (`tracewire.llm.chunks`), for streams. */
  contentChunks?: number;
}

/**
 * The GenAI attributes of one LLM call, written into `a` (a new object by default; see
 * fillTrustedAttributes for why each is named here). Never throws.
 */
export function llmAttributes(result: LLMResult, options: LLMAttributeOptions, a: Attributes = {}): Attributes {
  try {
    a['gen_ai.provider.name'] = result.provider;
    // Chat Completions, Messages and Responses are all the convention's `chat` operation
    // (its `openai.api.type` tells Chat Completions from Responses).
    a['gen_ai.operation.name'] = 'chat';
    if (options.requestModel) a['gen_ai.request.model'] = options.requestModel;
    if (result.model) a['gen_ai.response.model'] = result.model;
    if (result.id) a['gen_ai.response.id'] = result.id;
    if (options.stream) a['gen_ai.request.stream'] = true;
    const reasons: string[] = [];
    for (const c of result.choices) if (c.finishReason !== null) reasons.push(c.finishReason);
    if (reasons.length > 0) a['gen_ai.response.finish_reasons'] = reasons;
    const u = result.usage;
    if (u.input !== undefined) a['gen_ai.usage.input_tokens'] = u.input;
    if (u.output !== undefined) a['gen_ai.usage.output_tokens'] = u.output;
    if (u.cached !== undefined) a['gen_ai.usage.cache_read.input_tokens'] = u.cached;
    if (u.cacheCreation !== undefined) a['gen_ai.usage.cache_creation.input_tokens'] = u.cacheCreation;
    if (u.reasoning !== undefined) a['gen_ai.usage.reasoning.output_tokens'] = u.reasoning;
    if (options.stream && options.firstChunkTime !== undefined && options.startTime !== undefined) {
      a['gen_ai.response.time_to_first_chunk'] = Math.max(0, options.firstChunkTime - options.startTime) / 1000;
    }
    if (options.contentChunks !== undefined) a['tracewire.llm.chunks'] = options.contentChunks;
    const cost = llmCost(result.model ?? options.requestModel, u, options.pricing);
    if (cost !== undefined) a['tracewire.usage.cost'] = cost;
    if (result.truncated) a['tracewire.llm.truncated'] = true;
    if (options.captureContent === true) {
      const max = options.maxBytes ?? DEFAULT_CONTENT_BYTES;
      const input = toInputMessages(options.inputMessages);
      if (input !== undefined && input.length > 0) a['gen_ai.input.messages'] = messagesJson(input, max, true);
      a['gen_ai.output.messages'] = messagesJson(toOutputMessages(result), max, false);
    }
  } catch {
    // Attributes are best effort; a malformed result never reaches the caller as an exception.
  }
  return a;
}
