/**
 * The shipped price table: USD per million tokens, standard (non-batch, non-priority) tier, short
 * context. Data only; `pricing.ts` does the lookup. Users override or extend it with
 * `TracerOptions.pricing`.
 *
 * Taken on 2026-11-21 from the providers' published list prices as mirrored by models.dev
 * (github.com/anomalyco/models.dev, `providers/{openai,anthropic,google}/models/*.toml`), cross-checked
 * against summaries of developers.openai.com/api/docs/pricing, Anthropic's and Google's pricing
 * pages; `LLM_PRICES.sources` names the page and the file of each model.
 * Reasoning tokens (OpenAI reasoning, Gemini thoughts) are billed at the output rate by all three,
 * so no model here sets `reasoning`; a user price may. Not covered on purpose: Anthropic's 1-hour
 * cache writes (2× input), long-context (>200K) rates (Gemini 2.5 Pro, Claude), OpenAI
 * priority/flex tiers, audio input rates. A model missing here gets no cost attribute.
 */
import type { PricingTable } from './types';

export interface PriceTable {
  /** The date the prices were taken (YYYY-MM-DD). */
  takenOn: string;
  currency: 'USD';
  /** Prices are per this many tokens. */
  per: 1_000_000;
  models: PricingTable;
  /** For every model: where its price was taken from, and when. */
  sources: Record<string, PriceSource>;
}

/** Where one model's price comes from. */
export interface PriceSource {
  /** The published price list (the provider's page), as mirrored by models.dev. */
  url: string;
  /** The models.dev file the numbers were read from. */
  mirror: string;
  takenOn: string;
}

const OPENAI = 'https://developers.openai.com/api/docs/pricing';
const ANTHROPIC = 'https://docs.anthropic.com/en/docs/about-claude/pricing';
const GOOGLE = 'https://ai.google.dev/gemini-api/docs/pricing';
const MIRROR = 'https://github.com/anomalyco/models.dev/blob/dev/providers';

export const LLM_PRICES: PriceTable = {
  takenOn: '2026-11-21',
  currency: 'USD',
  per: 1_000_000,
  models: {
    // OpenAI. `cachedInput` is the cached-input rate; OpenAI has no cache-write charge.
    'gpt-5.5': { input: 5, cachedInput: 0.5, output: 30 },
    'gpt-5.4': { input: 2.5, cachedInput: 0.25, output: 15 },
    'gpt-5.4-mini': { input: 0.75, cachedInput: 0.075, output: 4.5 },
    'gpt-5.4-nano': { input: 0.2, cachedInput: 0.02, output: 1.25 },
    'gpt-5.2': { input: 1.75, cachedInput: 0.175, output: 14 },
    'gpt-5.1': { input: 1.25, cachedInput: 0.125, output: 10 },
    'gpt-5': { input: 1.25, cachedInput: 0.125, output: 10 },
    'gpt-5-mini': { input: 0.25, cachedInput: 0.025, output: 2 },
    'gpt-5-nano': { input: 0.05, cachedInput: 0.005, output: 0.4 },
    'gpt-4.1': { input: 2, cachedInput: 0.5, output: 8 },
    'gpt-4.1-mini': { input: 0.4, cachedInput: 0.1, output: 1.6 },
    'gpt-4.1-nano': { input: 0.1, cachedInput: 0.025, output: 0.4 },
    'gpt-4o': { input: 2.5, cachedInput: 1.25, output: 10 },
    // The first gpt-4o snapshot kept its launch price.
    'gpt-4o-2024-05-13': { input: 5, output: 15 },
    'gpt-4o-mini': { input: 0.15, cachedInput: 0.075, output: 0.6 },
    o3: { input: 2, cachedInput: 0.5, output: 8 },
    'o3-mini': { input: 1.1, cachedInput: 0.55, output: 4.4 },
    'o4-mini': { input: 1.1, cachedInput: 0.275, output: 4.4 },
    o1: { input: 15, cachedInput: 7.5, output: 60 },

    // Anthropic. `cachedInput` = cache read, `cacheWrite` = 5-minute cache write.
    'claude-opus-4-6': { input: 5, cachedInput: 0.5, cacheWrite: 6.25, output: 25 },
    'claude-opus-4-5': { input: 5, cachedInput: 0.5, cacheWrite: 6.25, output: 25 },
    'claude-opus-4-1': { input: 15, cachedInput: 1.5, cacheWrite: 18.75, output: 75 },
    'claude-opus-4-0': { input: 15, cachedInput: 1.5, cacheWrite: 18.75, output: 75 },
    'claude-opus-4': { input: 15, cachedInput: 1.5, cacheWrite: 18.75, output: 75 },
    'claude-sonnet-4-6': { input: 3, cachedInput: 0.3, cacheWrite: 3.75, output: 15 },
    'claude-sonnet-4-5': { input: 3, cachedInput: 0.3, cacheWrite: 3.75, output: 15 },
    'claude-sonnet-4-0': { input: 3, cachedInput: 0.3, cacheWrite: 3.75, output: 15 },
    'claude-sonnet-4': { input: 3, cachedInput: 0.3, cacheWrite: 3.75, output: 15 },
    'claude-3-7-sonnet': { input: 3, cachedInput: 0.3, cacheWrite: 3.75, output: 15 },
    'claude-haiku-4-5': { input: 1, cachedInput: 0.1, cacheWrite: 1.25, output: 5 },
    'claude-3-5-haiku': { input: 0.8, cachedInput: 0.08, cacheWrite: 1, output: 4 },
    'claude-3-haiku': { input: 0.25, cachedInput: 0.03, cacheWrite: 0.3, output: 1.25 },

    // Google Gemini API (AI Studio), prompts up to 200K tokens. `cachedInput` = context cache read;
    // cache storage is billed per hour, not per call, and is left out.
    'gemini-2.5-pro': { input: 1.25, cachedInput: 0.125, output: 10 },
    'gemini-2.5-flash': { input: 0.3, cachedInput: 0.03, output: 2.5 },
    'gemini-2.5-flash-lite': { input: 0.1, cachedInput: 0.01, output: 0.4 },
  },
  sources: {},
};

// Every model's source: the provider's page and the models.dev file of the same name.
for (const model of Object.keys(LLM_PRICES.models)) {
  const [url, dir] = model.startsWith('claude') ? [ANTHROPIC, 'anthropic'] : model.startsWith('gemini') ? [GOOGLE, 'google'] : [OPENAI, 'openai'];
  LLM_PRICES.sources[model] = { url, mirror: `${MIRROR}/${dir}/models/${model}.toml`, takenOn: LLM_PRICES.takenOn };
}
