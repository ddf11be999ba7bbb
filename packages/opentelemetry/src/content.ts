/**
 * LLM content in attributes of spans made through the OpenTelemetry API. Tracewire records prompts
 * and outputs only with `captureContent`, but the Vercel AI SDK (its `recordInputs` /
 * `recordOutputs` default to on) and GenAI instrumentations (OpenLLMetry-style indexed prompts, the
 * current GenAI conventions' messages) put them on their spans by default: the bridge leaves these
 * attributes out unless the tracer owning the span has `captureContent` on.
 */
import type { AttributesInput } from '@tracewire/core';

/** The content attributes, by exact key. */
const CONTENT_KEYS: ReadonlySet<string> = new Set([
  // The Vercel AI SDK (ai 6.x: the keys it records under recordInputs / recordOutputs, other than
  // ai.schema, which is the caller's schema, and ai.response.providerMetadata, usage and ids).
  'ai.prompt',
  'ai.prompt.messages',
  'ai.prompt.tools',
  'ai.prompt.toolChoice',
  'ai.response.text',
  'ai.response.reasoning',
  'ai.response.toolCalls',
  'ai.response.object',
  'ai.toolCall.args',
  'ai.toolCall.result',
  'ai.value',
  'ai.values',
  'ai.embedding',
  'ai.embeddings',
  'ai.documents',
  'ai.ranking',
  // The GenAI semantic conventions: current (opt-in content attributes) and older ones.
  'gen_ai.input.messages',
  'gen_ai.output.messages',
  'gen_ai.system_instructions',
  'gen_ai.tool.definitions',
  'gen_ai.tool.call.arguments',
  'gen_ai.tool.call.result',
  'gen_ai.prompt',
  'gen_ai.completion',
]);

const A = 97; // 'a'
const G = 103; // 'g'

/**
 * True for an attribute key that carries LLM content: one of CONTENT_KEYS, or an indexed
 * `gen_ai.prompt.<n>.*` / `gen_ai.completion.<n>.*` (OpenLLMetry). Keys not starting with `a` or
 * `g` are told apart by their first character alone.
 */
export function isContentKey(key: string): boolean {
  const c = key.charCodeAt(0);
  if (c !== A && c !== G) return false;
  if (CONTENT_KEYS.has(key)) return true;
  return c === G && (key.startsWith('gen_ai.prompt.') || key.startsWith('gen_ai.completion.'));
}

/** `attributes` without its content keys: the same object when it has none, else a copy. */
export function withoutContent(attributes: AttributesInput): AttributesInput {
  if (!hasContent(attributes)) return attributes;
  const out: AttributesInput = {};
  for (const key in attributes) if (!isContentKey(key)) out[key] = attributes[key];
  return out;
}

/** True when `attributes` has a content key. */
export function hasContent(attributes: AttributesInput): boolean {
  for (const key in attributes) if (isContentKey(key)) return true;
  return false;
}
