import { formatBaggage, parseBaggage, MAX_BAGGAGE_BYTES, MAX_BAGGAGE_MEMBERS } from '../../src/propagation';
import type { BaggageEntry } from '../../src/propagation';

// Vectors follow the W3C Baggage header format (w3c/baggage, baggage/HTTP_HEADER_FORMAT.md).

const entries = (m: Map<string, BaggageEntry> | undefined) => (m === undefined ? undefined : [...m]);

describe('parseBaggage', () => {
  it('parses the specification example with properties and OWS', () => {
    expect(entries(parseBaggage('key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue'))).toEqual([
      ['key1', { value: 'value1', properties: [{ key: 'property1' }, { key: 'property2' }] }],
      ['key2', { value: 'value2' }],
      ['key3', { value: 'value3', properties: [{ key: 'propertyKey', value: 'propertyValue' }] }],
    ]);
  });

  it('percent-decodes values as UTF-8', () => {
    expect(entries(parseBaggage('userId=Am%C3%A9lie,serverNode=DF%2028,isProduction=false'))).toEqual([
      ['userId', { value: 'Amélie' }],
      ['serverNode', { value: 'DF 28' }],
      ['isProduction', { value: 'false' }],
    ]);
  });

  it('percent-decodes property values too', () => {
    expect(parseBaggage('k=v;p=a%2Cb')!.get('k')).toEqual({ value: 'v', properties: [{ key: 'p', value: 'a,b' }] });
  });

  it('replaces percent-encoded octets that are not UTF-8 with U+FFFD', () => {
    expect(parseBaggage('k=a%FFb')!.get('k')!.value).toBe('a\ufffdb');
  });

  it('keeps equal signs inside a value', () => {
    expect(parseBaggage('token=abc==')!.get('token')!.value).toBe('abc==');
  });

  it('accepts an empty value', () => {
    expect(parseBaggage('k=')!.get('k')).toEqual({ value: '' });
  });

  it('combines several headers into one list', () => {
    expect(entries(parseBaggage(['userId=alice', 'serverNode=DF%2028,isProduction=false']))!.map(([k]) => k)).toEqual(['userId', 'serverNode', 'isProduction']);
  });

  it.each([
    ['no equals sign', 'novalue'],
    ['an empty key', '=v'],
    ['a key that is not a token', 'ke y=v'],
    ['a key with a non-ASCII character', 'kä=v'],
    ['a space inside the value', 'k=a b'],
    ['a double quote in the value', 'k="v"'],
    ['a backslash in the value', 'k=a\\b'],
    ['a bare %', 'k=50%'],
    ['a % with one hex digit', 'k=%4'],
    ['a % followed by non-hex', 'k=%zz'],
    ['a non-ASCII character in the value', 'k=é'],
    ['a property key that is not a token', 'k=v;p q'],
    ['a property value with a space', 'k=v;p=a b'],
  ])('drops a member with %s and keeps the others', (_case, bad) => {
    expect(entries(parseBaggage(`a=1,${bad},b=2`))).toEqual([
      ['a', { value: '1' }],
      ['b', { value: '2' }],
    ]);
  });

  it('skips empty members and empty properties', () => {
    expect(entries(parseBaggage(' , a=1;;, ,b=2;'))).toEqual([
      ['a', { value: '1' }],
      ['b', { value: '2' }],
    ]);
  });

  it('keeps the first position and the last value of a repeated key', () => {
    expect(entries(parseBaggage('a=1,b=2,a=3'))).toEqual([
      ['a', { value: '3' }],
      ['b', { value: '2' }],
    ]);
  });

  it('keeps 180 members and drops the ones after', () => {
    const header = Array.from({ length: 200 }, (_, i) => `k${i}=${i}`).join(',');
    const parsed = parseBaggage(header)!;
    expect(parsed.size).toBe(MAX_BAGGAGE_MEMBERS);
    expect(parsed.has('k179')).toBe(true);
    expect(parsed.has('k180')).toBe(false);
  });

  it('does not count invalid members toward the 180', () => {
    const header = Array.from({ length: 180 }, (_, i) => `k${i}=${i},bad${i}`).join(',');
    expect(parseBaggage(header)!.size).toBe(180);
  });

  it('keeps whole members up to 8192 bytes of the combined header and drops the rest', () => {
    const value = 'v'.repeat(1000);
    const header = Array.from({ length: 9 }, (_, i) => `k${i}=${value}`).join(','); // 9 * 1003 + 8
    const parsed = parseBaggage(header)!;
    // 8 members take 8 * 1003 + 7 = 8031 bytes; the 9th would make 9035.
    expect([...parsed.keys()]).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7']);
    expect(parsed.get('k7')!.value).toBe(value);
  });

  it('returns undefined for a missing, empty or wholly invalid header', () => {
    expect(parseBaggage(undefined)).toBeUndefined();
    expect(parseBaggage(null)).toBeUndefined();
    expect(parseBaggage('')).toBeUndefined();
    expect(parseBaggage(' , ')).toBeUndefined();
    expect(parseBaggage('bad,=x')).toBeUndefined();
  });

  it('returns undefined for non-string input without throwing', () => {
    for (const v of [42, {}, [1], [null], true]) expect(parseBaggage(v as never)).toBeUndefined();
  });
});

