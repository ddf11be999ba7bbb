import fc from 'fast-check';
import {
  formatTraceparent,
  formatTracestate,
  normalizeTracestate,
  parseTraceparent,
  parseTracestate,
} from '../../src/propagation';

// Property tests: the parsers never throw, agree with a regex transcription of the spec's ABNF,
// and format/parse round-trip (https://www.w3.org/TR/trace-context-2/#traceparent-header,
// #tracestate-header).

const RUNS = { numRuns: 500 };

function charsOf(alphabet: string): fc.Arbitrary<string> {
  return fc.constantFrom(...alphabet.split(''));
}

const lowerHex = (length: number) =>
  fc.string({ unit: charsOf('0123456789abcdef'), minLength: length, maxLength: length });
const nonZeroHex = (length: number) => lowerHex(length).filter((s) => /[^0]/.test(s));

/** Strings near the traceparent shape: hex of both cases, dashes, whitespace, a few others. */
const hexish = fc.string({ unit: charsOf('0123456789abcdefABCDEFgz- \t,'), maxLength: 70 });

/** A valid traceparent built field by field, with mutations of single characters on top. */
const validTraceparentParts = fc.record({
  version: lowerHex(2).filter((v) => v !== 'ff'),
  traceId: nonZeroHex(32),
  spanId: nonZeroHex(16),
  flags: lowerHex(2),
  rest: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
});
const nearTraceparent = fc
  .tuple(validTraceparentParts, fc.nat(80), charsOf('0aA-f g\t'))
  .map(([p, at, ch]) => {
    const s = `${p.version}-${p.traceId}-${p.spanId}-${p.flags}${p.rest ?? ''}`;
    return at < s.length ? s.slice(0, at) + ch + s.slice(at + 1) : s;
  });

