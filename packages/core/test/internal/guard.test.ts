import { callHook, errorText, guardCallback, guardPredicate } from '../../src/internal/guard';
import { captureStderr } from '../helpers';

const stderr = captureStderr();

describe('guardPredicate', () => {
  it('answers true only for true, and onThrow for a throw, reported once per guarded function', () => {
    let calls = 0;
    const p = guardPredicate((x: number) => {
      calls++;
      if (x < 0) throw new RangeError('negative');
      return x > 1 ? true : (1 as unknown as boolean);
    }, 'trustIncoming', false);
    expect(p(2)).toBe(true);
    expect(p(1)).toBe(false);
    expect(p(-1)).toBe(false);
    expect(p(-2)).toBe(false);
    expect(calls).toBe(4);
    expect(stderr.lines()).toEqual(['[tracewire] the trustIncoming function threw (RangeError: negative); treated as false. Reported once.\n']);
  });
});

describe('guardCallback', () => {
  it('maps the answer with accept and says what a throw means', () => {
    const g = guardCallback((n: number) => (n === 0 ? (() => { throw 'plain string'; })() : n), 'the tail policy function', (v) => v !== 2, true, 'the trace is kept');
    expect(g(1)).toBe(true);
    expect(g(2)).toBe(false);
    expect(g(0)).toBe(true);
    expect(stderr.lines()).toEqual(['[tracewire] the tail policy function threw (plain string); the trace is kept. Reported once.\n']);
  });
});

describe('callHook', () => {
  it('runs the hook, and logs a throw once per key, never passing it on', () => {
    const seen: number[] = [];
    callHook('a:onRequest', 'onRequest', () => seen.push(1));
    for (let i = 0; i < 3; i++) callHook('a:onRequest', 'onRequest', () => { throw new Error('hook failed'); });
    callHook('b:onRequest', 'onRequest', () => { throw new Error('other adapter'); });
    expect(seen).toEqual([1]);
    expect(stderr.lines()).toEqual([
      '[tracewire] onRequest hook threw (hook failed); ignored (logged once)\n',
      '[tracewire] onRequest hook threw (other adapter); ignored (logged once)\n',
    ]);
  });
});

describe('errorText', () => {
  it('names the error, and survives a value that cannot be printed', () => {
    expect(errorText(new TypeError('bad'))).toBe('TypeError: bad');
    expect(errorText(42)).toBe('42');
    const hostile = { toString() { throw new Error('no'); } };
    expect(errorText(hostile)).toBe('unprintable error');
  });
});
