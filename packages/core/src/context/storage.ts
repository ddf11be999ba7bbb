import { AsyncLocalStorage } from 'node:async_hooks';
import type { Span } from '../types';

/**
 * The one AsyncLocalStorage of the process. Its store is the active span, or SUPPRESSED while an
 * exporter runs (so an exporter's own I/O is not traced; OpenTelemetry's suppressTracing).
 * One store instead of two keeps the per-async-resource cost of ALS to a single slot.
 */
export const SUPPRESSED: unique symbol = Symbol('tracewire.suppressed');
type Store = Span | typeof SUPPRESSED;

// A single instance per process even if two copies of core get loaded.
const KEY = Symbol.for('tracewire.context.storage');
const g = globalThis as unknown as Record<symbol, AsyncLocalStorage<Store> | undefined>;
const storage: AsyncLocalStorage<Store> = g[KEY] ?? (g[KEY] = new AsyncLocalStorage<Store>());

/** The active span, if any (undefined while tracing is suppressed). */
export function currentSpan(): Span | undefined {
  const s = storage.getStore();
  return s === SUPPRESSED ? undefined : s;
}

/** True while running inside `suppressTracing`. */
export function isTracingSuppressed(): boolean {
  return storage.getStore() === SUPPRESSED;
}

/** Run `fn` with `span` as the active span. */
export function runWithSpan<T>(span: Span, fn: () => T): T {
  return storage.run(span, fn);
}

/** Run `fn` with tracing suppressed: no span is started and nothing is propagated inside it. */
export function suppressTracing<T>(fn: () => T): T {
  return storage.run(SUPPRESSED, fn);
}
