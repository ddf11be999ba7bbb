import { INVALID_SPAN_CONTEXT, NonRecordingSpan, RecordingSpan } from '../trace/span';
import type { Span, SpanContext } from '../types';
import { currentSpan, isTracingSuppressed } from '../context/storage';
import { formatTraceparent, isValidSpanId, isValidTraceId, parseTraceparent } from './traceparent';
import { normalizeTracestate } from './tracestate';

// Carriers are read and written through a getter and a setter, as OpenTelemetry's
// TextMapPropagator does, so one extract/inject works over Node headers, WHATWG Headers, Maps and
// plain objects, and callers with other shapes pass their own.

/** Reads one header from a carrier (OpenTelemetry `TextMapGetter` style). */
export interface CarrierGetter<C = unknown> {
  get(carrier: C, key: string): string | string[] | undefined | null;
}

/** Writes one header into a carrier (OpenTelemetry `TextMapSetter` style). */
export interface CarrierSetter<C = unknown> {
  set(carrier: C, key: string, value: string): void;
}

const TRACEPARENT = 'traceparent';
const TRACESTATE = 'tracestate';

const hasOwn = Object.prototype.hasOwnProperty;

type Dict = Record<string, unknown>;

function asHeaderValue(v: unknown): string | string[] | undefined {
  if (typeof v === 'string') return v;
  // Node gives string[] for repeated headers; the parsers check every element.
  if (Array.isArray(v)) return v as string[];
  return undefined;
}

/**
 * Header names are case-insensitive (RFC 9110 §5.1, and #header-name in Trace Context), but Node
 * lowercases them and most callers do too, so the exact key is tried first and the scan only runs
 * on a miss. Comparing lengths first keeps the scan from lowercasing every key.
 */
function objectGet(obj: Dict, key: string): unknown {
  if (hasOwn.call(obj, key)) return obj[key];
  const lower = key.toLowerCase();
  const keys = Object.keys(obj);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (k.length === lower.length && k.toLowerCase() === lower) return obj[k];
  }
  return undefined;
}

function mapGet(map: Map<unknown, unknown>, key: string): unknown {
  const v = map.get(key);
  if (v !== undefined) return v;
  const lower = key.toLowerCase();
  for (const [k, value] of map) {
    if (typeof k === 'string' && k.length === lower.length && k.toLowerCase() === lower) return value;
  }
  return undefined;
}

/**
 * Reads from Node's `IncomingHttpHeaders`, WHATWG `Headers` (or anything with a `get(name)`
 * method, such as Express's `req` or Koa's `ctx`), a `Map`, or a plain object, matching the name
 * case-insensitively.
 */
export const defaultGetter: CarrierGetter<unknown> = {
  get(carrier, key) {
    if (carrier === null || typeof carrier !== 'object') return undefined;
    if (carrier instanceof Map) return asHeaderValue(mapGet(carrier, key));
    const get = (carrier as { get?: unknown }).get;
    if (typeof get === 'function') return asHeaderValue(get.call(carrier, key));
    return asHeaderValue(objectGet(carrier as Dict, key));
  },
};

/**
 * Writes into WHATWG `Headers` (or anything with `set(name, value)`), Node's outgoing messages
 * (`setHeader`), a `Map`, or a plain object. Map and object keys are lowercase, and a differently
 * cased copy of the same header is removed: otherwise `fetch` would send both and the receiver
 * would see two traceparent values, which is invalid.
 */
export const defaultSetter: CarrierSetter<unknown> = {
  set(carrier, key, value) {
    if (carrier === null || typeof carrier !== 'object') return;
    const lower = key.toLowerCase();
    if (carrier instanceof Map) {
      for (const k of Array.from(carrier.keys())) {
        if (k !== lower && typeof k === 'string' && k.length === lower.length && k.toLowerCase() === lower) {
          carrier.delete(k);
        }
      }
      carrier.set(lower, value);
      return;
    }
    const c = carrier as { set?: unknown; setHeader?: unknown };
    if (typeof c.set === 'function') {
      c.set(key, value);
      return;
    }
    if (typeof c.setHeader === 'function') {
      c.setHeader(key, value);
      return;
    }
    const obj = carrier as Dict;
    const keys = Object.keys(obj);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (k !== lower && k.length === lower.length && k.toLowerCase() === lower) delete obj[k];
    }
    obj[lower] = value;
  },
};

/**
 * Read the caller's context from a carrier's `traceparent` and `tracestate`. Returns `null` when
 * there is no valid `traceparent` (a fresh trace should start). Never throws.
 */
export function extractContext<C = unknown>(
  carrier: C,
  getter: CarrierGetter<C> = defaultGetter,
): SpanContext | null {
  try {
    const ctx = parseTraceparent(getter.get(carrier, TRACEPARENT));
    // "If the vendor failed to parse traceparent, it MUST NOT attempt to parse tracestate"
    // (https://www.w3.org/TR/trace-context-2/#tracestate-header).
    if (ctx === null) return null;
    // "failure to parse tracestate MUST NOT affect the parsing of traceparent": an invalid
    // tracestate is dropped whole and the traceparent kept.
    const traceState = normalizeTracestate(getter.get(carrier, TRACESTATE));
    if (traceState !== undefined) ctx.traceState = traceState;
    return ctx;
  } catch {
    // A user getter that throws is a carrier we cannot read: start a fresh trace rather than fail
    // the request (docs/design.md "Safety defaults").
    return null;
  }
}

/** True when every character is printable ASCII, so the value is safe as a header value. */
function isPrintableAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/**
 * Write `traceparent` (and `tracestate`, when there is one) for `span`, or for the active span,
 * into a carrier. Does nothing while tracing is suppressed, without a span, or for an invalid
 * context. Never throws.
 */
export function injectContext<C = unknown>(
  carrier: C,
  span?: Span | SpanContext,
  setter: CarrierSetter<C> = defaultSetter,
): void {
  try {
    // An exporter's own requests run suppressed and must not carry a trace onwards.
    if (isTracingSuppressed()) return;
    const source = span ?? currentSpan();
    if (source === undefined || source === null) return;
    // Our own spans carry valid ids by construction (or the all-zero context while suppressed,
    // which cannot reach here); anything else is checked.
    const own = source instanceof RecordingSpan || source instanceof NonRecordingSpan;
    const ctx =
      typeof (source as Span).spanContext === 'function' ? (source as Span).spanContext() : (source as SpanContext);
    if (ctx === null || typeof ctx !== 'object') return;
    if (!own && (!isValidTraceId(ctx.traceId) || !isValidSpanId(ctx.spanId))) return;
    if (own && ctx.traceId === INVALID_SPAN_CONTEXT.traceId) return;
    setter.set(carrier, TRACEPARENT, formatTraceparent(ctx));
    const traceState = ctx.traceState;
    // SpanContext.traceState is already normalised when it came from extractContext; the check
    // only keeps a hand-made one with control characters (CR/LF) out of a header.
    if (typeof traceState === 'string' && traceState.length > 0 && isPrintableAscii(traceState)) {
      setter.set(carrier, TRACESTATE, traceState);
    }
  } catch {
    // Propagation is best effort: a failing setter or span must not break the user's request.
  }
}
