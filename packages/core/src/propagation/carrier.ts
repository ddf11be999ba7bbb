import { INVALID_SPAN_CONTEXT, NonRecordingSpan, RecordingSpan, contextOf } from '../trace/span';
import type { Span, SpanContext } from '../types';
import { currentBaggage, currentSpan, isTracingSuppressed } from '../context/storage';
import { isValidSpanId, isValidTraceId } from './traceparent';
import { DEFAULT_PROPAGATION } from './composite';
import type { Propagation } from './composite';
import type { Baggage } from './baggage';
import { isTraceIdOnly } from './remote';

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

let globalPropagation: () => Propagation | undefined = () => DEFAULT_PROPAGATION;

/**
 * Where the module-level `extractContext` / `injectContext` / `extractBaggage` find the configured
 * propagators: the global tracer's (set by tracer/global.ts, which owns the global tracer).
 */
export function setGlobalPropagation(source: () => Propagation | undefined): void {
  globalPropagation = source;
}

function propagation(): Propagation {
  try {
    return globalPropagation() ?? DEFAULT_PROPAGATION;
  } catch {
    return DEFAULT_PROPAGATION;
  }
}

/**
 * Read the caller's context from a carrier with the global tracer's propagators (`propagators`,
 * `OTEL_PROPAGATORS`; default W3C `traceparent`/`tracestate`): the first format that yields a
 * valid context wins. Returns `null` when none does (a fresh trace should start), and for a legacy
 * `X-Trace-ID` without a span id (only a server span can continue that: `startIncomingSpan`).
 * Never throws.
 */
export function extractContext<C = unknown>(
  carrier: C,
  getter: CarrierGetter<C> = defaultGetter,
): SpanContext | null {
  try {
    const ctx = propagation().extract(carrier, getter);
    return ctx === null || isTraceIdOnly(ctx) ? null : ctx;
  } catch {
    // A user getter that throws is a carrier we cannot read: start a fresh trace rather than fail
    // the request (docs/design.md "Safety defaults").
    return null;
  }
}

/** Read W3C `baggage` from a carrier (when the global tracer's propagators include it). Never throws. */
export function extractBaggage<C = unknown>(carrier: C, getter: CarrierGetter<C> = defaultGetter): Baggage | undefined {
  try {
    return propagation().extractBaggage(carrier, getter);
  } catch {
    return undefined;
  }
}

/** The context to write for `span` (or the active span), or undefined when there is none to write. */
export function contextToInject(span: Span | SpanContext | undefined): SpanContext | undefined {
  const source = span ?? currentSpan();
  if (source === undefined || source === null) return undefined;
  // Our own spans carry valid ids by construction (or the all-zero context while suppressed,
  // which cannot reach here); anything else is checked.
  const own = source instanceof RecordingSpan || source instanceof NonRecordingSpan;
  const ctx = typeof (source as Span).spanContext === 'function' ? contextOf(source as Span) : (source as SpanContext);
  if (ctx === null || typeof ctx !== 'object') return undefined;
  if (!own && (!isValidTraceId(ctx.traceId) || !isValidSpanId(ctx.spanId))) return undefined;
  if (own && ctx.traceId === INVALID_SPAN_CONTEXT.traceId) return undefined;
  return ctx;
}

/**
 * Write the context of `span` (or of the active span) in every format the global tracer's
 * propagators inject (default `traceparent`, `tracestate` when there is one), and the active
 * baggage as `baggage`. Does nothing while tracing is suppressed; skips the trace formats without
 * a span or for an invalid context. Never throws.
 */
export function injectContext<C = unknown>(
  carrier: C,
  span?: Span | SpanContext,
  setter: CarrierSetter<C> = defaultSetter,
): void {
  try {
    // An exporter's own requests run suppressed and must not carry a trace onwards.
    if (isTracingSuppressed()) return;
    propagation().inject(carrier, contextToInject(span), currentBaggage(), setter);
  } catch {
    // Propagation is best effort: a failing setter or span must not break the user's request.
  }
}
