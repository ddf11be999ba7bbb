import {
  formatTraceparent,
  isValidSpanId,
  isValidTraceId,
  parseTraceparent,
} from '../../src/propagation';

// Vectors follow https://www.w3.org/TR/trace-context-2/#traceparent-header and the W3C test suite.
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const VALID = `00-${TRACE_ID}-${SPAN_ID}-01`;

function tp(version: string, traceId: string, spanId: string, flags: string): string {
  return `${version}-${traceId}-${spanId}-${flags}`;
}

describe('parseTraceparent', () => {
  it('parses the spec example of a sampled request', () => {
    expect(parseTraceparent(VALID)).toEqual({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1, isRemote: true });
  });

  it('parses a request the caller did not sample', () => {
    expect(parseTraceparent(tp('00', TRACE_ID, SPAN_ID, '00'))?.traceFlags).toBe(0);
  });

  it('keeps the Level 2 random flag (02)', () => {
    expect(parseTraceparent(tp('00', TRACE_ID, SPAN_ID, '02'))?.traceFlags).toBe(0x02);
  });

  it('keeps sampled and random together (03)', () => {
    expect(parseTraceparent(tp('00', TRACE_ID, SPAN_ID, '03'))?.traceFlags).toBe(0x03);
  });

  it('keeps undefined flag bits as the full byte', () => {
    expect(parseTraceparent(tp('00', TRACE_ID, SPAN_ID, '09'))?.traceFlags).toBe(0x09);
    expect(parseTraceparent(tp('00', TRACE_ID, SPAN_ID, 'ff'))?.traceFlags).toBe(0xff);
  });

  it('returns the ids as new strings of the exact lengths', () => {
    const ctx = parseTraceparent(`  ${VALID}\t`);
    expect(ctx?.traceId).toHaveLength(32);
    expect(ctx?.spanId).toHaveLength(16);
  });

  it.each([
    ['version', tp('0A', TRACE_ID, SPAN_ID, '01')],
    ['trace id', tp('00', TRACE_ID.toUpperCase(), SPAN_ID, '01')],
    ['parent id', tp('00', TRACE_ID, '00F067AA0BA902B7', '01')],
    ['flags', tp('00', TRACE_ID, SPAN_ID, '0A')],
  ])('rejects uppercase hex in the %s', (_field, value) => {
    expect(parseTraceparent(value)).toBeNull();
  });

  it.each([
    ['a 31-character trace id', tp('00', TRACE_ID.slice(1), SPAN_ID, '01')],
    ['a 33-character trace id', tp('00', TRACE_ID + 'a', SPAN_ID, '01')],
    ['a 15-character parent id', tp('00', TRACE_ID, SPAN_ID.slice(1), '01')],
    ['a 17-character parent id', tp('00', TRACE_ID, SPAN_ID + 'a', '01')],
    ['1-character flags', tp('00', TRACE_ID, SPAN_ID, '1')],
    ['3-character flags', tp('00', TRACE_ID, SPAN_ID, '011')],
    ['1-character version', tp('0', TRACE_ID, SPAN_ID, '01')],
    ['3-character version', tp('000', TRACE_ID, SPAN_ID, '01')],
    ['a value cut short', VALID.slice(0, 54)],
  ])('rejects %s', (_case, value) => {
    expect(parseTraceparent(value)).toBeNull();
  });

  it.each([
    // Characters past ASCII whose low byte is a hex digit ('a' + 0x80, 'a' + 0x100, '0' + 0x100).
    ['in the trace id', tp('00', '\u00e1' + TRACE_ID.slice(1), SPAN_ID, '01')],
    ['in the trace id (two bytes)', tp('00', TRACE_ID.slice(0, 31) + '\u0161', SPAN_ID, '01')],
    ['in the parent id', tp('00', TRACE_ID, SPAN_ID.slice(0, 15) + '\u0130', '01')],
    ['in the parent id (all else zero)', tp('00', TRACE_ID, '\u0130' + '0'.repeat(15), '01')],
  ])('rejects a non-ASCII character %s', (_field, value) => {
    expect(parseTraceparent(value)).toBeNull();
  });

  it('accepts every lowercase hex digit and rejects the characters next to them', () => {
    expect(parseTraceparent(tp('00', '0123456789abcdef0123456789abcdef', 'fedcba9876543210', '01'))?.traceId).toBe('0123456789abcdef0123456789abcdef');
    for (const c of ['/', ':', '`', 'g', 'G', '@']) {
      expect(parseTraceparent(tp('00', c + TRACE_ID.slice(1), SPAN_ID, '01'))).toBeNull();
      expect(parseTraceparent(tp('00', TRACE_ID, SPAN_ID.slice(0, 15) + c, '01'))).toBeNull();
    }
  });

  it('rejects version ff', () => {
    expect(parseTraceparent(tp('ff', TRACE_ID, SPAN_ID, '01'))).toBeNull();
  });

  it('rejects version ff even with extra fields', () => {
    expect(parseTraceparent(tp('ff', TRACE_ID, SPAN_ID, '01') + '-extra')).toBeNull();
  });

  it('rejects version 00 with trailing fields', () => {
    expect(parseTraceparent(VALID + '-what-the-future-will-be-like')).toBeNull();
  });

  it('rejects version 00 with a trailing character', () => {
    expect(parseTraceparent(VALID + '-')).toBeNull();
    expect(parseTraceparent(VALID + 'a')).toBeNull();
  });

  it('parses a future version with extra fields by its first four', () => {
    expect(parseTraceparent(tp('cc', TRACE_ID, SPAN_ID, '01') + '-what-the-future-will-be-like')).toEqual({
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      traceFlags: 1,
      isRemote: true,
    });
  });

  it('parses a future version of exactly 55 characters', () => {
    expect(parseTraceparent(tp('01', TRACE_ID, SPAN_ID, '00'))?.traceId).toBe(TRACE_ID);
    expect(parseTraceparent(tp('fe', TRACE_ID, SPAN_ID, '00'))?.traceId).toBe(TRACE_ID);
  });

  it('rejects a future version whose extra characters do not start with a dash', () => {
    expect(parseTraceparent(tp('cc', TRACE_ID, SPAN_ID, '01') + '.what-the-future-will-be-like')).toBeNull();
    expect(parseTraceparent(tp('cc', TRACE_ID, SPAN_ID, '01') + 'a')).toBeNull();
  });

  it('rejects a future version with invalid known fields', () => {
    expect(parseTraceparent(tp('cc', TRACE_ID.toUpperCase(), SPAN_ID, '01') + '-x')).toBeNull();
    expect(parseTraceparent(tp('cc', '0'.repeat(32), SPAN_ID, '01') + '-x')).toBeNull();
    expect(parseTraceparent(tp('cc', TRACE_ID, SPAN_ID, '0x') + '-x')).toBeNull();
  });

  it('rejects an all-zero trace id', () => {
    expect(parseTraceparent(tp('00', '0'.repeat(32), SPAN_ID, '01'))).toBeNull();
  });

  it('rejects an all-zero parent id', () => {
    expect(parseTraceparent(tp('00', TRACE_ID, '0'.repeat(16), '01'))).toBeNull();
  });

  it('accepts ids that are zero except for one digit', () => {
    expect(parseTraceparent(tp('00', '0'.repeat(31) + '1', '1' + '0'.repeat(15), '00'))).not.toBeNull();
  });

  it.each([
    ['the version', tp('0g', TRACE_ID, SPAN_ID, '01')],
    ['the trace id', tp('00', TRACE_ID.slice(0, 31) + 'g', SPAN_ID, '01')],
    ['the parent id', tp('00', TRACE_ID, 'z' + SPAN_ID.slice(1), '01')],
    ['the flags', tp('00', TRACE_ID, SPAN_ID, '0-')],
    ['the trace id (a dash)', tp('00', TRACE_ID.slice(0, 16) + '-' + TRACE_ID.slice(17), SPAN_ID, '01')],
  ])('rejects a non-hex character in %s', (_field, value) => {
    expect(parseTraceparent(value)).toBeNull();
  });

  it.each([
    ['underscores', `00_${TRACE_ID}_${SPAN_ID}_01`],
    ['spaces', `00 ${TRACE_ID} ${SPAN_ID} 01`],
    ['a missing last dash', `00-${TRACE_ID}-${SPAN_ID}001`],
  ])('rejects fields separated by %s', (_case, value) => {
    expect(parseTraceparent(value)).toBeNull();
  });

  it('trims surrounding spaces and tabs', () => {
    expect(parseTraceparent(`  ${VALID}  `)?.traceId).toBe(TRACE_ID);
    expect(parseTraceparent(`\t${VALID}\t `)?.spanId).toBe(SPAN_ID);
  });

  it('rejects whitespace that is not OWS around the value', () => {
    expect(parseTraceparent(`\n${VALID}`)).toBeNull();
    expect(parseTraceparent(`${VALID}\r\n`)).toBeNull();
  });

  it('rejects whitespace inside the value', () => {
    expect(parseTraceparent(`00- ${TRACE_ID}-${SPAN_ID}-01`)).toBeNull();
  });

  it('parses an array holding one value', () => {
    expect(parseTraceparent([VALID])?.traceId).toBe(TRACE_ID);
  });

  it('rejects an array holding several values, even identical ones', () => {
    expect(parseTraceparent([VALID, VALID])).toBeNull();
    expect(parseTraceparent([VALID, tp('00', TRACE_ID, 'b7ad6b7169203331', '01')])).toBeNull();
  });

  it('rejects several values joined by a comma, as Node joins repeated headers', () => {
    expect(parseTraceparent(`${VALID}, ${VALID}`)).toBeNull();
    expect(parseTraceparent(`${tp('cc', TRACE_ID, SPAN_ID, '01')}, ${VALID}`)).toBeNull();
  });

  it('rejects an empty array', () => {
    expect(parseTraceparent([])).toBeNull();
  });

  it('rejects missing and empty values', () => {
    expect(parseTraceparent(undefined)).toBeNull();
    expect(parseTraceparent(null)).toBeNull();
    expect(parseTraceparent('')).toBeNull();
    expect(parseTraceparent('   ')).toBeNull();
  });

  it('returns null for non-string input without throwing', () => {
    const inputs: unknown[] = [42, {}, { length: 55 }, [42], [[VALID]], Symbol('x'), () => VALID, true, 10n];
    for (const input of inputs) {
      expect(parseTraceparent(input as string)).toBeNull();
    }
  });
});