/** The traceparent rules as a regex, kept apart from the hand scan it checks. */
const TRACEPARENT_RE = /^[ \t]*([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*?)?[ \t]*$/s;
function referenceTraceparent(s: string) {
  const m = TRACEPARENT_RE.exec(s);
  if (!m) return null;
  const [, version, traceId, spanId, flags, rest] = m;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return null;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return null;
  return { traceId, spanId, traceFlags: parseInt(flags, 16), isRemote: true };
}

describe('parseTraceparent (properties)', () => {
  it('never throws on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), hexish, nearTraceparent), (s) => {
        parseTraceparent(s);
      }),
      RUNS,
    );
  });

  it('never throws on arbitrary values', () => {
    fc.assert(
      fc.property(fc.anything(), (v) => {
        expect(parseTraceparent(v as string)).toBeNull();
      }),
      { numRuns: 200, examples: [[[]], [{}], [0]] },
    );
  });

  it('agrees with a regex transcription of the spec', () => {
    fc.assert(
      fc.property(fc.oneof(hexish, nearTraceparent), (s) => {
        expect(parseTraceparent(s)).toEqual(referenceTraceparent(s));
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips format(parse(x)) for generated valid version-00 values', () => {
    fc.assert(
      fc.property(nonZeroHex(32), nonZeroHex(16), lowerHex(2), (traceId, spanId, flags) => {
        const value = `00-${traceId}-${spanId}-${flags}`;
        const ctx = parseTraceparent(value);
        expect(ctx).not.toBeNull();
        expect(formatTraceparent(ctx!)).toBe(value);
      }),
      RUNS,
    );
  });

  it('round-trips parse(format(ctx)) for generated valid contexts', () => {
    fc.assert(
      fc.property(nonZeroHex(32), nonZeroHex(16), fc.integer({ min: 0, max: 255 }), (traceId, spanId, traceFlags) => {
        expect(parseTraceparent(formatTraceparent({ traceId, spanId, traceFlags }))).toEqual({
          traceId,
          spanId,
          traceFlags,
          isRemote: true,
        });
      }),
      RUNS,
    );
  });
});

const LCALPHA = 'abcdefghijklmnopqrstuvwxyz';
const KEY_CHARS = LCALPHA + '0123456789_-*/@';
const keyRest = (max: number) => fc.string({ unit: charsOf(KEY_CHARS), maxLength: max });
/** key = ( lcalpha / DIGIT ) 0*255( keychar ), keychar including "@" (the current grammar). */
const validKey = fc.tuple(charsOf(LCALPHA + '0123456789'), keyRest(12)).map(([a, b]) => a + b);

let VALUE_CHARS = '';
for (let c = 0x20; c <= 0x7e; c++) if (c !== 0x2c && c !== 0x3d) VALUE_CHARS += String.fromCharCode(c);
/** 1..256 characters, not ending in a space (value = 0*255(chr) nblk-chr). */
const validValue = fc
  .tuple(fc.string({ unit: charsOf(VALUE_CHARS), maxLength: 12 }), charsOf(VALUE_CHARS.slice(1)))
  .map(([a, b]) => a + b);

/** Up to 32 entries of at most 27 characters: at most 895 characters, so some lists get cut. */
const validEntries = fc.uniqueArray(fc.tuple(validKey, validValue), {
  maxLength: 32,
  selector: ([k]) => k,
});
/** Lists that fit in 512 characters, which are passed on whole. */
const fittingEntries = validEntries.filter((e) => e.reduce((n, [k, v]) => n + k.length + v.length + 2, -1) <= 512);

/** Strings made of the tracestate alphabet's edge cases. */
const tracestateish = fc.string({ unit: charsOf('ab1@=, \t*/_-Z\u00e9\n'), maxLength: 60 });

/** The key and value rules as regexes (the W3C ABNF, transcribed). */
const KEY_RE = /^[a-z0-9][a-z0-9_*/@-]{0,255}$/;
const VALUE_RE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;
function referenceTracestate(s: string): Array<[string, string]> | null {
  const out: Array<[string, string]> = [];
  let members = 0;
  for (const raw of s.split(',')) {
    const member = raw.replace(/^[ \t]+|[ \t]+$/g, '');
    if (member === '') continue;
    const eq = member.indexOf('=');
    if (eq < 0) return null;
    const key = member.slice(0, eq);
    const value = member.slice(eq + 1);
    if (!KEY_RE.test(key) || !VALUE_RE.test(value)) return null;
    if (++members > 32) return null;
    if (!out.some(([k]) => k === key)) out.push([key, value]);
  }
  return out;
}

describe('parseTracestate (properties)', () => {
  it('never throws on arbitrary strings and string arrays', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string({ unit: 'binary' }),
          tracestateish,
          fc.array(tracestateish, { maxLength: 4 }),
        ),
        (v) => {
          parseTracestate(v);
          normalizeTracestate(v);
        },
      ),
      RUNS,
    );
  });

  it('never throws on arbitrary values', () => {
    fc.assert(
      fc.property(fc.anything(), (v) => {
        parseTracestate(v as string);
      }),
      { numRuns: 200 },
    );
  });

  it('agrees with a regex transcription of the spec', () => {
    fc.assert(
      fc.property(tracestateish, (s) => {
        expect(parseTracestate(s)).toEqual(referenceTracestate(s));
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips parse(format(x)) for generated valid lists that fit in 512 characters', () => {
    fc.assert(
      fc.property(fittingEntries, (entries) => {
        expect(parseTracestate(formatTracestate(entries))).toEqual(entries);
      }),
      RUNS,
    );
  });

  it('formats any valid list to at most 512 characters, a prefix-ordered subset of whole entries', () => {
    fc.assert(
      fc.property(validEntries, (entries) => {
        const out = formatTracestate(entries);
        expect(out.length).toBeLessThanOrEqual(512);
        const kept = out === '' ? [] : parseTracestate(out)!;
        // Whole entries, in their original order.
        let at = 0;
        for (const entry of kept) {
          while (at < entries.length && entries[at][0] !== entry[0]) at++;
          expect(entries[at]).toEqual(entry);
        }
      }),
      RUNS,
    );
  });

  it('round-trips format(parse(s)) for generated valid headers with optional whitespace', () => {
    fc.assert(
      fc.property(fittingEntries, fc.constantFrom(',', ' ,', ', ', '\t,\t', ',,'), (entries, sep) => {
        const header = entries.map(([k, v]) => `${k}=${v}`).join(sep);
        const parsed = parseTracestate(header);
        expect(parsed).toEqual(entries);
        expect(formatTracestate(parsed!)).toBe(normalizeTracestate(header) ?? '');
      }),
      RUNS,
    );
  });
});
