/**
 * What Tracewire reconstructs from an LLM response, streamed or not. Plain data, safe to
 * JSON-serialise; the same shape as the SDK reconstructions in `fixtures/llm-streams/expected.json`.
 */

/**
 * `gen_ai.provider.name` as the response's own format tells it (the URL can say more: `azure.ai.openai`,
 * `groq`...). Google's Gemini API is `gcp.gemini` (GenAI conventions); Ollama's native API `ollama`.
 */
export type LLMProvider = 'openai' | 'anthropic' | 'gcp.gemini' | 'ollama';
/**
 * The wire API: OpenAI Chat Completions (and compatible servers), OpenAI Responses, Anthropic Messages,
 * Gemini `generateContent`, Ollama `/api/chat` and `/api/generate`, OpenAI audio transcriptions and
 * speech, embeddings (OpenAI and Ollama), OpenAI image generation, and the management calls that
 * carry no generated content (batches, files, Anthropic `count_tokens`).
 */
export type LLMApi =
  | 'chat.completions'
  | 'responses'
  | 'messages'
  | 'generate_content'
  | 'ollama.chat'
  | 'ollama.generate'
  | 'audio.transcriptions'
  | 'audio.speech'
  | 'embeddings'
  | 'images'
  | 'batches'
  | 'files'
  | 'count_tokens';

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
  /** Output tokens spent on reasoning (OpenAI reasoning tokens, Gemini thoughts); part of `output`. */
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
  /** The GenAI operation (`gen_ai.operation.name`) when it is not `chat`: `generate_content`, `embeddings`... */
  operation?: string;
  /**
   * Facts of the call that are not tokens or content, already named (`tracewire.audio.output_bytes`,
   * `tracewire.batch.id`, `tracewire.image.count`...): at most MAX_EXTRA_ATTRIBUTES, plain values.
   */
  attributes?: Record<string, string | number | boolean>;
}

/** Per-million-token USD prices of one model. */
export interface ModelPrice {
  input: number;
  output: number;
  /** Price of a cached (cache-read) input token; defaults to `input`. */
  cachedInput?: number;
  /** Price of a cache-write input token; defaults to `input`. */
  cacheWrite?: number;
  /** Price of a reasoning output token (part of the output count); defaults to `output`. */
  reasoning?: number;
  /** Where the price was taken from (a URL), for the shipped table. */
  source?: string;
  /** When it was taken (YYYY-MM-DD). */
  takenOn?: string;
}

/** Model name → price, as in `TracerOptions.pricing`. */
export type PricingTable = Record<string, ModelPrice>;
