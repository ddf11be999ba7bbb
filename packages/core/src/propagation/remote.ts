import type { SpanContext } from '../types';

/**
 * What some formats leave open about the caller, marked on the context they extract:
 * B3 and the legacy X-Trace-ID headers may carry no sampling decision ("defer", B3 spec "Sampling
 * State"), and X-Trace-ID may come without a span id. The tracer decides such a sampling itself,
 * as for a new trace, and starts a span without a parent span id in a trace-id-only context.
 */
export const SAMPLING_DEFERRED: unique symbol = Symbol('tracewire.sampling.deferred');

/** A context as the propagators extract it (internal: never handed out with an empty span id). */
export interface RemoteContext extends SpanContext {
  /** No sampling decision came with the context: `traceFlags` has no sampled bit to follow. */
  [SAMPLING_DEFERRED]?: true;
}

/** True for a context with a trace id but no parent span id (`spanId` is `''`). */
export function isTraceIdOnly(ctx: SpanContext): boolean {
  return ctx.spanId === '';
}

/** By char code below 128: 1 for a lowercase hex digit (0-9, a-f), 2 for an uppercase one (A-F), 0 otherwise. */
const HEX_KIND = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) HEX_KIND[c] = 1;
for (let c = 0x61; c <= 0x66; c++) HEX_KIND[c] = 1;
for (let c = 0x41; c <= 0x46; c++) HEX_KIND[c] = 2;

/**
 * `s` as a lowercase hex id when it is `length` hex digits of either case and not all zeros;
 * `undefined` otherwise. B3 and the legacy headers send lowercase, but ids are opaque numbers and
 * some senders (UUID libraries) write them uppercase. A table lookup per character, without
 * branching on digit or letter (random ids would mispredict about every other character).
 */
export function hexId(s: string, length: number): string | undefined {
  if (s.length !== length) return undefined;
  let bits = 0;
  let kinds = 0;
  for (let i = 0; i < length; i++) {
    const c = s.charCodeAt(i);
    const kind = c < 128 ? HEX_KIND[c] : 0;
    if (kind === 0) return undefined;
    kinds |= kind;
    bits |= c ^ 0x30; // non-zero once a digit is not '0'
  }
  if (bits === 0) return undefined;
  return (kinds & 2) === 0 ? s : s.toLowerCase();
}

/** Trims OWS (space, tab) and takes the first of repeated header values ("the first value wins"). */
export function firstValue(v: string | string[] | undefined | null): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (typeof s !== 'string') return undefined;
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 0x20 || s.charCodeAt(a) === 0x09)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 0x20 || s.charCodeAt(b - 1) === 0x09)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** A 64-bit trace id (16 hex) widened to 128 bits by left-padding with zeros, as OpenTelemetry does. */
export function traceId128(s: string): string | undefined {
  if (s.length === 16) {
    const id = hexId(s, 16);
    return id === undefined ? undefined : '0000000000000000' + id;
  }
  return hexId(s, 32);
}
