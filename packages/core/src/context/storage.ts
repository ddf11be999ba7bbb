import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import type { Span } from '../types';
import type { Baggage } from '../propagation/baggage';
import { INVALID_SPAN } from '../trace/span';

/**
 * The one AsyncLocalStorage of the process. Its store is the active span, or SUPPRESSED while an
 * exporter runs (so an exporter's own I/O is not traced; OpenTelemetry's suppressTracing), or a
 * BaggageScope when the context also carries W3C baggage.
 * One store instead of two keeps the per-async-resource cost of ALS to a single slot.
 */
export const SUPPRESSED: unique symbol = Symbol('tracewire.suppressed');

/**
 * A context with more than a span: the active span (if any) with the baggage, and for contexts a
 * bridge set (`runWithContext`) its attachment and suppression, together in the one store. Only
 * requests that carry baggage, code inside `withBaggage` and bridged contexts pay for it: until
 * the first scope is made in the process, reading the store does not even look for one.
 */
export interface BaggageScope {
  readonly [SCOPE]: true;
  readonly span: Span | undefined;
  readonly baggage: Baggage | undefined;
  /** An integration's own value (the OpenTelemetry Context), kept by the scopes made inside this one. */
  readonly attachment: object | undefined;
  /** Tracing suppressed, as under `suppressTracing`, with the attachment kept. */
  readonly suppressed: boolean;
}
const SCOPE: unique symbol = Symbol.for('tracewire.context.scope');
/**
 * The mark of a context state that `runWithContext` may make the active context as it is, without
 * a copy: an object whose `[CONTEXT_SCOPE]` is `true` and whose four `ContextState` fields never
 * change from then on (a bridge's immutable context, say). Any other state is copied.
 */
export const CONTEXT_SCOPE: typeof SCOPE = SCOPE;
type Store = Span | typeof SUPPRESSED | BaggageScope;

// A single instance per process even if two copies of core get loaded; the flag lives beside it
// so that a scope one copy made is recognised by the other.
const KEY = Symbol.for('tracewire.context.storage');
const FLAGS = Symbol.for('tracewire.context.flags');
const g = globalThis as unknown as Record<symbol, unknown>;
const storage: AsyncLocalStorage<Store> = (g[KEY] as AsyncLocalStorage<Store> | undefined) ?? (g[KEY] = new AsyncLocalStorage<Store>()) as AsyncLocalStorage<Store>;
const flags: { scopes: boolean } = (g[FLAGS] as { scopes: boolean } | undefined) ?? ((g[FLAGS] = { scopes: false }) as { scopes: boolean });

/**
 * Whether this Node keeps async context in AsyncContextFrames (the default from Node 24; behind
 * a flag on 22 and 23). There `AsyncLocalStorage.run` copies the frame (a Map) twice, once to
 * enter and once more to go back to the store it found (`enterWith(prior)`), although the frame it
 * left is still there. An AsyncResource keeps the frame it was made in and goes back to it
 * without a copy, so `run` below enters the store inside one: a copy fewer per context entered.
 * Elsewhere (async_hooks-based storage) `AsyncLocalStorage.run` is the cheaper of the two.
 */
const FRAMES = ((): boolean => {
  const major = Number(process.versions.node.split('.')[0]);
  const nodeFlags = `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`;
  if (major >= 24) return !nodeFlags.includes('--no-async-context-frame');
  return major >= 22 && nodeFlags.includes('--experimental-async-context-frame');
})();

function enterAndRun<T>(store: Store, fn: () => T): T {
  storage.enterWith(store);
  return fn();
}

/**
 * `fn` run with `store` as the store, the store it found back in place when it returns or throws
 * (values other AsyncLocalStorages set inside `fn` with enterWith are dropped with it).
 */
function run<T>(store: Store, fn: () => T): T {
  if (!FRAMES) return storage.run(store, fn);
  return new AsyncResource('tracewire.context').runInAsyncScope(enterAndRun, undefined, store, fn) as T;
}

function isScope(s: Store | undefined): s is BaggageScope {
  return s !== undefined && (s as BaggageScope)[SCOPE] === true;
}

function scope(span: Span | undefined, baggage: Baggage | undefined, attachment: object | undefined, suppressed: boolean): BaggageScope {
  flags.scopes = true;
  return { [SCOPE]: true, span, baggage, attachment, suppressed };
}

/** The active span, if any (undefined while tracing is suppressed). */
export function currentSpan(): Span | undefined {
  const s = activeOrSuppressed();
  return s === SUPPRESSED ? undefined : s;
}

/**
 * What a tracer starting a span needs to know, in one read of the storage: SUPPRESSED while
 * tracing is suppressed, else the active span (undefined when there is none).
 */
export function activeOrSuppressed(): Span | undefined | typeof SUPPRESSED {
  const s = storage.getStore();
  if (s === SUPPRESSED) return SUPPRESSED;
  if (flags.scopes && isScope(s)) return s.suppressed ? SUPPRESSED : s.span;
  return s as Span | undefined;
}

