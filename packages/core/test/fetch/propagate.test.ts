import { compilePropagateTo } from '../../src/fetch/propagate';
import { resetWarnings } from '../../src/config';

const u = (s: string) => new URL(s);

describe('compilePropagateTo', () => {
  it('allows everything when not configured', () => {
    expect(compilePropagateTo(undefined)).toBeUndefined();
  });

  it('allows nothing for an empty list', () => {
    expect(compilePropagateTo([])!(u('http://a.test/'))).toBe(false);
  });

  it('matches a host case-insensitively, on any port', () => {
    const m = compilePropagateTo(['API.Internal'])!;
    expect(m(u('http://api.internal/x'))).toBe(true);
    expect(m(u('https://api.internal:8443/x'))).toBe(true);
    expect(m(u('http://other.internal/'))).toBe(false);
    expect(m(u('http://api.internal.evil.test/'))).toBe(false);
  });

  it('matches host:port only on that port (default ports included)', () => {
    const m = compilePropagateTo(['api.internal:8443', 'web.internal:443'])!;
    expect(m(u('https://api.internal:8443/'))).toBe(true);
    expect(m(u('https://api.internal/'))).toBe(false);
    expect(m(u('https://web.internal/'))).toBe(true);
    expect(m(u('http://web.internal/'))).toBe(false);
  });

  it('matches host globs across labels, never the bare parent', () => {
    const m = compilePropagateTo(['*.internal'])!;
    expect(m(u('http://a.internal/'))).toBe(true);
    expect(m(u('http://a.b.internal/'))).toBe(true);
    expect(m(u('http://internal/'))).toBe(false);
    expect(m(u('http://a.internal.evil.test/'))).toBe(false);
  });

  it('matches IPv6 literals with or without brackets', () => {
    expect(compilePropagateTo(['[::1]'])!(u('http://[::1]:3000/'))).toBe(true);
    expect(compilePropagateTo(['::1'])!(u('http://[::1]/'))).toBe(true);
    expect(compilePropagateTo(['[::1]:3000'])!(u('http://[::1]:3000/'))).toBe(true);
    expect(compilePropagateTo(['[::1]:3000'])!(u('http://[::1]:3001/'))).toBe(false);
  });

  it('tests a RegExp against the whole URL, statelessly even with /g', () => {
    const m = compilePropagateTo([/^https:\/\/api\.test\/v1\//g])!;
    expect(m(u('https://api.test/v1/a'))).toBe(true);
    expect(m(u('https://api.test/v1/a'))).toBe(true);
    expect(m(u('https://api.test/v2/a'))).toBe(false);
  });

  it('treats a throwing predicate as false, reported once', () => {
    resetWarnings();
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const m = compilePropagateTo(() => {
        throw new Error('boom');
      })!;
      expect(m(u('http://a.test/'))).toBe(false);
      expect(m(u('http://a.test/'))).toBe(false);
      expect(stderr).toHaveBeenCalledTimes(1);
      expect(String(stderr.mock.calls[0][0])).toContain('propagateTo');
    } finally {
      stderr.mockRestore();
    }
  });

  it('rejects bad entries with a TypeError naming them', () => {
    expect(() => compilePropagateTo('a.test' as never)).toThrow(TypeError);
    expect(() => compilePropagateTo([42 as never])).toThrow(/"propagateTo\[0\]"/);
  });
});
