import type { Span, StartSpanOptions } from '../types';
import { currentSpan } from '../context/storage';
import { setGlobalPropagation } from '../propagation/carrier';
import { contextOf } from '../trace/span';
import { createTracer, tracerOwning } from './tracer';
import type { Tracer } from './tracer';

// Kept on globalThis so that two copies of core in one process share one global tracer: in a
// holder object there (one field read per span, where a symbol-keyed read of globalThis itself
// is a dictionary lookup), with the older plain `globalThis[KEY]` as an accessor of the holder,
// so a copy of core from before the holder still sees the same tracer.
const KEY = Symbol.for('tracewire.global.tracer');
const HOLDER = Symbol.for('tracewire.global.tracer.holder');
interface Holder {
  tracer: Tracer | undefined;
}
const g = globalThis as unknown as Record<symbol, unknown>;
const holder: Holder = (g[HOLDER] as Holder | undefined) ?? makeHolder();

function makeHolder(): Holder {
  const h: Holder = { tracer: g[KEY] as Tracer | undefined };
  Object.defineProperty(globalThis, HOLDER, { value: h, configurable: true, enumerable: false, writable: false });
  Object.defineProperty(globalThis, KEY, {
    configurable: true,
    enumerable: false,
    get: () => h.tracer,
    set: (t: Tracer | undefined) => {
      h.tracer = t;
    },
  });
  return h;
}

// The module-level extractContext / injectContext use the global tracer's propagators.
setGlobalPropagation(() => getTracer().config.propagation);

/** The global tracer, created on first use from the environment (OTEL_* variables). */
export function getTracer(): Tracer {
  let t = holder.tracer;
  if (!t) {
    t = createTracer();
    holder.tracer = t;
  }
  return t;
}

/** Replaces the global tracer used by the module-level helpers and by adapters without `tracer`. */
export function setGlobalTracer(tracer: Tracer | undefined): void {
  holder.tracer = tracer;
}

/**
 * The tracer a module-level helper uses: the one whose trace the parent (explicit, else the active
 * span) belongs to, so a child inside a request of `tracingMiddleware({ tracer })` gets that
 * tracer's limits and counters; the global tracer otherwise.
 */
export function tracerFor(opts?: StartSpanOptions): Tracer {
  const parent = opts !== undefined && opts.parent !== undefined ? opts.parent : currentSpan();
  return tracerOwning(parent) ?? getTracer();
}

/** `withSpan` of the tracer whose trace the new span joins (the global tracer for a new trace). */
export function withSpan<T>(name: string, fn: (span: Span) => T, opts?: StartSpanOptions): T {
  return tracerFor(opts).withSpan(name, fn, opts);
}

/** `startSpan` of the tracer whose trace the new span joins (the global tracer for a new trace). */
export function startSpan(name: string, opts?: StartSpanOptions): Span {
  return tracerFor(opts).startSpan(name, opts);
}

/** The active span, if any. */
export function activeSpan(): Span | undefined {
  return currentSpan();
}

/** Log-correlation fields of the active span (`{}` when there is none), e.g. for a pino `mixin`. */
export function traceLogFields(): { trace_id?: string; span_id?: string; trace_flags?: string } {
  const span = currentSpan();
  if (!span) return {};
  const ctx = contextOf(span);
  if (ctx.traceId === '00000000000000000000000000000000') return {};
  return {
    trace_id: ctx.traceId,
    span_id: ctx.spanId,
    trace_flags: (ctx.traceFlags & 0xff).toString(16).padStart(2, '0'),
  };
}