describe('formatBaggage', () => {
  it('writes key=value members with properties', () => {
    const b = new Map<string, BaggageEntry>([
      ['userId', { value: 'alice' }],
      ['k', { value: 'v', properties: [{ key: 'p1' }, { key: 'p2', value: 'x' }] }],
    ]);
    expect(formatBaggage(b)).toBe('userId=alice,k=v;p1;p2=x');
  });

  it('percent-encodes what is not a baggage-octet, and % itself', () => {
    const b = new Map<string, BaggageEntry>([
      ['serverNode', { value: 'DF 28' }],
      ['userId', { value: 'Amélie' }],
      ['odd', { value: 'a,b;c"d\\e%f\n' }],
      ['emoji', { value: '🙂' }],
    ]);
    expect(formatBaggage(b)).toBe('serverNode=DF%2028,userId=Am%C3%A9lie,odd=a%2Cb%3Bc%22d%5Ce%25f%0A,emoji=%F0%9F%99%82');
  });

  it('skips entries it cannot write and keeps the rest', () => {
    const b = new Map<string, BaggageEntry>([
      ['ok', { value: '1' }],
      ['not a token', { value: '2' }],
      ['lone', { value: 'x\ud800y' }],
      ['badprop', { value: '3', properties: [{ key: 'p q' }] }],
      ['ok2', { value: '4' }],
    ]);
    expect(formatBaggage(b)).toBe('ok=1,ok2=4');
  });

  it('stays within 180 members and 8192 bytes, whole members only', () => {
    const many = new Map<string, BaggageEntry>(Array.from({ length: 200 }, (_, i) => [`k${i}`, { value: 'v' }]));
    expect(formatBaggage(many).split(',')).toHaveLength(180);
    const big = new Map<string, BaggageEntry>(Array.from({ length: 10 }, (_, i) => [`k${i}`, { value: 'v'.repeat(1000) }]));
    const out = formatBaggage(big);
    expect(out.length).toBeLessThanOrEqual(MAX_BAGGAGE_BYTES);
    expect(out.split(',')).toHaveLength(8);
    expect(out.split(',').every((m) => m.length === 1003)).toBe(true);
  });

  it('round-trips through parseBaggage', () => {
    const b = new Map<string, BaggageEntry>([
      ['a', { value: 'x y,z;%' }],
      ['b', { value: '', properties: [{ key: 'p' }, { key: 'q', value: 'ü' }] }],
    ]);
    expect(parseBaggage(formatBaggage(b))).toEqual(b);
  });

  it('passes a canonical header on as received, and re-encodes anything else', () => {
    expect(formatBaggage(parseBaggage('a=1,b=2;p;q=x')!)).toBe('a=1,b=2;p;q=x');
    for (const [raw, out] of [
      ['a = 1 ,b=%41', 'a=1,b=A'],
      ['a=1,', 'a=1'],
      [' a=1', 'a=1'],
      ['a=1,bad,b=2', 'a=1,b=2'],
      ['a=1,a=2', 'a=2'],
      ['a=1;;p', 'a=1;p'],
      ['a=1; p = x', 'a=1;p=x'],
    ]) {
      expect(formatBaggage(parseBaggage(raw)!)).toBe(out);
    }
  });

  it('gives an empty string for empty baggage', () => {
    expect(formatBaggage(new Map())).toBe('');
  });
});
