import type { SpanContext } from '../types';
import { TraceFlags } from '../types';
import type { CarrierGetter, CarrierSetter } from './carrier';
import { SAMPLING_DEFERRED, firstValue, hexId, traceId128 } from './remote';
import type { RemoteContext } from './remote';

// Zipkin B3, single header (`b3`) and multiple headers (`X-B3-*`):
// https://github.com/openzipkin/b3-propagation (README "Http Encodings").
// Trace ids are 64 or 128 bits (16 or 32 hex), span ids 64 bits. Sampling state: accept (`1`),
// deny (`0`), debug (`d`, or `X-B3-Flags: 1`; it implies accept), or absent: defer the decision to
// the receiver. B3 shares one span id between client and server; like OpenTelemetry, Tracewire
// treats the received span id as the parent of its own server span.

/** Lowercase names of the multi-header encoding. */
export const B3_TRACE_ID = 'x-b3-traceid';
export const B3_SPAN_ID = 'x-b3-spanid';
export const B3_SAMPLED = 'x-b3-sampled';
export const B3_FLAGS = 'x-b3-flags';
export const B3_PARENT_SPAN_ID = 'x-b3-parentspanid';
export const B3 = 'b3';

function context(traceId: string, spanId: string, sampling: 'accept' | 'deny' | 'defer'): RemoteContext {
  const ctx: RemoteContext = { traceId, spanId, traceFlags: sampling === 'accept' ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote: true };
  if (sampling === 'defer') ctx[SAMPLING_DEFERRED] = true;
  return ctx;
}

/**
 * Parse a `b3` header: `{TraceId}-{SpanId}[-{SamplingState}[-{ParentSpanId}]]`. A header with
 * only a sampling state (`b3: 0`) carries no context and gives `null`, like anything malformed.
 */
export function parseB3(value: string | string[] | undefined | null): RemoteContext | null {
  const s = firstValue(value);
  if (s === undefined) return null;
  const d1 = s.indexOf('-');
  if (d1 === -1) return null;
  const d2 = s.indexOf('-', d1 + 1);
  const traceId = traceId128(s.slice(0, d1));
  const spanId = hexId(d2 === -1 ? s.slice(d1 + 1) : s.slice(d1 + 1, d2), 16);
  if (traceId === undefined || spanId === undefined) return null;
  if (d2 === -1) return context(traceId, spanId, 'defer');
  const d3 = s.indexOf('-', d2 + 1);
  const state = d3 === -1 ? s.slice(d2 + 1) : s.slice(d2 + 1, d3);
  // The parent span id is checked (a malformed one makes the header malformed) but not used.
  if (d3 !== -1 && hexId(s.slice(d3 + 1), 16) === undefined) return null;
  if (state === '1' || state === 'd') return context(traceId, spanId, 'accept');
  if (state === '0') return context(traceId, spanId, 'deny');
  return null;
}

/** `b3` for a context: ids and `1`/`0`, without the sampling state when it was deferred. */
export function formatB3(ctx: RemoteContext): string {
  const ids = ctx.traceId + '-' + ctx.spanId;
  if (ctx[SAMPLING_DEFERRED]) return ids;
  return ids + ((ctx.traceFlags & TraceFlags.SAMPLED) !== 0 ? '-1' : '-0');
}

/**
 * Read the multiple-header encoding: `X-B3-TraceId` and `X-B3-SpanId` required, `X-B3-Sampled`
 * `1`/`0` (and the legacy `true`/`false`), `X-B3-Flags: 1` for debug. A malformed sampling header is
 * malformed data (README "Multiple Headers"): no context.
 */
export function extractB3Multi<C>(carrier: C, getter: CarrierGetter<C>): RemoteContext | null {
  const rawTrace = firstValue(getter.get(carrier, B3_TRACE_ID));
  if (rawTrace === undefined) return null;
  const traceId = traceId128(rawTrace);
  if (traceId === undefined) return null;
  const rawSpan = firstValue(getter.get(carrier, B3_SPAN_ID));
  const spanId = rawSpan === undefined ? undefined : hexId(rawSpan, 16);
  if (spanId === undefined) return null;
  if (firstValue(getter.get(carrier, B3_FLAGS)) === '1') return context(traceId, spanId, 'accept');
  const sampled = firstValue(getter.get(carrier, B3_SAMPLED));
  if (sampled === undefined) return context(traceId, spanId, 'defer');
  if (sampled === '1' || sampled === 'true') return context(traceId, spanId, 'accept');
  if (sampled === '0' || sampled === 'false') return context(traceId, spanId, 'deny');
  return null;
}

/** Write `X-B3-TraceId`, `X-B3-SpanId` and `X-B3-Sampled` (left out when deferred). */
export function injectB3Multi<C>(ctx: RemoteContext | SpanContext, carrier: C, setter: CarrierSetter<C>): void {
  setter.set(carrier, B3_TRACE_ID, ctx.traceId);
  setter.set(carrier, B3_SPAN_ID, ctx.spanId);
  if (!(ctx as RemoteContext)[SAMPLING_DEFERRED]) setter.set(carrier, B3_SAMPLED, (ctx.traceFlags & TraceFlags.SAMPLED) !== 0 ? '1' : '0');
}
