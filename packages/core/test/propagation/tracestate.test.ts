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

  it('accepts every key character, @ included, anywhere after the first', () => {
    expect(parseTracestate('a0_-*/@z=1,t_-*/9@s0_-*/=2')).toEqual([
      ['a0_-*/@z', '1'],
      ['t_-*/9@s0_-*/', '2'],
    ]);
  });

  // The current key grammar, key = ( lcalpha / DIGIT ) 0*255( keychar ) with "@" a keychar: the
  // old tenant@system split and its 241/14 limits are gone (w3c/trace-context test.py
  // test_tracestate_key_illegal_vendor_format, test_tracestate_key_length_limit).
  it.each([
    ['a key starting with a digit', '1abc=v'],
    ['a key ending with @', 'foo@=v'],
    ['a key with @@', 'foo@@bar=v'],
    ['a key with two @', 'foo@bar@baz=v'],
    ['a digit after @', 'tenant@1sys=v'],
    ['a 15-character part after @', `t@${'s'.repeat(15)}=v`],
    ['a 242-character part before @', `${'t'.repeat(242)}@s=v`],
  ])('accepts %s', (_case, value) => {
    const eq = value.indexOf('=');
    expect(parseTracestate(value)).toEqual([[value.slice(0, eq), value.slice(eq + 1)]]);
  });

  it('rejects a key starting with @', () => {
    expect(parseTracestate('@sys=v')).toBeNull();
    expect(parseTracestate('@foo=1,bar=2')).toBeNull();
  });

  it('accepts a 256-character key, with or without @', () => {
    expect(parseTracestate(`${'k'.repeat(256)}=v`)).not.toBeNull();
    expect(parseTracestate(`${'t'.repeat(241)}@${'v'.repeat(14)}=1`)).not.toBeNull();
  });

  it('rejects a key longer than 256 characters', () => {
    expect(parseTracestate(`${'k'.repeat(257)}=v`)).toBeNull();
    expect(parseTracestate(`foo=1,${'t'.repeat(250)}@${'v'.repeat(6)}=1`)).toBeNull();
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

  it('keeps a repeated key once, with its leftmost value', () => {
    expect(parseTracestate('congo=1,rojo=2,congo=3')).toEqual([
      ['congo', '1'],
      ['rojo', '2'],
    ]);
    expect(parseTracestate('foo=1,foo=1')).toEqual([['foo', '1']]);
  });

  it('keeps a key repeated over several headers once', () => {
    expect(parseTracestate(['congo=1', 'congo=2'])).toEqual([['congo', '1']]);
  });

  it('counts repeated members toward the 32', () => {
    expect(parseTracestate(members(32) + ',k0=again')).toBeNull();
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

  it('keeps the first of repeated keys and cuts to 512 characters', () => {
    expect(formatTracestate([['a', '1'], ['b', '2'], ['a', '3']])).toBe('a=1,b=2');
    const long: [string, string][] = Array.from({ length: 20 }, (_, i) => [`s${String(i).padStart(2, '0')}`, 'v'.repeat(26)]);
    expect(formatTracestate(long).split(',')).toHaveLength(16);
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
    expect(normalizeTracestate('rojo=1,Rojo=2')).toBeUndefined();
    expect(normalizeTracestate('foo=,bar=3')).toBeUndefined();
  });

  it('drops repeated keys, keeping the leftmost', () => {
    expect(normalizeTracestate('rojo=1,rojo=2,congo=3')).toBe('rojo=1,congo=3');
  });

  it('passes on a 512-character list whole', () => {
    // 16 entries of 31 characters plus 15 commas = 511; one more character in the last value = 512.
    const entries = Array.from({ length: 16 }, (_, i) => `k${String(i).padStart(2, '0')}=${'v'.repeat(i === 15 ? 28 : 27)}`);
    const header = entries.join(',');
    expect(header).toHaveLength(512);
    expect(normalizeTracestate(header)).toBe(header);
  });

  it('cuts a list over 512 characters by whole entries, entries over 128 characters first', () => {
    const long = `long=${'x'.repeat(200)}`; // 205 characters
    const short = Array.from({ length: 12 }, (_, i) => `s${String(i).padStart(2, '0')}=${'v'.repeat(26)}`); // 30 each
    // 30 * 12 + 205 + 12 commas = 577 > 512: the long entry goes, though it is not last.
    const header = [short[0], long, ...short.slice(1)].join(',');
    expect(normalizeTracestate(header)).toBe(short.join(','));
  });

  it('then cuts from the end when no long entry is left', () => {
    const short = Array.from({ length: 20 }, (_, i) => `s${String(i).padStart(2, '0')}=${'v'.repeat(26)}`); // 30 each
    // 16 entries: 16 * 30 + 15 = 495 <= 512; 17 would be 526.
    expect(normalizeTracestate(short.join(','))).toBe(short.slice(0, 16).join(','));
  });

  it('drops a single entry too long to pass on', () => {
    expect(normalizeTracestate(`${'k'.repeat(256)}=${'v'.repeat(256)}`)).toBeUndefined();
  });

  it('returns undefined for an empty or missing header', () => {
    expect(normalizeTracestate('')).toBeUndefined();
    expect(normalizeTracestate(' , ')).toBeUndefined();
    expect(normalizeTracestate(undefined)).toBeUndefined();
  });
});
