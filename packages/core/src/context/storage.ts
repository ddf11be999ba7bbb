import { AsyncLocalStorage } from 'node:async_hooks';
import type { Span } from '../types';
import type { Baggage } from '../propagation/baggage';

/**
 * The one AsyncLocalStorage of the process. Its store is the active span, or SUPPRESSED while an
 * exporter runs (so an exporter's own I/O is not traced; OpenTelemetry's suppressTracing), or a
 * BaggageScope when the context also carries W3C baggage.
 * One store instead of two keeps the per-async-resource cost of ALS to a single slot.
 */
export const SUPPRESSED: unique symbol = Symbol('tracewire.suppressed');

/**
 * A context with baggage: the active span (if any) and the baggage, together in the one store.
 * Only requests that carry baggage (or code inside `withBaggage`) pay for it: until the first scope
 * is made in the process, reading the store does not even look for one.
 */
export interface BaggageScope {
  readonly [SCOPE]: true;
  readonly span: Span | undefined;
  readonly baggage: Baggage;
}
const SCOPE: unique symbol = Symbol.for('tracewire.context.scope');
type Store = Span | typeof SUPPRESSED | BaggageScope;

// A single instance per process even if two copies of core get loaded; the flag lives beside it
// so that a scope one copy made is recognised by the other.
const KEY = Symbol.for('tracewire.context.storage');
const FLAGS = Symbol.for('tracewire.context.flags');
const g = globalThis as unknown as Record<symbol, unknown>;
const storage: AsyncLocalStorage<Store> = (g[KEY] as AsyncLocalStorage<Store> | undefined) ?? (g[KEY] = new AsyncLocalStorage<Store>()) as AsyncLocalStorage<Store>;
const flags: { scopes: boolean } = (g[FLAGS] as { scopes: boolean } | undefined) ?? ((g[FLAGS] = { scopes: false }) as { scopes: boolean });

function isScope(s: Store | undefined): s is BaggageScope {
  return s !== undefined && (s as BaggageScope)[SCOPE] === true;
}

function scope(span: Span | undefined, baggage: Baggage): BaggageScope {
  flags.scopes = true;
  return { [SCOPE]: true, span, baggage };
}

/** The active span, if any (undefined while tracing is suppressed). */
export function currentSpan(): Span | undefined {
  const s = storage.getStore();
  if (s === SUPPRESSED) return undefined;
  return flags.scopes && isScope(s) ? s.span : (s as Span | undefined);
}

/** The active baggage, if any (undefined while tracing is suppressed). */
export function currentBaggage(): Baggage | undefined {
  if (!flags.scopes) return undefined;
  const s = storage.getStore();
  return isScope(s) ? s.baggage : undefined;
}

/** True while running inside `suppressTracing`. */
export function isTracingSuppressed(): boolean {
  return storage.getStore() === SUPPRESSED;
}

/** Run `fn` with `span` as the active span; the active baggage, if any, stays active. */
export function runWithSpan<T>(span: Span, fn: () => T): T {
  if (flags.scopes) {
    const s = storage.getStore();
    if (isScope(s)) return storage.run(scope(span, s.baggage), fn);
  }
  return storage.run(span, fn);
}

/** Run `fn` with `span` active and `baggage` as the active baggage (a server span's incoming baggage). */
export function runWithSpanAndBaggage<T>(span: Span | undefined, baggage: Baggage, fn: () => T): T {
  return storage.run(scope(span, baggage), fn);
}

/** Run `fn` with `baggage` as the active baggage, the active span unchanged. Suppressed stays suppressed. */
export function runWithBaggage<T>(baggage: Baggage, fn: () => T): T {
  const s = storage.getStore();
  if (s === SUPPRESSED) return fn();
  return storage.run(scope(isScope(s) ? s.span : (s as Span | undefined), baggage), fn);
}

/** Run `fn` with tracing suppressed: no span is started and nothing is propagated inside it. */
export function suppressTracing<T>(fn: () => T): T {
  return storage.run(SUPPRESSED, fn);
}
