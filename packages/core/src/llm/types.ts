/**
 * What Tracewire reconstructs from an LLM response, streamed or not. Plain data, safe to
 * JSON-serialise; the same shape as the SDK reconstructions in `fixtures/llm-streams/expected.json`.
 */

export type LLMProvider = 'openai' | 'anthropic';
/** The wire API: OpenAI Chat Completions (and compatible servers), OpenAI Responses, Anthropic Messages. */
export type LLMApi = 'chat.completions' | 'responses' | 'messages';

/** A tool (function) call requested by the model; `arguments` is the JSON text as the model wrote it. */
export interface LLMToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** One generation (OpenAI `choices[n]`; Responses and Anthropic have exactly one, index 0). */
export interface LLMChoice {
  index: number;
  /** Output text; null when the model produced none. Anthropic thinking is never part of it. */
  text: string | null;
  /** OpenAI refusal text; null when none. */
  refusal: string | null;
  /** In the provider's order (tool index / content block / output item). */
  toolCalls: LLMToolCall[];
  /** As the provider says it (`stop`, `tool_calls`, `end_turn`, `completed`, ...); null if not (yet) known. */
  finishReason: string | null;
}

/**
 * Token usage. A field is present only when the response carried it, never 0 by default.
 * `input` includes cached and cache-write tokens (GenAI convention; Anthropic's are added up).
 */
export interface LLMUsage {
  input?: number;
  output?: number;
  /** Input tokens read from the provider's cache. */
  cached?: number;
  /** Input tokens written to the provider's cache (Anthropic). */
  cacheCreation?: number;
  /** Output tokens spent on reasoning (OpenAI). */
  reasoning?: number;
}

/** An error the provider reported inside a 200 response (in-band), e.g. `server_error`, `overloaded_error`. */
export interface LLMError {
  type: string;
  message: string;
}

export interface LLMResult {
  provider: LLMProvider;
  api: LLMApi;
  id: string | null;
  model: string | null;
  choices: LLMChoice[];
  usage: LLMUsage;
  error?: LLMError;
  /** The stream ended (or was cut) before the provider's terminal event. */
  truncated: boolean;
  /** Present (true) when captured text hit the byte cap: text and arguments are cut short. */
  contentTruncated?: true;
}

/** Per-million-token USD prices of one model. */
export interface ModelPrice {
  input: number;
  output: number;
  /** Price of a cached (cache-read) input token; defaults to `input`. */
  cachedInput?: number;
  /** Price of a cache-write input token; defaults to `input`. */
  cacheWrite?: number;
}

/** Model name → price, as in `TracerOptions.pricing`. */
export type PricingTable = Record<string, ModelPrice>;
