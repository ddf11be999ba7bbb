import { logThrottled, resetWarnings, warnOnce } from '../../src/diag/warn';
import { captureStderr } from '../helpers';

const stderr = captureStderr();
const { lines } = stderr;
afterEach(() => jest.useRealTimers());

describe('warnOnce', () => {
  it('writes one prefixed line the first time per key', () => {
    warnOnce('a', 'first');
    warnOnce('a', 'again');
    warnOnce('b', 'other');
    expect(lines()).toEqual(['[tracewire] first\n', '[tracewire] other\n']);
  });

  it('writes again after resetWarnings', () => {
    warnOnce('a', 'x');
    resetWarnings();
    warnOnce('a', 'x');
    expect(lines()).toHaveLength(2);
  });

  it('never throws, even when stderr does', () => {
    stderr.spy.mockImplementation(() => {
      throw new Error('EPIPE');
    });
    expect(() => warnOnce('k', 'm')).not.toThrow();
    expect(() => logThrottled('k', 'm')).not.toThrow();
  });
});

describe('logThrottled', () => {
  it('writes at most once per interval per key, then counts what it suppressed', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    logThrottled('otlp', 'export failed');
    logThrottled('otlp', 'export failed');
    logThrottled('otlp', 'export failed');
    logThrottled('console', 'other exporter failed');
    expect(lines()).toEqual(['[tracewire] export failed\n', '[tracewire] other exporter failed\n']);
    jest.setSystemTime(1_000_000 + 59_999);
    logThrottled('otlp', 'export failed');
    expect(lines()).toHaveLength(2);
    jest.setSystemTime(1_000_000 + 60_000);
    logThrottled('otlp', 'export failed');
    expect(lines()[2]).toBe('[tracewire] export failed (3 similar suppressed)\n');
  });

  it('honours a custom interval', () => {
    jest.useFakeTimers({ now: 0 });
    logThrottled('k', 'm', 10);
    jest.setSystemTime(10);
    logThrottled('k', 'm', 10);
    expect(lines()).toEqual(['[tracewire] m\n', '[tracewire] m\n']);
  });
});
