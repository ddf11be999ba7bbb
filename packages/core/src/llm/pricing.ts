/**
 * Cost of one LLM call from its usage and the price table. A model is looked up by exact name,
 * then with its snapshot date removed (`gpt-4o-mini-2024-07-18` → `gpt-4o-mini`,
 * `claude-haiku-4-5-20251001` → `claude-haiku-4-5`), then by the longest known prefix ending at a
 * `-`, provided what follows does not name a different tier or version (`gpt-5-pro`,
 * `claude-opus-4-7` and `gpt-4o-realtime-preview` are not priced as `gpt-5`, `claude-opus-4` and
 * `gpt-4o`). An unknown model has no price: no cost rather than a wrong one. User prices
 * (`TracerOptions.pricing`) are searched first, the same way.
 */
import { LLM_PRICES } from './prices';
import type { LLMUsage, ModelPrice, PricingTable } from './types';

// Words that, after a known model name, make it another product with its own price.
const TIER_WORDS: ReadonlySet<string> = new Set([
  'pro', 'mini', 'nano', 'max', 'fast', 'spark', 'turbo', 'audio', 'realtime', 'search', 'deep',
  'research', 'transcribe', 'tts', 'image', 'embedding', 'instruct', 'vision', 'lite', 'live',
]);
// Snapshot suffixes: -2024-07-18 (OpenAI), -20251001 (Anthropic), @20241022 (Vertex AI).
const DATE_SUFFIX = /(?:-\d{4}-\d{2}-\d{2}|[-@]\d{8})$/;
const CACHE_MAX = 1000;

const hasOwn = Object.prototype.hasOwnProperty;
const defaultCache = new Map<string, ModelPrice | null>();
const userCaches = new WeakMap<PricingTable, Map<string, ModelPrice | null>>();

function remainderAllowed(rest: string): boolean {
  const words = rest.split('-');
  const first = words[0].charCodeAt(0);
  if (first >= 0x30 && first <= 0x39) return false; // a version number: claude-opus-4 + 7
  for (const w of words) if (TIER_WORDS.has(w)) return false;
  return true;
}

function lookup(model: string, table: PricingTable): ModelPrice | undefined {
  if (hasOwn.call(table, model)) return table[model];
  const lower = model.toLowerCase();
  if (hasOwn.call(table, lower)) return table[lower];
  const base = lower.replace(DATE_SUFFIX, '');
  if (hasOwn.call(table, base)) return table[base];
  // Longest prefix first; a disallowed remainder stops the search (a shorter prefix is only vaguer).
  for (let i = base.lastIndexOf('-'); i > 0; i = base.lastIndexOf('-', i - 1)) {
    const prefix = base.slice(0, i);
    if (hasOwn.call(table, prefix)) return remainderAllowed(base.slice(i + 1)) ? table[prefix] : undefined;
  }
  return undefined;
}

function cached(cache: Map<string, ModelPrice | null>, model: string, table: PricingTable): ModelPrice | undefined {
  const hit = cache.get(model);
  if (hit !== undefined) return hit ?? undefined;
  const found = lookup(model, table);
  if (cache.size >= CACHE_MAX) cache.clear(); // model names come from responses: keep the cache bounded
  cache.set(model, found ?? null);
  return found;
}

/** The price of `model`: the user's table first, then the shipped one; undefined when unknown. */
export function findModelPrice(model: string, overrides?: PricingTable): ModelPrice | undefined {
  if (typeof model !== 'string' || model === '') return undefined;
  if (overrides !== undefined) {
    let cache = userCaches.get(overrides);
    if (cache === undefined) userCaches.set(overrides, (cache = new Map()));
    const user = cached(cache, model, overrides);
    if (user !== undefined) return user;
  }
  return cached(defaultCache, model, LLM_PRICES.models);
}

/**
 * USD cost of `usage` at `price`: uncached input × input + cached × (cachedInput ?? input) +
 * cache writes × (cacheWrite ?? input) + output × output, per million tokens, where the reasoning
 * part of the output is priced at `reasoning` when the price sets one. Undefined unless both input
 * and output counts are known.
 */
export function costOf(usage: LLMUsage, price: ModelPrice): number | undefined {
  const { input, output } = usage;
  if (input === undefined || output === undefined) return undefined;
  const cachedTokens = usage.cached ?? 0;
  const writeTokens = usage.cacheCreation ?? 0;
  const uncached = Math.max(0, input - cachedTokens - writeTokens);
  // Split only when the price differs, so a cost without a reasoning price is the same sum as ever.
  const reasoningTokens = price.reasoning !== undefined ? Math.min(usage.reasoning ?? 0, output) : 0;
  const micro =
    uncached * price.input +
    cachedTokens * (price.cachedInput ?? price.input) +
    writeTokens * (price.cacheWrite ?? price.input) +
    (output - reasoningTokens) * price.output +
    (reasoningTokens > 0 ? reasoningTokens * (price.reasoning as number) : 0);
  const cost = micro / 1_000_000;
  // Round away float noise (1e-10 USD is far below any price step).
  return Number.isFinite(cost) ? Math.round(cost * 1e10) / 1e10 : undefined;
}

/** USD cost of a call to `model` with `usage`, or undefined when the model or the counts are unknown. */
export function llmCost(model: string | null | undefined, usage: LLMUsage, overrides?: PricingTable): number | undefined {
  if (!model) return undefined;
  const price = findModelPrice(model, overrides);
  return price === undefined ? undefined : costOf(usage, price);
}
