import { formatTracestate, normalizeTracestate, parseTracestate } from '../../src/propagation';

// Vectors follow https://www.w3.org/TR/trace-context-2/#tracestate-header (#key, #value, #list).

function members(count: number): string {
  return Array.from({ length: count }, (_, i) => `k${i}=v${i}`).join(',');
}

describe('parseTracestate', () => {
  it('parses one member', () => {
    expect(parseTracestate('congo=t61rcWkgMzE')).toEqual([['congo', 't61rcWkgMzE']]);
  });

  it('keeps members in order, leftmost first', () => {
    expect(parseTracestate('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE')).toEqual([
      ['rojo', '00f067aa0ba902b7'],
      ['congo', 't61rcWkgMzE'],
    ]);
  });

  it('accepts a multi-tenant key tenant@system', () => {
    expect(parseTracestate('fw529a3039@dt=abc')).toEqual([['fw529a3039@dt', 'abc']]);
  });

  it('accepts every key character in both key forms', () => {
    expect(parseTracestate('a0_-*/z=1,t_-*/9@s0_-*/=2')).toEqual([
      ['a0_-*/z', '1'],
      ['t_-*/9@s0_-*/', '2'],
    ]);
  });

  it('rejects a simple key starting with a digit', () => {
    expect(parseTracestate('1abc=v')).toBeNull();
  });

  it('accepts a tenant id starting with a digit', () => {
    expect(parseTracestate('1abc@sys=v')).toEqual([['1abc@sys', 'v']]);
  });

  it('rejects a key starting with @', () => {
    expect(parseTracestate('@sys=v')).toBeNull();
  });

  it('rejects a system id starting with a digit', () => {
    expect(parseTracestate('tenant@1sys=v')).toBeNull();
  });

  it('rejects an empty system id', () => {
    expect(parseTracestate('tenant@=v')).toBeNull();
  });

  it('accepts a 14-character system id', () => {
    expect(parseTracestate(`t@${'s'.repeat(14)}=v`)).not.toBeNull();
  });

  it('rejects a system id longer than 14 characters', () => {
    expect(parseTracestate(`t@${'s'.repeat(15)}=v`)).toBeNull();
  });

  it('accepts a 241-character tenant id', () => {
    expect(parseTracestate(`${'t'.repeat(241)}@s=v`)).not.toBeNull();
  });

  it('rejects a tenant id longer than 241 characters', () => {
    expect(parseTracestate(`${'t'.repeat(242)}@s=v`)).toBeNull();
  });

  it('rejects a key with two @', () => {
    expect(parseTracestate('a@b@c=v')).toBeNull();
  });

  it('accepts a 256-character simple key', () => {
    expect(parseTracestate(`${'k'.repeat(256)}=v`)).not.toBeNull();
  });

  it('rejects a simple key longer than 256 characters', () => {
    expect(parseTracestate(`${'k'.repeat(257)}=v`)).toBeNull();
  });

  it.each([
    ['uppercase', 'Congo=v'],
    ['a dot', 'con.go=v'],
    ['a space before =', 'congo =v'],
    ['an empty key', '=v'],
    ['non-ASCII', 'cöngo=v'],
  ])('rejects a key with %s', (_case, value) => {
    expect(parseTracestate(value)).toBeNull();
  });

  it('accepts 32 members', () => {
    expect(parseTracestate(members(32))).toHaveLength(32);
  });

  it('rejects 33 members', () => {
    expect(parseTracestate(members(33))).toBeNull();
  });

  it('does not count empty members toward the 32', () => {
    expect(parseTracestate(members(32) + ',,, ,')).toHaveLength(32);
  });

  it('rejects a value containing =', () => {
    expect(parseTracestate('congo=a=b')).toBeNull();
  });

  it('rejects the list when a comma splits a value into a member without =', () => {
    expect(parseTracestate('congo=a,b')).toBeNull();
  });

  it('treats a space after a value as optional whitespace, not part of the value', () => {
    expect(parseTracestate('congo=abc ')).toEqual([['congo', 'abc']]);
    expect(parseTracestate('congo=abc  ,rojo=1')).toEqual([
      ['congo', 'abc'],
      ['rojo', '1'],
    ]);
  });

  it('keeps leading and inner spaces of a value', () => {
    expect(parseTracestate('congo= a b')).toEqual([['congo', ' a b']]);
  });

  it('rejects a value made only of spaces', () => {
    expect(parseTracestate('congo=   ')).toBeNull();
  });

  it('rejects an empty value', () => {
    expect(parseTracestate('congo=')).toBeNull();
  });

  it('accepts a 256-character value', () => {
    expect(parseTracestate(`k=${'v'.repeat(256)}`)?.[0][1]).toHaveLength(256);
  });

  it('rejects a value longer than 256 characters', () => {
    expect(parseTracestate(`k=${'v'.repeat(257)}`)).toBeNull();
  });

  it.each([
    ['a tab', 'k=a\tb'],
    ['a newline', 'k=a\nb'],
    ['DEL', 'k=a\x7fb'],
    ['non-ASCII', 'k=café'],
  ])('rejects a value with %s', (_case, value) => {
    expect(parseTracestate(value)).toBeNull();
  });

  it('accepts every printable ASCII character except , and = in a value', () => {
    let value = '';
    for (let c = 0x21; c <= 0x7e; c++) if (c !== 0x2c && c !== 0x3d) value += String.fromCharCode(c);
    expect(parseTracestate(`k=${value}`)).toEqual([['k', value]]);
  });

  it('rejects a member without =', () => {
    expect(parseTracestate('congo')).toBeNull();
    expect(parseTracestate('a=1,congo')).toBeNull();
  });

  it('rejects duplicate keys', () => {
    expect(parseTracestate('congo=1,rojo=2,congo=3')).toBeNull();
  });

  it('rejects duplicate keys spread over several headers', () => {
    expect(parseTracestate(['congo=1', 'congo=2'])).toBeNull();
  });

  it('combines several headers in order', () => {
    expect(parseTracestate(['rojo=1,congo=2', 'a@b=3'])).toEqual([
      ['rojo', '1'],
      ['congo', '2'],
      ['a@b', '3'],
    ]);
  });

  it('combines several headers when one of them is empty', () => {
    expect(parseTracestate(['rojo=1', '', ' ', 'congo=2'])).toEqual([
      ['rojo', '1'],
      ['congo', '2'],
    ]);
  });

  it('counts members across combined headers toward the 32', () => {
    expect(parseTracestate([members(20), members(33).split(',').slice(20).join(',')])).toBeNull();
  });

  it('ignores empty and whitespace-only members', () => {
    expect(parseTracestate(',, rojo=1 ,\t, ,congo=2,')).toEqual([
      ['rojo', '1'],
      ['congo', '2'],
    ]);
  });

  it('trims spaces and tabs around members', () => {
    expect(parseTracestate(' \trojo=1\t , congo=2 ')).toEqual([
      ['rojo', '1'],
      ['congo', '2'],
    ]);
  });

  it('gives an empty list for an empty or whitespace-only header', () => {
    expect(parseTracestate('')).toEqual([]);
    expect(parseTracestate(' , ,\t')).toEqual([]);
  });

  it('rejects the whole list when one member is invalid', () => {
    expect(parseTracestate('rojo=1,Congo=2,a=3')).toBeNull();
  });

  it('returns null for a missing header', () => {
    expect(parseTracestate(undefined)).toBeNull();
    expect(parseTracestate(null)).toBeNull();
    expect(parseTracestate([])).toBeNull();
  });

  it('returns null for non-string input without throwing', () => {
    const inputs: unknown[] = [42, {}, ['a=1', 42], [null], Symbol('x'), true];
    for (const input of inputs) {
      expect(parseTracestate(input as string)).toBeNull();
    }
  });
});

