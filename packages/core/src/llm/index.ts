/** LLM facts: the result shape, GenAI attributes, messages and the price table. */
export type { LLMApi, LLMChoice, LLMError, LLMProvider, LLMResult, LLMToolCall, LLMUsage, ModelPrice, PricingTable } from './types';
export { llmAttributes, DEFAULT_CONTENT_BYTES } from './attributes';
export type { LLMAttributeOptions } from './attributes';
export { toInputMessages, toOutputMessages, messagesJson } from './messages';
export type { GenAIMessage, GenAIPart } from './messages';
export { findModelPrice, costOf, llmCost } from './pricing';
export { LLM_PRICES } from './prices';
export type { PriceTable } from './prices';
