import type { LLMCallOutcome } from '@tracewire/core';
import { Histogram, OVERFLOW_ATTRIBUTES, Sum } from '../src/aggregate';
import { Instruments } from '../src/instruments';

const attrs = (o: { a: string }) => ({ a: o.a });

describe('Histogram', () => {
  it('counts each value in the first bucket whose upper bound holds it, with sum, count, min and max', () => {
    const h = new Histogram({ name: 'h', unit: 's', description: '' }, [1, 2, 5], 10);
    for (const v of [0, 1, 1.5, 2, 4.9, 5, 7, -1, NaN, Infinity]) h.record('x', undefined, undefined, undefined, undefined, undefined, undefined, attrs, { a: 'x' }, v);
    const [s] = h.all();
    expect(Array.from(s.counts)).toEqual([2, 2, 2, 1]);
    expect([s.count, s.sum, s.min, s.max]).toEqual([7, 0 + 1 + 1.5 + 2 + 4.9 + 5 + 7, 0, 7]);
    expect(s.attributes).toEqual({ a: 'x' });
  });

  it('keeps limit - 1 attribute sets and puts every later one in the overflow set', () => {
    const h = new Histogram({ name: 'h', unit: 's', description: '' }, [1], 3);
    for (const k of ['a', 'b', 'c', 'd', 'a', 'c']) h.record(k, undefined, undefined, undefined, undefined, undefined, undefined, attrs, { a: k }, 0.5);
    expect(h.all().map((s) => [s.attributes, s.count])).toEqual([
      [{ a: 'a' }, 2],
      [{ a: 'b' }, 1],
      [OVERFLOW_ATTRIBUTES, 3],
    ]);
    expect(h.size).toBe(3);
  });

  it('tells sets apart by every value, not only by the primary one', () => {
    const s = new Sum({ name: 's', unit: '1', description: '' }, 100);
    s.add('', true, 'GET', 200, undefined, 'http', '1.1', () => ({ n: 1 }), undefined, 1);
    s.add('', false, 'GET', 200, undefined, 'http', '1.1', () => ({ n: 2 }), undefined, 1);
    s.add('', false, 'GET', 200, undefined, 'http', '1.1', () => ({ n: 3 }), undefined, 1);
    s.add('', false, 'GET', 200, 'Error', 'http', '1.1', () => ({ n: 4 }), undefined, 1);
    expect(s.all().map((x) => [x.attributes, x.value])).toEqual([
      [{ n: 1 }, 1],
      [{ n: 2 }, 2],
      [{ n: 4 }, 1],
    ]);
  });
});

describe('Instruments', () => {
  const call = (over: Partial<LLMCallOutcome>): LLMCallOutcome => ({
    side: 'client', provider: 'openai', operation: 'chat', requestModel: 'gpt-4o', responseModel: undefined, serverAddress: 'api.openai.com', serverPort: 443,
    stream: false, usage: {}, estimatedOutputTokens: undefined, duration: 1, timeToFirstChunk: undefined, contentChunks: undefined, chunkIntervals: undefined,
    cost: undefined, errorType: undefined, sampled: false, ...over,
  });

  it('a call without a response model and one with it are two attribute sets', () => {
    const i = new Instruments(100);
    i.observer.llmCall!(call({}));
    i.observer.llmCall!(call({ responseModel: 'gpt-4o' }));
    i.observer.llmCall!(call({ responseModel: 'gpt-4o', errorType: 'rate_limit_error' }));
    expect(i.operationDuration.all().map((s) => s.attributes)).toEqual([
      { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o', 'server.address': 'api.openai.com', 'server.port': 443 },
      { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.response.model': 'gpt-4o', 'server.address': 'api.openai.com', 'server.port': 443 },
      { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.response.model': 'gpt-4o', 'server.address': 'api.openai.com', 'server.port': 443, 'error.type': 'rate_limit_error' },
    ]);
  });

  it('records no token usage for an estimate, no stream timings for a JSON call, every chunk interval of a stream', () => {
    const i = new Instruments(100);
    i.observer.llmCall!(call({ usage: { input: 5 }, estimatedOutputTokens: 7 }));
    i.observer.llmCall!(call({ timeToFirstChunk: 0.1, chunkIntervals: [0.01] }));
    i.observer.llmCall!(call({ stream: true, timeToFirstChunk: 0.2, chunkIntervals: Float64Array.from([0.01, 0, 0.03]) }));
    expect(i.tokenUsage.all().map((s) => [s.attributes['gen_ai.token.type'], s.sum])).toEqual([['input', 5]]);
    expect(i.timeToFirstChunk.all().map((s) => s.count)).toEqual([1]);
    expect(i.timePerOutputChunk.all().map((s) => [s.count, s.sum])).toEqual([[3, 0.04]]);
  });

  it('server streams: time to first token and per output token for successful ones only', () => {
    const i = new Instruments(100);
    const served = call({ side: 'server', stream: true, duration: 1.1, timeToFirstChunk: 0.1, usage: { output: 11 }, contentChunks: 30 });
    i.observer.llmCall!(served);
    i.observer.llmCall!({ ...served, usage: {}, contentChunks: 5 });
    i.observer.llmCall!({ ...served, errorType: 'client_aborted' });
    expect(i.serverRequestDuration.all().map((s) => s.count)).toEqual([2, 1]);
    expect(i.serverTimeToFirstToken.all()[0].count).toBe(2);
    const tpot = i.serverTimePerOutputToken.all()[0];
    expect(tpot.count).toBe(2);
    expect(tpot.sum).toBeCloseTo(1 / 10 + 1 / 4, 12);
    expect(i.operationDuration.size).toBe(0); // not a call the app made
  });
});