describe('formatTracestate', () => {
  it('joins entries as k=v with commas', () => {
    expect(
      formatTracestate([
        ['rojo', '00f067aa0ba902b7'],
        ['congo', 't61rcWkgMzE'],
      ]),
    ).toBe('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
  });

  it('formats an empty list as an empty string', () => {
    expect(formatTracestate([])).toBe('');
  });

  it('keeps at most 32 entries, the leftmost ones', () => {
    const entries = Array.from({ length: 40 }, (_, i): [string, string] => [`k${i}`, `v${i}`]);
    expect(formatTracestate(entries)).toBe(members(32));
  });

  it('skips entries it would reject on parsing', () => {
    expect(
      formatTracestate([
        ['ok', '1'],
        ['Bad', '2'],
        ['crlf', 'a\r\nset-cookie: x'],
        ['eq', 'a=b'],
        ['empty', ''],
        ['trailing', 'v '],
        ['ok2', '3'],
      ]),
    ).toBe('ok=1,ok2=3');
  });
});

describe('normalizeTracestate', () => {
  it('removes optional whitespace and empty members', () => {
    expect(normalizeTracestate(' rojo=1 ,, congo=2\t')).toBe('rojo=1,congo=2');
  });

  it('combines several headers into one value', () => {
    expect(normalizeTracestate(['rojo=1', 'congo=2'])).toBe('rojo=1,congo=2');
  });

  it('returns undefined for an invalid header', () => {
    expect(normalizeTracestate('rojo=1,rojo=2')).toBeUndefined();
  });

  it('returns undefined for an empty or missing header', () => {
    expect(normalizeTracestate('')).toBeUndefined();
    expect(normalizeTracestate(' , ')).toBeUndefined();
    expect(normalizeTracestate(undefined)).toBeUndefined();
  });
});
