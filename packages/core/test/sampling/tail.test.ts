import { randomBytes } from 'node:crypto';
import type { FinishedTrace, SpanData } from '../../src/types';
import { compileTailPolicy, traceIdRatio } from '../../src/sampling';
import { resetWarnings } from '../../src/config/warn';

const randomId = (): string => randomBytes(16).toString('hex');

function span(over: Partial<SpanData> = {}): SpanData {
  return {
    traceId: 'a'.repeat(32),
    spanId: randomBytes(8).toString('hex'),
    name: 'span',
    kind: 'internal',
    startTime: 1000,
    endTime: 1010,
    ended: true,
    status: { code: 'unset' },
    attributes: {},
    events: [],
    links: [],
    traceFlags: 1,
    dropped: { attributes: 0, events: 0, links: 0 },
    ...over,
  };
}

function trace(spans: SpanData[], over: Partial<FinishedTrace> = {}): FinishedTrace {
  const traceId = over.traceId ?? randomId();
  return {
    traceId,
    rootSpanId: spans[0]?.spanId ?? '1'.repeat(16),
    resource: {},
    spans: spans.map((s) => ({ ...s, traceId })),
    incomplete: false,
    fragment: 0,
    ...over,
  };
}

let stderr: jest.SpyInstance;
beforeEach(() => {
  resetWarnings();
  stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => stderr.mockRestore());

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
    expect(stderr).toHaveBeenCalledTimes(1);
    expect(String(stderr.mock.calls[0][0])).toMatch(/^\[tracewire\] .*tail.*tail boom.*kept/);
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
