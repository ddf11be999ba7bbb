import type { SpanContext } from '../types';
import { TraceFlags } from '../types';
import type { CarrierGetter, CarrierSetter } from './carrier';
import { SAMPLING_DEFERRED, firstValue, hexId, traceId128 } from './remote';
import type { RemoteContext } from './remote';

// Legacy `X-Trace-ID` / `X-Span-ID` headers, as home-grown tracing between an agent platform's
// backend, AI service and kernel sends them (issue #14): a trace id as a UUID or as 32 (or 16) hex
// digits, a span id as 16 hex digits, no sampling decision. A UUID maps to the W3C trace id by
// dropping its dashes. Anything invalid is ignored: an invalid trace id means no context, an
// invalid or missing span id a context with the trace id only (the server span is then the root
// of that trace, with no parent span id).

/** Lowercase header names. */
export const X_TRACE_ID = 'x-trace-id';
export const X_SPAN_ID = 'x-span-id';

/** 8-4-4-4-12 hex digits, either case. */
function uuidToHex(s: string): string | undefined {
  if (s.length !== 36 || s[8] !== '-' || s[13] !== '-' || s[18] !== '-' || s[23] !== '-') return undefined;
  return hexId(s.slice(0, 8) + s.slice(9, 13) + s.slice(14, 18) + s.slice(19, 23) + s.slice(24), 32);
}

/** A trace id as these headers carry it (UUID, 32 hex or 16 hex), as 32 lowercase hex. */
export function parseXTraceId(value: string | string[] | undefined | null): string | undefined {
  const s = firstValue(value);
  if (s === undefined) return undefined;
  return s.length === 36 ? uuidToHex(s) : traceId128(s);
}

/** Reads `X-Trace-ID` and `X-Span-ID`. The sampling decision is always left to this service. */
export function extractXTrace<C>(carrier: C, getter: CarrierGetter<C>): RemoteContext | null {
  const traceId = parseXTraceId(getter.get(carrier, X_TRACE_ID));
  if (traceId === undefined) return null;
  const rawSpan = firstValue(getter.get(carrier, X_SPAN_ID));
  const spanId = (rawSpan !== undefined && hexId(rawSpan, 16)) || '';
  return { traceId, spanId, traceFlags: TraceFlags.NONE, isRemote: true, [SAMPLING_DEFERRED]: true };
}

/** The trace id in UUID form (8-4-4-4-12), as the systems that use these headers write it. */
export function formatXTraceId(traceId: string): string {
  return `${traceId.slice(0, 8)}-${traceId.slice(8, 12)}-${traceId.slice(12, 16)}-${traceId.slice(16, 20)}-${traceId.slice(20)}`;
}

/** Writes `X-Trace-ID` (UUID form) and `X-Span-ID`. */
export function injectXTrace<C>(ctx: SpanContext, carrier: C, setter: CarrierSetter<C>): void {
  setter.set(carrier, X_TRACE_ID, formatXTraceId(ctx.traceId));
  setter.set(carrier, X_SPAN_ID, ctx.spanId);
}
