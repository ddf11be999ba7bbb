/**
 * What every exporter of this package shares: time conversion from Tracewire's epoch milliseconds
 * (with a sub-millisecond fraction) to the units backends want, and the marks that keep traces
 * exported incomplete (linger, TTL, shutdown) or late (follow-up fragments) recognisable anywhere.
 */
import { SDK_VERSION } from '@tracewire/core';
import type { AttributeValue, Attributes, FinishedTrace, SpanData } from '@tracewire/core';

/** Instrumentation scope of every span Tracewire records: one scope per tracer. */
export const SCOPE: { readonly name: string; readonly version: string } = Object.freeze({
  name: '@tracewire/core',
  version: SDK_VERSION,
});

/**
 * Set to `true` on a span exported while still open (`ended: false`): its end time is the export
 * time, not a real end. The same span goes out again, ended, in a later fragment of its trace.
 */
export const INCOMPLETE_ATTRIBUTE = 'tracewire.span.incomplete';

/** Set to the fragment number (1, 2, ...) on every span of a late fragment of a local trace. */
export const FRAGMENT_ATTRIBUTE = 'tracewire.trace.fragment';

const NS_PER_MS = 1e6;
const TWO_16 = 65536;
const TWO_32 = 4294967296;

/**
 * Splits epoch milliseconds into whole milliseconds and the nanoseconds below them (0..999999,
 * rounded to the nearest nanosecond). Exact: no product of two large numbers is formed, so nothing
 * is lost to the 53-bit mantissa. Negative, NaN or infinite input counts as 0.
 */
export function splitEpochMs(epochMs: number): [wholeMs: number, subMsNanos: number] {
  if (!(epochMs > 0) || epochMs === Infinity) return [0, 0];
  let ms = Math.floor(epochMs);
  // epochMs - ms is exact (both share the exponent range); * 1e6 then rounds once, to 1 ns.
  let ns = Math.round((epochMs - ms) * NS_PER_MS);
  if (ns >= NS_PER_MS) {
    ms += 1;
    ns -= NS_PER_MS;
  }
  return [ms, ns];
}

/** Epoch milliseconds as unix nanoseconds, a decimal string (OTLP/JSON's int64 form). */
export function unixNanosString(epochMs: number): string {
  const [ms, ns] = splitEpochMs(epochMs);
  if (ms === 0) return String(ns);
  const frac = String(ns);
  return String(ms) + '000000'.slice(frac.length) + frac;
}

/** Epoch milliseconds as unix nanoseconds, a bigint. */
export function unixNanosBigInt(epochMs: number): bigint {
  const [ms, ns] = splitEpochMs(epochMs);
  return BigInt(ms) * 1000000n + BigInt(ns);
}

/**
 * Epoch milliseconds as unix nanoseconds in two unsigned 32-bit halves `[low, high]`, for writing a
 * protobuf fixed64 without bigint arithmetic. Exact for any date before the year 20000.
 */
export function unixNanosHalves(epochMs: number): [low: number, high: number] {
  const [ms, ns] = splitEpochMs(epochMs);
  // nanos = ms * 1e6 + ns, with ms = msHi * 2^16 + msLo so every product stays below 2^53.
  const msHi = Math.floor(ms / TWO_16);
  const msLo = ms - msHi * TWO_16;
  const a = msHi * NS_PER_MS; // exact below 2^53 until the year 20000
  const aHi = Math.floor(a / TWO_16);
  const aLo = a - aHi * TWO_16;
  const c = aLo * TWO_16 + msLo * NS_PER_MS + ns; // < 2^37
  const carry = Math.floor(c / TWO_32);
  return [c - carry * TWO_32, aHi + carry];
}

/** Epoch milliseconds as OpenTelemetry JS `HrTime`: `[seconds, nanoseconds]`. */
export function hrTime(epochMs: number): [seconds: number, nanos: number] {
  const [ms, ns] = splitEpochMs(epochMs);
  const seconds = Math.floor(ms / 1000);
  return [seconds, (ms - seconds * 1000) * NS_PER_MS + ns];
}

/** Epoch milliseconds as whole epoch microseconds (Zipkin's unit), rounded to the nearest. */
export function epochMicros(epochMs: number): number {
  const [ms, ns] = splitEpochMs(epochMs);
  return ms * 1000 + Math.round(ns / 1000);
}

/**
 * The attributes an exporter must add to `span` so that an incomplete or late export stays
 * recognisable in any backend, or `undefined` (the common case: a complete first export).
 * - `ended: false` (exported open): `tracewire.span.incomplete = true`.
 * - fragment > 0 (spans that ended after their trace was exported): `tracewire.trace.fragment = n`.
 */
export function exportMarks(trace: FinishedTrace, span: SpanData): Attributes | undefined {
  const fragment = trace.fragment;
  if (span.ended !== false && !(fragment > 0)) return undefined;
  const marks: Attributes = {};
  if (span.ended === false) marks[INCOMPLETE_ATTRIBUTE] = true;
  if (fragment > 0) marks[FRAGMENT_ATTRIBUTE] = fragment;
  return marks;
}

/**
 * The span's attributes with the export marks added (a copy only when there are marks), for
 * exporters that hand a whole attribute object on. The marks win over user attributes of the same name.
 */
export function exportedAttributes(trace: FinishedTrace, span: SpanData): Attributes {
  const marks = exportMarks(trace, span);
  return marks === undefined ? span.attributes : { ...span.attributes, ...marks };
}

/**
 * Whether a number is sent as an integer (int64) rather than a double: safe integers only, as
 * OpenTelemetry JS does, so a count stays an int and 1e300 does not overflow int64.
 */
export function isIntValue(value: AttributeValue): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value);
}
