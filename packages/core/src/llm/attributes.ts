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

/** The most named facts a result may carry beyond tokens and content (`LLMResult#attributes`). */
export const MAX_EXTRA_ATTRIBUTES = 8;

/**
 * The most attributes llmAttributes writes: 18 of its own (the estimate mark takes the place of
 * the cost: an estimate is never priced), the two previous names of `dup` mode, and the extras.
 */
export const MAX_LLM_ATTRIBUTES = 20 + MAX_EXTRA_ATTRIBUTES;

/**
 * Which GenAI attribute names to write: `latest` (the current conventions, the default and what
 * `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental` asks for) or `dup` (`.../dup`: the
 * current names and the previous ones, `gen_ai.usage.cache_creation.input_tokens` and `gen_ai.system`,
 * for backends that still read those).
 */
export type GenAINames = 'latest' | 'dup';

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
  /**
   * The stream was cut before the provider reported usage: the output count is estimated from this
   * many content chunks (`tracewire.usage.estimated`), and no cost is given from an estimate.
   */
  estimateOutputFrom?: number;
  /** Attribute names to write (default `latest`). */
  names?: GenAINames;
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
    a['gen_ai.operation.name'] = result.operation ?? 'chat';
    if (options.requestModel) a['gen_ai.request.model'] = options.requestModel;
    if (result.model) a['gen_ai.response.model'] = result.model;
    if (result.id) a['gen_ai.response.id'] = result.id;
    if (options.stream) a['gen_ai.request.stream'] = true;
    const reasons: string[] = [];
    for (const c of result.choices) if (c.finishReason !== null) reasons.push(c.finishReason);
    if (reasons.length > 0) a['gen_ai.response.finish_reasons'] = reasons;
    const u = result.usage;
    const dup = options.names === 'dup';
    if (dup) a['gen_ai.system'] = result.provider; // the provider's name before gen_ai.provider.name (semconv 1.36 and earlier)
    if (u.input !== undefined) a['gen_ai.usage.input_tokens'] = u.input;
    let estimated = false;
    if (u.output !== undefined) a['gen_ai.usage.output_tokens'] = u.output;
    else if (options.estimateOutputFrom !== undefined && options.estimateOutputFrom > 0) {
      // Most providers send about one token per content chunk; Anthropic sends a few. An estimate
      // is better than nothing for a cut stream the provider still bills, but it is marked.
      a['gen_ai.usage.output_tokens'] = options.estimateOutputFrom;
      a['tracewire.usage.estimated'] = true;
      estimated = true;
    }
    if (u.cached !== undefined) a['gen_ai.usage.cache_read.input_tokens'] = u.cached;
    if (u.cacheCreation !== undefined) {
      a['gen_ai.usage.cache_write.input_tokens'] = u.cacheCreation;
      if (dup) a['gen_ai.usage.cache_creation.input_tokens'] = u.cacheCreation;
    }
    if (u.reasoning !== undefined) a['gen_ai.usage.reasoning.output_tokens'] = u.reasoning;
    if (options.stream && options.firstChunkTime !== undefined && options.startTime !== undefined) {
      a['gen_ai.response.time_to_first_chunk'] = Math.max(0, options.firstChunkTime - options.startTime) / 1000;
    }
    if (options.contentChunks !== undefined) a['tracewire.llm.chunks'] = options.contentChunks;
    // No cost from an estimate: absent rather than wrong. Embeddings produce no output tokens.
    const priced = result.operation === 'embeddings' && u.output === undefined && u.input !== undefined ? { ...u, output: 0 } : u;
    const cost = estimated ? undefined : llmCost(result.model ?? options.requestModel, priced, options.pricing);
    if (cost !== undefined) a['tracewire.usage.cost'] = cost;
    if (result.truncated) a['tracewire.llm.truncated'] = true;
    const extras = result.attributes;
    if (extras !== undefined) {
      let n = 0;
      for (const key in extras) {
        if (n++ >= MAX_EXTRA_ATTRIBUTES) break;
        a[key] = extras[key];
      }
    }
    if (options.captureContent === true) {
      const max = options.maxBytes ?? DEFAULT_CONTENT_BYTES;
      const input = toInputMessages(options.inputMessages);
      if (input !== undefined && input.length > 0) a['gen_ai.input.messages'] = messagesJson(input, max, true);
      // Calls that generate no messages (embeddings, speech, images, management) have none to record.
      if (result.choices.length > 0 || result.operation === undefined) a['gen_ai.output.messages'] = messagesJson(toOutputMessages(result), max, false);
    }
  } catch {
    // Attributes are best effort; a malformed result never reaches the caller as an exception.
  }
  return a;
}