describe('formatTraceparent', () => {
  it('formats version 00 with two-digit flags', () => {
    expect(formatTraceparent({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 })).toBe(VALID);
  });

  it('pads the random flag to 02', () => {
    expect(formatTraceparent({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 2 })).toBe(`00-${TRACE_ID}-${SPAN_ID}-02`);
  });

  it('formats the full flag byte', () => {
    expect(formatTraceparent({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 0xff })).toMatch(/-ff$/);
  });

  it('keeps only the low 8 bits of out-of-range flags', () => {
    expect(formatTraceparent({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 0x103 })).toMatch(/-03$/);
    expect(formatTraceparent({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: NaN })).toMatch(/-00$/);
  });

  it('downgrades a parsed future version to 00', () => {
    const ctx = parseTraceparent(tp('cc', TRACE_ID, SPAN_ID, '03') + '-future');
    expect(ctx).not.toBeNull();
    expect(formatTraceparent(ctx!)).toBe(`00-${TRACE_ID}-${SPAN_ID}-03`);
  });
});

describe('isValidTraceId', () => {
  it('accepts 32 lowercase hex characters', () => {
    expect(isValidTraceId(TRACE_ID)).toBe(true);
  });

  it('rejects all zeros, uppercase, wrong lengths and non-strings', () => {
    expect(isValidTraceId('0'.repeat(32))).toBe(false);
    expect(isValidTraceId(TRACE_ID.toUpperCase())).toBe(false);
    expect(isValidTraceId(TRACE_ID.slice(1))).toBe(false);
    expect(isValidTraceId(TRACE_ID + '0')).toBe(false);
    expect(isValidTraceId(undefined)).toBe(false);
    expect(isValidTraceId(123)).toBe(false);
    expect(isValidTraceId('\u00e1' + TRACE_ID.slice(1))).toBe(false);
  });
});

describe('isValidSpanId', () => {
  it('accepts 16 lowercase hex characters', () => {
    expect(isValidSpanId(SPAN_ID)).toBe(true);
  });

  it('rejects all zeros, uppercase, wrong lengths and non-strings', () => {
    expect(isValidSpanId('0'.repeat(16))).toBe(false);
    expect(isValidSpanId(SPAN_ID.toUpperCase())).toBe(false);
    expect(isValidSpanId(SPAN_ID.slice(1))).toBe(false);
    expect(isValidSpanId(TRACE_ID)).toBe(false);
    expect(isValidSpanId(null)).toBe(false);
  });
});