/** The active baggage, if any (undefined while tracing is suppressed). */
export function currentBaggage(): Baggage | undefined {
  if (!flags.scopes) return undefined;
  const s = storage.getStore();
  return isScope(s) && !s.suppressed ? s.baggage : undefined;
}

/** True while running inside `suppressTracing` (or a bridged context that suppresses tracing). */
export function isTracingSuppressed(): boolean {
  const s = storage.getStore();
  return s === SUPPRESSED || (flags.scopes && isScope(s) && s.suppressed);
}

/**
 * Run `fn` with `span` as the active span; the active baggage and attachment, if any, stay.
 * The invalid span (what `startSpan` hands out while tracing is suppressed) changes nothing: `fn`
 * runs in the suppressed context, so spans started inside it stay suppressed too.
 */
export function runWithSpan<T>(span: Span, fn: () => T): T {
  if (span === INVALID_SPAN) return fn();
  if (flags.scopes) {
    const s = storage.getStore();
    if (isScope(s)) return run(scope(span, s.baggage, s.attachment, s.suppressed), fn);
  }
  return run(span, fn);
}

/** Run `fn` with `span` active and `baggage` as the active baggage (a server span's incoming baggage). */
export function runWithSpanAndBaggage<T>(span: Span | undefined, baggage: Baggage, fn: () => T): T {
  return run(scope(span, baggage, undefined, false), fn);
}

/** Run `fn` with `baggage` as the active baggage, the active span unchanged. Suppressed stays suppressed. */
export function runWithBaggage<T>(baggage: Baggage, fn: () => T): T {
  const s = storage.getStore();
  if (s === SUPPRESSED) return fn();
  if (isScope(s)) return s.suppressed ? fn() : run(scope(s.span, baggage, s.attachment, false), fn);
  return run(scope(s as Span | undefined, baggage, undefined, false), fn);
}

/**
 * Tracewire's active context as a context bridge sees it (`readContext`) and sets it
 * (`runWithContext`): the span, the baggage, whether tracing is suppressed, and the bridge's own
 * attachment. `@tracewire/opentelemetry` keeps the OpenTelemetry `Context` there, so the keys
 * other libraries put in it survive Tracewire's own `withSpan` and `withBaggage` nested inside.
 */
export interface ContextState {
  /** The active span; undefined when there is none, and while tracing is suppressed. */
  span: Span | undefined;
  /** The active baggage (undefined: none, or suppressed). Treat it as immutable. */
  baggage: Baggage | undefined;
  /** True inside `suppressTracing` or a context run with `suppressed: true`. */
  suppressed: boolean;
  /**
   * The value the innermost `runWithContext` set, kept (unchanged) by the `withSpan`,
   * `withBaggage` and `tracedFetch` contexts made inside it; undefined outside any.
   */
  attachment: object | undefined;
}

/**
 * Fills `out` with the active context and returns it. `out` is the caller's scratch object, so
 * a bridge reading the context on every call allocates nothing; read it before the next call.
 */
export function readContext(out: ContextState): ContextState {
  const s = storage.getStore();
  if (s === SUPPRESSED) {
    out.span = undefined;
    out.baggage = undefined;
    out.suppressed = true;
    out.attachment = undefined;
  } else if (flags.scopes && isScope(s)) {
    out.suppressed = s.suppressed;
    out.span = s.suppressed ? undefined : s.span;
    out.baggage = s.suppressed ? undefined : s.baggage;
    out.attachment = s.attachment;
  } else {
    out.span = s as Span | undefined;
    out.baggage = undefined;
    out.suppressed = false;
    out.attachment = undefined;
  }
  return out;
}

/**
 * Runs `fn` in the context `state` describes, for bridges to another context API (the
 * OpenTelemetry ContextManager of `@tracewire/opentelemetry`): `state.span` is what
 * `activeSpan()`, `withSpan` and `tracedFetch` see as the parent, `state.baggage` what
 * `getBaggage()` and `tracedFetch` see, `state.suppressed` suppresses tracing as
 * `suppressTracing` does, and `state.attachment` is handed back by `readContext` inside.
 * Fields left out are empty (no span, no baggage, not suppressed, no attachment). A state marked
 * with `[CONTEXT_SCOPE]: true` (all four fields set, none changed afterwards) is used as it is.
 */
export function runWithContext<T>(state: Partial<ContextState>, fn: () => T): T {
  if ((state as { [SCOPE]?: unknown })[SCOPE] === true) {
    flags.scopes = true;
    return run(state as BaggageScope, fn);
  }
  return run(scope(state.span, state.baggage, state.attachment, state.suppressed === true), fn);
}

/** Run `fn` with tracing suppressed: no span is started and nothing is propagated inside it. */
export function suppressTracing<T>(fn: () => T): T {
  return run(SUPPRESSED, fn);
}
