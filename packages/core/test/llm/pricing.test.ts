import { LLM_PRICES, costOf, findModelPrice, llmCost } from '../../src/llm';

describe('LLM_PRICES', () => {
  it('says when the prices were taken and holds sane per-million prices', () => {
    expect(LLM_PRICES.takenOn).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const [model, p] of Object.entries(LLM_PRICES.models)) {
      expect([model, p.input > 0 && p.output >= p.input]).toEqual([model, true]);
      if (p.cachedInput !== undefined) expect([model, p.cachedInput < p.input]).toEqual([model, true]);
      if (p.cacheWrite !== undefined) expect([model, p.cacheWrite > p.input]).toEqual([model, true]);
    }
  });

  it('covers the current OpenAI and Anthropic models', () => {
    for (const m of ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1-nano', 'o3', 'o4-mini', 'gpt-5', 'gpt-5-mini', 'gpt-5-nano', 'claude-opus-4-5', 'claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-opus-4-1', 'claude-sonnet-4', 'claude-3-5-haiku']) {
      expect([m, findModelPrice(m)]).toEqual([m, LLM_PRICES.models[m]]);
    }
  });
});

describe('findModelPrice', () => {
  it('strips a snapshot date: OpenAI, Anthropic and Vertex AI styles', () => {
    expect(findModelPrice('gpt-4o-mini-2024-07-18')).toBe(LLM_PRICES.models['gpt-4o-mini']);
    expect(findModelPrice('gpt-4.1-2025-04-14')).toBe(LLM_PRICES.models['gpt-4.1']);
    expect(findModelPrice('claude-haiku-4-5-20251001')).toBe(LLM_PRICES.models['claude-haiku-4-5']);
    expect(findModelPrice('claude-opus-4-20250514')).toBe(LLM_PRICES.models['claude-opus-4']);
    expect(findModelPrice('claude-3-5-haiku@20241022')).toBe(LLM_PRICES.models['claude-3-5-haiku']);
  });

  it('prefers an exact snapshot entry to its family', () => {
    expect(findModelPrice('gpt-4o-2024-05-13')).toEqual({ input: 5, output: 15 });
    expect(findModelPrice('gpt-4o-2024-08-06')).toBe(LLM_PRICES.models['gpt-4o']);
  });

  it('falls back to the longest known prefix for aliases of the same model', () => {
    expect(findModelPrice('claude-3-5-haiku-latest')).toBe(LLM_PRICES.models['claude-3-5-haiku']);
    expect(findModelPrice('gpt-5-chat-latest')).toBe(LLM_PRICES.models['gpt-5']);
    expect(findModelPrice('GPT-4o-Mini')).toBe(LLM_PRICES.models['gpt-4o-mini']);
  });

  it('gives no price rather than a wrong one for other tiers and versions', () => {
    for (const m of ['gpt-5-pro', 'o3-pro', 'o3-deep-research', 'gpt-4o-realtime-preview', 'gpt-4o-mini-tts', 'gpt-4o-audio-preview', 'claude-opus-4-7', 'claude-sonnet-4-7-20270101', 'gpt-5.9', 'gpt-4', 'llama-3.1-8b', 'ft:gpt-4o-mini-2024-07-18:org::abc', '']) {
      expect([m, findModelPrice(m)]).toEqual([m, undefined]);
    }
  });

  it('searches user prices first, the same way', () => {
    const user = { 'gpt-4o-mini': { input: 9, output: 9 }, 'my-model': { input: 1, output: 2 } };
    expect(findModelPrice('gpt-4o-mini-2024-07-18', user)).toEqual({ input: 9, output: 9 });
    expect(findModelPrice('my-model-2025-01-01', user)).toEqual({ input: 1, output: 2 });
    expect(findModelPrice('gpt-4.1', user)).toBe(LLM_PRICES.models['gpt-4.1']);
  });
});

describe('costOf', () => {
  it('prices uncached, cached, cache-write and output tokens apart', () => {
    const price = { input: 3, cachedInput: 0.3, cacheWrite: 3.75, output: 15 };
    // input 1000 = 600 uncached + 300 cached + 100 written
    expect(costOf({ input: 1000, cached: 300, cacheCreation: 100, output: 200 }, price)).toBeCloseTo((600 * 3 + 300 * 0.3 + 100 * 3.75 + 200 * 15) / 1e6, 12);
  });

  it('charges cached and written tokens at the input price when the model has no special price', () => {
    expect(costOf({ input: 1000, cached: 500, cacheCreation: 100, output: 0 }, { input: 2, output: 8 })).toBeCloseTo((1000 * 2) / 1e6, 12);
  });

  it('gives no cost unless both input and output counts are known', () => {
    expect(costOf({ input: 10 }, { input: 1, output: 1 })).toBeUndefined();
    expect(costOf({ output: 10 }, { input: 1, output: 1 })).toBeUndefined();
    expect(costOf({ input: 0, output: 0 }, { input: 1, output: 1 })).toBe(0);
  });
});

describe('llmCost', () => {
  it('prices a known model and leaves an unknown one alone', () => {
    expect(llmCost('gpt-4.1-2025-04-14', { input: 1416, cached: 1280, output: 58 })).toBeCloseTo((136 * 2 + 1280 * 0.5 + 58 * 8) / 1e6, 12);
    expect(llmCost('mystery-model', { input: 1, output: 1 })).toBeUndefined();
    expect(llmCost(null, { input: 1, output: 1 })).toBeUndefined();
  });
});

describe('LLM_PRICES sources and the reasoning price', () => {
  it('names where every shipped price was taken, and when', () => {
    for (const model of Object.keys(LLM_PRICES.models)) {
      const s = LLM_PRICES.sources[model];
      expect([model, /^https:\/\//.test(s?.url ?? ''), s?.mirror.endsWith(`/${model}.toml`), s?.takenOn]).toEqual([model, true, true, LLM_PRICES.takenOn]);
    }
  });

  it('prices reasoning tokens apart when the price sets one, and as output otherwise', () => {
    const usage = { input: 1000, output: 500, reasoning: 300 };
    expect(costOf(usage, { input: 1, output: 4 })).toBeCloseTo((1000 + 500 * 4) / 1e6, 12);
    expect(costOf(usage, { input: 1, output: 4, reasoning: 2 })).toBeCloseTo((1000 + 200 * 4 + 300 * 2) / 1e6, 12);
  });

  it('prices Gemini with cache reads and thoughts, and leaves local models unpriced', () => {
    // gemini-2.5-flash: (1830 − 1536) × $0.30 + 1536 × $0.03 + 69 × $2.50 per million
    expect(llmCost('gemini-2.5-flash', { input: 1830, cached: 1536, output: 69, reasoning: 41 })).toBeCloseTo((294 * 0.3 + 1536 * 0.03 + 69 * 2.5) / 1e6, 12);
    expect(findModelPrice('gemini-2.5-flash-lite-preview-06-17')).toBe(LLM_PRICES.models['gemini-2.5-flash-lite']);
    for (const m of ['gemini-2.5-flash-image', 'gemini-2.5-flash-preview-tts', 'llama3.2', 'qwen2.5-7b-instruct', 'meta-llama/Llama-3.1-8B-Instruct']) {
      expect([m, findModelPrice(m)]).toEqual([m, undefined]);
    }
  });
});
