/** LLM facts: the result shape, GenAI attributes, messages and the price table. */
export type { LLMApi, LLMChoice, LLMError, LLMProvider, LLMResult, LLMToolCall, LLMUsage, ModelPrice, PricingTable } from './types';
export { llmAttributes, DEFAULT_CONTENT_BYTES } from './attributes';
export type { LLMAttributeOptions, GenAINames } from './attributes';
export {
  withLLMSpan,
  recordLLMResponse,
  recordLLMStream,
  withToolSpan,
  withAgentSpan,
  withEmbeddingsSpan,
  withSpeechSpan,
  withTranscriptionSpan,
  withPipelineStep,
} from './helpers';
export type {
  LLMSpanParams,
  EmbeddingsSpanParams,
  SpeechSpanParams,
  TranscriptionSpanParams,
  ToolSpanOptions,
  AgentSpanOptions,
  PipelineFrames,
} from './helpers';
export { toInputMessages, toOutputMessages, messagesJson } from './messages';
export type { GenAIMessage, GenAIPart } from './messages';
export { findModelPrice, costOf, llmCost } from './pricing';
export { LLM_PRICES } from './prices';
export type { PriceTable, PriceSource } from './prices';
