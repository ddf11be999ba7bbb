import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import type { SamplingParams, SpanContext } from '../../src/types';
import {
  alwaysOff,
  alwaysOn,
  parentBased,
  samplerFromEnv,
  toSampleFn,
  traceIdRatio,
} from '../../src/sampling';
import { captureStderr } from '../helpers';

const randomId = (): string => randomBytes(16).toString('hex');
const params = (traceId: string, parent?: SpanContext): SamplingParams => ({
  traceId,
  name: 'GET /',
  kind: 'server',
  parent,
});
const ctx = (sampled: boolean, isRemote: boolean): SpanContext => ({
  traceId: 'a'.repeat(32),
  spanId: 'b'.repeat(16),
  traceFlags: sampled ? 0x01 : 0x00,
  isRemote,
});

const { lines } = captureStderr();

describe('alwaysOn / alwaysOff', () => {
  it('samples every span / none', () => {
    for (let i = 0; i < 50; i++) {
      const id = randomId();
      expect(alwaysOn().shouldSample(params(id))).toBe(true);
      expect(alwaysOff().shouldSample(params(id))).toBe(false);
    }
    expect(alwaysOn().toString()).toBe('AlwaysOnSampler');
    expect(alwaysOff().toString()).toBe('AlwaysOffSampler');
  });
});

describe('traceIdRatio', () => {
  it('decides by the lowest 52 bits of the trace id', () => {
    const s = traceIdRatio(0.5);
    // 2^51 is the threshold for 0.5: just below is sampled, at it is not.
    const below = '0'.repeat(19) + (2 ** 51 - 1).toString(16).padStart(13, '0');
    const at = 'f'.repeat(19) + (2 ** 51).toString(16).padStart(13, '0');
    expect(s.shouldSample(params(below))).toBe(true);
    expect(s.shouldSample(params(at))).toBe(false);
    // The high 76 bits do not matter.
    expect(s.shouldSample(params('f'.repeat(19) + '0'.repeat(13)))).toBe(true);
  });

  it('gives the same decision for the same trace id in two sampler instances', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9a-f]{32}$/), fc.double({ min: 0, max: 1, noNaN: true }), (id, ratio) => {
        expect(traceIdRatio(ratio).shouldSample(params(id))).toBe(traceIdRatio(ratio).shouldSample(params(id)));
      }),
    );
  });

  it.each([0.1, 0.25, 0.5, 0.9])('samples about %p of random trace ids', (ratio) => {
    const s = traceIdRatio(ratio);
    let n = 0;
    for (let i = 0; i < 10000; i++) if (s.shouldSample(params(randomId()))) n++;
    expect(Math.abs(n / 10000 - ratio)).toBeLessThanOrEqual(0.03);
  });

  it('never samples at 0 and always samples at 1, even the extreme ids', () => {
    const ids = ['0'.repeat(31) + '1', 'f'.repeat(32), '0'.repeat(19) + 'f'.repeat(13), randomId()];
    for (const id of ids) {
      expect(traceIdRatio(0).shouldSample(params(id))).toBe(false);
      expect(traceIdRatio(1).shouldSample(params(id))).toBe(true);
    }
  });

  it.each([-0.1, 1.5, NaN, Infinity, '0.5', undefined])('rejects ratio %p with a TypeError naming it', (bad) => {
    expect(() => traceIdRatio(bad as number)).toThrow(TypeError);
    expect(() => traceIdRatio(bad as number)).toThrow(/"ratio"/);
  });

  it('describes itself', () => {
    expect(traceIdRatio(0.25).toString()).toBe('TraceIdRatioBased{0.25}');
  });
});

describe('parentBased', () => {
  const s = parentBased({ root: alwaysOff() });

  it('asks root when there is no parent', () => {
    expect(s.shouldSample(params(randomId()))).toBe(false);
    expect(parentBased({ root: alwaysOn() }).shouldSample(params(randomId()))).toBe(true);
  });

  it('follows a remote parent (sampled / not sampled)', () => {
    expect(s.shouldSample(params(randomId(), ctx(true, true)))).toBe(true);
    expect(s.shouldSample(params(randomId(), ctx(false, true)))).toBe(false);
  });

  it('follows a local parent (sampled / not sampled)', () => {
    expect(s.shouldSample(params(randomId(), ctx(true, false)))).toBe(true);
    expect(s.shouldSample(params(randomId(), ctx(false, false)))).toBe(false);
  });

  it('reads only the sampled bit of the flags', () => {
    const parent = { ...ctx(false, true), traceFlags: 0x02 };
    expect(s.shouldSample(params(randomId(), parent))).toBe(false);
    expect(s.shouldSample(params(randomId(), { ...parent, traceFlags: 0x03 }))).toBe(true);
  });

  it('uses each delegate for its case', () => {
    const calls: string[] = [];
    const rec = (name: string, answer: boolean) => () => (calls.push(name), answer);
    const p = parentBased({
      root: rec('root', true),
      remoteParentSampled: rec('rs', false),
      remoteParentNotSampled: rec('rn', true),
      localParentSampled: rec('ls', false),
      localParentNotSampled: rec('ln', true),
    });
    expect(p.shouldSample(params(randomId()))).toBe(true);
    expect(p.shouldSample(params(randomId(), ctx(true, true)))).toBe(false);
    expect(p.shouldSample(params(randomId(), ctx(false, true)))).toBe(true);
    expect(p.shouldSample(params(randomId(), ctx(true, false)))).toBe(false);
    expect(p.shouldSample(params(randomId(), ctx(false, false)))).toBe(true);
    expect(calls).toEqual(['root', 'rs', 'rn', 'ls', 'ln']);
  });

  it('requires a root', () => {
    expect(() => parentBased({} as never)).toThrow(/"root"/);
  });

  it('describes itself like OpenTelemetry', () => {
    expect(parentBased({ root: traceIdRatio(0.5) }).toString()).toBe(
      'ParentBased{root=TraceIdRatioBased{0.5}, remoteParentSampled=AlwaysOnSampler, ' +
        'remoteParentNotSampled=AlwaysOffSampler, localParentSampled=AlwaysOnSampler, ' +
        'localParentNotSampled=AlwaysOffSampler}',
    );
  });
});

