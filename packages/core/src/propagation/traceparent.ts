import type { SpanContext } from '../types';

// W3C Trace Context Level 2, `traceparent`: https://www.w3.org/TR/trace-context-2/#traceparent-header
// Hand-scanned rather than matched with a regex: this runs on every incoming and outgoing request,
// and the scan allocates nothing but the two id substrings it returns.

/** Length of a version-00 value: 2 + 1 + 32 + 1 + 16 + 1 + 2. */
const TRACEPARENT_LENGTH = 55;
const TRACE_ID_LENGTH = 32;
const SPAN_ID_LENGTH = 16;
const DASH = 0x2d;
const SPACE = 0x20;
const TAB = 0x09;

/** '00'..'ff', built once so formatting flags is a table lookup. */
const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Value of a lowercase hex digit (HEXDIGLC), or -1. Uppercase is not HEXDIGLC, so it is rejected. */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30; // 0-9
  if (c >= 0x61 && c <= 0x66) return c - 0x57; // a-f
  return -1;
}

/** By char code below 128: 1 for a lowercase hex digit (HEXDIGLC), 0 for anything else. */
const IS_HEXDIGLC = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) IS_HEXDIGLC[c] = 1; // 0-9
for (let c = 0x61; c <= 0x66; c++) IS_HEXDIGLC[c] = 1; // a-f

/**
 * True when `s[start, start + length)` is lowercase hex and not all zeros
 * (https://www.w3.org/TR/trace-context-2/#trace-id and #parent-id: all zeroes forbidden).
 * A table lookup per character, without branching on digit or letter: this runs on every incoming
 * context, and on random ids such a branch mispredicts about every other character (twice the time).
 */
function isNonZeroHex(s: string, start: number, length: number): boolean {
  let bits = 0;
  const end = start + length;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    // `!(c < 128)` also rejects NaN (past the end of the string).
    if (!(c < 128) || IS_HEXDIGLC[c] === 0) return false;
    bits |= c ^ 0x30; // non-zero once a digit is not '0'
  }
  return bits !== 0;
}

/** True for a trace id as `traceparent` carries it: 32 lowercase hex, not all zeros. */
export function isValidTraceId(id: unknown): id is string {
  return typeof id === 'string' && id.length === TRACE_ID_LENGTH && isNonZeroHex(id, 0, TRACE_ID_LENGTH);
}

/** True for a span (parent) id as `traceparent` carries it: 16 lowercase hex, not all zeros. */
export function isValidSpanId(id: unknown): id is string {
  return typeof id === 'string' && id.length === SPAN_ID_LENGTH && isNonZeroHex(id, 0, SPAN_ID_LENGTH);
}

/**
 * Parse a `traceparent` header value. Returns `null` for anything invalid; never throws.
 * An array holding more than one value (the header sent several times) is invalid.
 */
export function parseTraceparent(value: string | string[] | undefined | null): SpanContext | null {
  let s: unknown = value;
  if (Array.isArray(s)) {
    // Only one traceparent may be sent; several values leave the parent ambiguous, so the trace
    // restarts (https://www.w3.org/TR/trace-context-2/#traceparent-header).
    if (s.length !== 1) return null;
    s = s[0];
  }
  if (typeof s !== 'string') return null;

  // Header values may arrive with optional whitespace (OWS, RFC 9110 §5.6.3) around them.
  let start = 0;
  let end = s.length;
  while (start < end && isOws(s.charCodeAt(start))) start++;
  while (end > start && isOws(s.charCodeAt(end - 1))) end--;
  const length = end - start;
  if (length < TRACEPARENT_LENGTH) return null;

  // version = 2HEXDIGLC, followed by '-'. Version ff is forbidden (#version).
  const v1 = hexValue(s.charCodeAt(start));
  const v0 = hexValue(s.charCodeAt(start + 1));
  if (v1 < 0 || v0 < 0 || s.charCodeAt(start + 2) !== DASH) return null;
  const version = v1 * 16 + v0;
  if (version === 0xff) return null;

  // Version 00 is exactly 55 characters: no extra fields (#version-format).
  // A higher version is parsed by its first four fields; whatever follows them must start with
  // '-' (#versioning-of-traceparent: "the 2 characters are either at the end of the string or
  // followed by a dash").
  if (length > TRACEPARENT_LENGTH && (version === 0 || s.charCodeAt(start + TRACEPARENT_LENGTH) !== DASH)) {
    return null;
  }

  const traceStart = start + 3;
  const spanStart = traceStart + TRACE_ID_LENGTH + 1;
  const flagsStart = spanStart + SPAN_ID_LENGTH + 1;
  if (!isNonZeroHex(s, traceStart, TRACE_ID_LENGTH) || s.charCodeAt(spanStart - 1) !== DASH) return null;
  if (!isNonZeroHex(s, spanStart, SPAN_ID_LENGTH) || s.charCodeAt(flagsStart - 1) !== DASH) return null;
  const f1 = hexValue(s.charCodeAt(flagsStart));
  const f0 = hexValue(s.charCodeAt(flagsStart + 1));
  if (f1 < 0 || f0 < 0) return null;

  return {
    traceId: s.slice(traceStart, traceStart + TRACE_ID_LENGTH),
    spanId: s.slice(spanStart, spanStart + SPAN_ID_LENGTH),
    // The whole byte is kept: Level 2 defines bit 1 (random, #random-trace-id-flag) besides
    // sampled, and flags are a bit field that readers mask (#trace-flags).
    traceFlags: f1 * 16 + f0,
    isRemote: true,
  };
}

/**
 * Format a `traceparent` value. Always version 00: a higher incoming version is downgraded, as
 * #versioning-of-traceparent requires ("construct the new traceparent ... highest version known").
 */
export function formatTraceparent(ctx: { traceId: string; spanId: string; traceFlags: number }): string {
  return '00-' + ctx.traceId + '-' + ctx.spanId + '-' + HEX_BYTE[ctx.traceFlags & 0xff];
}

function isOws(c: number): boolean {
  return c === SPACE || c === TAB;
}
