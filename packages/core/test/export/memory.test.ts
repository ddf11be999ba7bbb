import { InMemoryExporter } from '../../src/export/memory';
import type { FinishedTrace, SpanData } from '../../src/types';
import { makeSpan, makeTrace as makeBareTrace } from '../helpers';

/** A trace whose id ends in `id` (so tests can read the order back), of one span named `id` by default. */
function makeTrace(id: string, spans: SpanData[] = [makeSpan({ name: id })]): FinishedTrace {
  return makeBareTrace(spans, { traceId: id.padStart(32, '0') });
}

/** Watches `promise`, so a test can check that it has not resolved yet. */
function watch<T>(promise: Promise<T>): { promise: Promise<T>; resolved(): boolean } {
  let resolved = false;
  promise.then(
    () => (resolved = true),
    () => undefined,
  );
  return { promise, resolved: () => resolved };
}

describe('InMemoryExporter', () => {
  it('is named memory', () => {
    expect(new InMemoryExporter().name).toBe('memory');
  });

  describe('export', () => {
    it('stores traces in arrival order and resolves', async () => {
      const exp = new InMemoryExporter();
      await expect(exp.export([makeTrace('a'), makeTrace('b')])).resolves.toBeUndefined();
      await exp.export([makeTrace('c')]);
      expect(exp.traces().map((t) => t.traceId.slice(-1))).toEqual(['a', 'b', 'c']);
    });
  });

  describe('traces', () => {
    it('returns a copy that the caller can change without affecting the store', async () => {
      const exp = new InMemoryExporter();
      await exp.export([makeTrace('a')]);
      exp.traces().pop();
      expect(exp.traces()).toHaveLength(1);
    });
  });

  describe('spans', () => {
    it('flattens the spans of all traces in arrival order', async () => {
      const exp = new InMemoryExporter();
      const s1 = makeSpan({ name: 's1' });
      const s2 = makeSpan({ name: 's2', spanId: '1111111111111111' });
      const s3 = makeSpan({ name: 's3', spanId: '2222222222222222' });
      await exp.export([makeTrace('a', [s1, s2])]);
      await exp.export([makeTrace('b', [s3])]);
      expect(exp.spans().map((s) => s.name)).toEqual(['s1', 's2', 's3']);
    });

    it('is empty before anything is exported', () => {
      expect(new InMemoryExporter().spans()).toEqual([]);
    });
  });

  describe('waitFor', () => {
    it('resolves with the traces once the count has arrived', async () => {
      const exp = new InMemoryExporter();
      const waiting = exp.waitFor(2);
      await exp.export([makeTrace('a')]);
      await exp.export([makeTrace('b')]);
      const traces = await waiting;
      expect(traces.map((t) => t.traceId.slice(-1))).toEqual(['a', 'b']);
    });

    it('resolves immediately when the traces are already there', async () => {
      const exp = new InMemoryExporter();
      await exp.export([makeTrace('a'), makeTrace('b'), makeTrace('c')]);
      await expect(exp.waitFor(2, 0)).resolves.toHaveLength(3);
    });

    it('does not resolve before the count is reached', async () => {
      const exp = new InMemoryExporter();
      const waiting = watch(exp.waitFor(2));
      await exp.export([makeTrace('a')]);
      await new Promise((r) => setImmediate(r));
      expect(waiting.resolved()).toBe(false);
      await exp.export([makeTrace('b')]);
      await expect(waiting.promise).resolves.toHaveLength(2);
    });

    it('rejects with a message naming the counts and the timeout', async () => {
      const exp = new InMemoryExporter();
      await exp.export([makeTrace('a')]);
      await expect(exp.waitFor(3, 20)).rejects.toThrow('InMemoryExporter.waitFor: got 1 of 3 traces after 20 ms');
    });

    it('clears its timer once resolved', async () => {
      jest.useFakeTimers();
      try {
        const exp = new InMemoryExporter();
        const waiting = exp.waitFor(1, 1000);
        expect(jest.getTimerCount()).toBe(1);
        await exp.export([makeTrace('a')]);
        await waiting;
        expect(jest.getTimerCount()).toBe(0);
      } finally {
        jest.useRealTimers();
      }
    });

    it('unrefs its timer so a pending wait does not hold the process open', () => {
      const spy = jest.spyOn(global, 'setTimeout');
      try {
        const exp = new InMemoryExporter();
        exp.waitFor(1, 10_000).catch(() => undefined);
        const timer = spy.mock.results[0].value as NodeJS.Timeout;
        expect(timer.hasRef()).toBe(false);
        clearTimeout(timer);
      } finally {
        spy.mockRestore();
      }
    });

    it('serves several concurrent waiters, each at its own count', async () => {
      const exp = new InMemoryExporter();
      const order: string[] = [];
      const w1 = exp.waitFor(1).then((t) => (order.push('w1'), t));
      const w3 = exp.waitFor(3).then((t) => (order.push('w3'), t));
      const w2 = exp.waitFor(2).then((t) => (order.push('w2'), t));
      await exp.export([makeTrace('a')]);
      await exp.export([makeTrace('b'), makeTrace('c')]);
      const [t1, t2, t3] = await Promise.all([w1, w2, w3]);
      expect(t1).toHaveLength(1);
      expect(t2).toHaveLength(3);
      expect(t3).toHaveLength(3);
      expect(order[0]).toBe('w1');
    });

    it('lets one waiter time out without disturbing another', async () => {
      const exp = new InMemoryExporter();
      const short = exp.waitFor(5, 10);
      const long = exp.waitFor(1, 5000);
      await expect(short).rejects.toThrow('got 0 of 5 traces after 10 ms');
      await exp.export([makeTrace('a')]);
      await expect(long).resolves.toHaveLength(1);
    });

    it('rejects a negative or non-numeric count with a TypeError', async () => {
      const exp = new InMemoryExporter();
      await expect(exp.waitFor(-1)).rejects.toThrow(TypeError);
      await expect(exp.waitFor(Number.NaN)).rejects.toThrow(TypeError);
    });
  });

  describe('reset', () => {
    it('clears stored traces and spans', async () => {
      const exp = new InMemoryExporter();
      await exp.export([makeTrace('a')]);
      exp.reset();
      expect(exp.traces()).toEqual([]);
      expect(exp.spans()).toEqual([]);
    });

    it('makes a pending waiter count again from zero', async () => {
      const exp = new InMemoryExporter();
      const waiting = watch(exp.waitFor(2));
      await exp.export([makeTrace('a')]);
      exp.reset();
      await exp.export([makeTrace('b')]);
      await new Promise((r) => setImmediate(r));
      expect(waiting.resolved()).toBe(false);
      await exp.export([makeTrace('c')]);
      const traces = await waiting.promise;
      expect(traces.map((t) => t.traceId.slice(-1))).toEqual(['b', 'c']);
    });
  });

  describe('shutdown and forceFlush', () => {
    it('resolve', async () => {
      const exp = new InMemoryExporter();
      await expect(exp.forceFlush()).resolves.toBeUndefined();
      await expect(exp.shutdown()).resolves.toBeUndefined();
    });
  });
});