describe('toSampleFn', () => {
  it('defaults to parent-based always-on', () => {
    const fn = toSampleFn(undefined);
    expect(fn(params(randomId()))).toBe(true);
    expect(fn(params(randomId(), ctx(false, true)))).toBe(false);
    expect(fn(params(randomId(), ctx(true, true)))).toBe(true);
  });

  it('turns a number into a parent-based trace-id ratio', () => {
    const fn = toSampleFn(0);
    expect(fn(params(randomId()))).toBe(false);
    expect(fn(params(randomId(), ctx(true, true)))).toBe(true);
    const id = randomId();
    expect(toSampleFn(0.5)(params(id))).toBe(traceIdRatio(0.5).shouldSample(params(id)));
  });

  it('uses an object sampler with its own this', () => {
    const sampler = {
      allowed: 'keep',
      shouldSample(this: { allowed: string }, p: SamplingParams) {
        return p.name === this.allowed;
      },
    };
    const fn = toSampleFn(sampler);
    expect(fn({ ...params(randomId()), name: 'keep' })).toBe(true);
    expect(fn(params(randomId()))).toBe(false);
  });

  it('uses a function as is', () => {
    const fn = toSampleFn((p) => p.kind === 'server');
    expect(fn(params(randomId()))).toBe(true);
    expect(fn({ ...params(randomId()), kind: 'client' })).toBe(false);
  });

  it('makes a throwing user function sample nothing and report once', () => {
    const fn = toSampleFn(() => {
      throw new Error('boom');
    });
    expect(fn(params(randomId()))).toBe(false);
    expect(fn(params(randomId()))).toBe(false);
    expect(lines()).toHaveLength(1);
    expect(lines()[0]).toMatch(/^\[tracewire\] .*sampler.*boom.*\n$/);
  });

  it('makes a throwing user object sample nothing and report once', () => {
    const fn = toSampleFn({
      shouldSample() {
        throw new Error('bad object');
      },
    });
    expect(fn(params(randomId()))).toBe(false);
    expect(fn(params(randomId()))).toBe(false);
    expect(lines()).toHaveLength(1);
    expect(lines()[0]).toContain('bad object');
  });

  it.each([2, -1, NaN, 'x', null, {}])('rejects %p with a TypeError naming sampler', (bad) => {
    expect(() => toSampleFn(bad as never)).toThrow(/"sampler"/);
  });
});

describe('samplerFromEnv', () => {
  const warn = jest.fn();
  beforeEach(() => warn.mockReset());
  const decide = (name: string, arg?: string, parent?: SpanContext, id = randomId()): boolean =>
    samplerFromEnv(name, arg, warn).shouldSample(params(id, parent));

  it('reads always_on and always_off', () => {
    expect(decide('always_on', undefined, ctx(false, true))).toBe(true);
    expect(decide('always_off', undefined, ctx(true, true))).toBe(false);
    expect(warn).not.toHaveBeenCalled();
  });

  it('reads traceidratio with its argument, ignoring the parent', () => {
    expect(decide('traceidratio', '0', ctx(true, true))).toBe(false);
    expect(decide('traceidratio', '1', ctx(false, true))).toBe(true);
    expect(samplerFromEnv('traceidratio', '0.25', warn).toString()).toBe('TraceIdRatioBased{0.25}');
    expect(warn).not.toHaveBeenCalled();
  });

  it('reads the parent-based variants', () => {
    expect(decide('parentbased_always_on')).toBe(true);
    expect(decide('parentbased_always_on', undefined, ctx(false, true))).toBe(false);
    expect(decide('parentbased_always_off')).toBe(false);
    expect(decide('parentbased_always_off', undefined, ctx(true, true))).toBe(true);
    expect(decide('parentbased_traceidratio', '0')).toBe(false);
    expect(decide('parentbased_traceidratio', '0', ctx(true, true))).toBe(true);
    expect(warn).not.toHaveBeenCalled();
  });

  it('accepts upper case and spaces', () => {
    expect(decide(' ALWAYS_OFF ')).toBe(false);
    expect(warn).not.toHaveBeenCalled();
  });

  it.each([undefined, '', 'abc', '1.5', '-0.5', '0x1'])('uses ratio 1.0 with a warning when the argument is %p', (arg) => {
    expect(decide('traceidratio', arg)).toBe(true);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/OTEL_TRACES_SAMPLER_ARG.*1\.0/);
  });

  it('warns on an unknown name and uses parentbased_always_on', () => {
    const s = samplerFromEnv('jaeger_remote', undefined, warn);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/OTEL_TRACES_SAMPLER="jaeger_remote".*parentbased_always_on/);
    expect(s.shouldSample(params(randomId()))).toBe(true);
    expect(s.shouldSample(params(randomId(), ctx(false, true)))).toBe(false);
  });
});
