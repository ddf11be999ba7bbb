import { compileIgnore } from '../../src/http/ignore';

describe('compileIgnore', () => {
  const req = {};

  it('gives no matcher at all when nothing is ignored (the request path does no matching)', () => {
    expect(compileIgnore(undefined)).toBeUndefined();
  });

  it('matches exact paths, * within one segment, ** across segments, ? one character, and RegExps', () => {
    const ignore = compileIgnore<object>(['/health', '/static/*', '/assets/**', '/v?/ping', /^\/internal\//])!;
    const yes = ['/health', '/static/app.js', '/assets/a/b/c.css', '/v1/ping', '/internal/metrics'];
    const no = ['/health/', '/healthz', '/static/a/b.js', '/v10/ping', '/api/internal/x', '/'];
    for (const p of yes) expect([p, ignore(req, p)]).toEqual([p, true]);
    for (const p of no) expect([p, ignore(req, p)]).toEqual([p, false]);
  });

  it('treats the other regular-expression characters of a glob literally', () => {
    const ignore = compileIgnore<object>(['/a.b/(x)+*'])!;
    expect(ignore(req, '/a.b/(x)+y')).toBe(true);
    expect(ignore(req, '/axb/(x)+y')).toBe(false);
  });

  it('uses a predicate as it is', () => {
    const fn = (_r: object, path: string) => path.endsWith('.ico');
    expect(compileIgnore(fn)).toBe(fn);
  });

  it('rejects anything else with a TypeError naming the option and the bad entry', () => {
    expect(() => compileIgnore('/health' as never)).toThrow(/option "ignore" must be an array/);
    expect(() => compileIgnore(['/ok', 3] as never)).toThrow(/option "ignore\[1\]" must be a string or RegExp, got number/);
    expect(() => compileIgnore([{}] as never, 'routes.ignore')).toThrow(/option "routes\.ignore\[0\]"/);
  });
});
