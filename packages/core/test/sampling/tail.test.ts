import { randomBytes } from 'node:crypto';
import type { FinishedTrace, SpanData } from '../../src/types';
import { compileTailPolicy, traceIdRatio } from '../../src/sampling';
import { captureStderr, makeSpan, makeTrace } from '../helpers';

const randomId = (): string => randomBytes(16).toString('hex');

/** A span with its own random id, so a trace can hold several. */
const span = (over: Partial<SpanData> = {}): SpanData => makeSpan({ spanId: randomBytes(8).toString('hex'), ...over });

/** A trace with a random id (so ratios spread) that its spans carry too. */
function trace(spans: SpanData[], over: Partial<FinishedTrace> = {}): FinishedTrace {
  const traceId = over.traceId ?? randomId();
  return makeTrace(spans.map((s) => ({ ...s, traceId })), { traceId, ...over });
}

const stderr = captureStderr();

describe('compileTailPolicy', () => {
  it('returns undefined without a policy (keep all, no work)', () => {
    expect(compileTailPolicy(undefined)).toBeUndefined();
  });

  it('keeps everything with an empty object', () => {
    const keep = compileTailPolicy({})!;
    for (let i = 0; i < 20; i++) expect(keep(trace([span()]))).toBe(true);
  });

  it('keeps traces with an error span even at ratio 0', () => {
    const keep = compileTailPolicy({ ratio: 0 })!;
    expect(keep(trace([span(), span({ status: { code: 'error', message: 'x' } })]))).toBe(true);
    expect(keep(trace([span(), span({ status: { code: 'ok' } })]))).toBe(false);
  });

  it('drops error traces at ratio 0 when keepErrors is false', () => {
    const keep = compileTailPolicy({ ratio: 0, keepErrors: false })!;
    expect(keep(trace([span({ status: { code: 'error' } })]))).toBe(false);
  });

  it('keeps traces whose root lasted at least slowerThanMs', () => {
    const keep = compileTailPolicy({ ratio: 0, slowerThanMs: 100 })!;
    expect(keep(trace([span({ startTime: 0, endTime: 100 })]))).toBe(true);
    expect(keep(trace([span({ startTime: 0, endTime: 99.5 })]))).toBe(false);
  });

  it('measures the root span, not a slow child', () => {
    const keep = compileTailPolicy({ ratio: 0, slowerThanMs: 100 })!;
    const root = span({ startTime: 0, endTime: 10 });
    const child = span({ startTime: 1, endTime: 500 });
    expect(keep(trace([child, root], { rootSpanId: root.spanId }))).toBe(false);
  });

  it('measures the earliest span when the root is not in the trace', () => {
    const keep = compileTailPolicy({ ratio: 0, slowerThanMs: 100 })!;
    const late = span({ startTime: 50, endTime: 60 });
    const early = span({ startTime: 0, endTime: 200 });
    expect(keep(trace([late, early], { rootSpanId: 'f'.repeat(16) }))).toBe(true);
  });

  it('drops the rest at ratio 0 and keeps late fragments', () => {
    const keep = compileTailPolicy({ ratio: 0 })!;
    expect(keep(trace([span()]))).toBe(false);
    expect(keep(trace([span()], { fragment: 1 }))).toBe(true);
  });

  it('keeps a ratio of the rest by trace id, like the head sampler', () => {
    const keep = compileTailPolicy({ ratio: 0.3 })!;
    const head = traceIdRatio(0.3);
    let kept = 0;
    for (let i = 0; i < 2000; i++) {
      const t = trace([span()]);
      const k = keep(t);
      expect(k).toBe(head.shouldSample({ traceId: t.traceId, name: 'x', kind: 'server' }));
      if (k) kept++;
    }
    expect(Math.abs(kept / 2000 - 0.3)).toBeLessThan(0.05);
  });

  it('uses a function policy as given', () => {
    const keep = compileTailPolicy((t) => t.spans.length > 1)!;
    expect(keep(trace([span()]))).toBe(false);
    expect(keep(trace([span(), span()]))).toBe(true);
  });

  it('keeps the trace when a function policy throws, and reports once', () => {
    const keep = compileTailPolicy(() => {
      throw new Error('tail boom');
    })!;
    expect(keep(trace([span()]))).toBe(true);
    expect(keep(trace([span()]))).toBe(true);
    expect(stderr.spy).toHaveBeenCalledTimes(1);
    expect(String(stderr.spy.mock.calls[0][0])).toMatch(/^\[tracewire\] .*tail.*tail boom.*kept/);
  });

  it.each([
    [{ ratio: 2 }, 'tail.ratio'],
    [{ ratio: -0.1 }, 'tail.ratio'],
    [{ ratio: '0.5' }, 'tail.ratio'],
    [{ slowerThanMs: -1 }, 'tail.slowerThanMs'],
    [{ slowerThanMs: Infinity }, 'tail.slowerThanMs'],
    [{ keepErrors: 'yes' }, 'tail.keepErrors'],
    [{ slowerThan: 100 }, 'tail.slowerThan'],
    [42, 'tail'],
    [null, 'tail'],
  ])('rejects %p with a TypeError naming %s', (bad, name) => {
    expect(() => compileTailPolicy(bad as never)).toThrow(TypeError);
    expect(() => compileTailPolicy(bad as never)).toThrow(`"${name}"`);
  });
});
