/**
 * One context for both APIs: an OpenTelemetry `ContextManager` whose active context *is*
 * Tracewire's (its AsyncLocalStorage, through core's `readContext` / `runWithContext`).
 *
 * - `context.with(ctx, fn)` runs `fn` with the Tracewire span of `ctx`'s span as Tracewire's
 *   active span (so `activeSpan()`, `withSpan` and `tracedFetch` continue it), `ctx`'s baggage as
 *   Tracewire's baggage, tracing suppressed when `ctx` says so, and `ctx` itself kept as the
 *   context's attachment, so every other key in it is still there for `context.active()`.
 * - `context.active()` is that `ctx` again while Tracewire has changed nothing; inside a
 *   Tracewire server span, `withSpan` or `withBaggage` it is `ctx` (or the root) with the span
 *   and baggage Tracewire has now.
 */
import { EventEmitter } from 'node:events';
import { ROOT_CONTEXT, createContextKey } from '@opentelemetry/api';
import type * as otel from '@opentelemetry/api';
import * as core from '@tracewire/core';
import type { Baggage, ContextState, Span } from '@tracewire/core';
import { BridgeSpan, ForeignSpan, PassThroughSpan } from './span';
import { otelBaggageOf, tracewireBaggageOf } from './baggage';

// The API's own keys (createContextKey is Symbol.for, the same symbol in every copy of the API).
export const SPAN_KEY = createContextKey('OpenTelemetry Context Key SPAN');
export const BAGGAGE_KEY = createContextKey('OpenTelemetry Baggage Key');
/** @opentelemetry/core's `suppressTracing(context)` key, which the SDK and the instrumentations check. */
export const SUPPRESS_TRACING_KEY = createContextKey('OpenTelemetry SDK Context Key SUPPRESS_TRACING');
// Core's functions and mark used per context, as module constants: compiled to CommonJS, an
// imported name is a getter of core's exports, read on every use.
const CONTEXT_SCOPE: typeof core.CONTEXT_SCOPE = core.CONTEXT_SCOPE;
const readContext = core.readContext;
const runWithContext = core.runWithContext;

/** What an OpenTelemetry context means for Tracewire: the state `runWithContext` is given. */
interface State extends ContextState {
  attachment: otel.Context;
}

/**
 * The contexts the bridge makes: immutable, the span in a field of its own (the key read most),
 * other keys in a small map shared until one changes; the Tracewire state is worked out once.
 */
export class BridgeContext implements otel.Context, State {
  /** The Tracewire state of this context, once asked for (often the context itself: see below). */
  state: State | undefined = undefined;
  // The context as its own Tracewire state (`state === this`), so the context a span makes active
  // is one object: set by withSpanValue, read by runWithContext and readContext's callers.
  span: Span | undefined = undefined;
  baggage: Baggage | undefined = undefined;
  suppressed = false;
  readonly attachment: otel.Context = this;
  /** Set with `state = this` (see `ownState`): core runs the context as it is, no copy made. */
  [CONTEXT_SCOPE] = false;

  constructor(
    /** The OpenTelemetry span of this context (the key read most). */
    readonly otelSpan: unknown,
    /** Every key but the span's. */
    readonly values: ReadonlyMap<symbol, unknown> | undefined,
  ) {}

  getValue(key: symbol): unknown {
    if (key === SPAN_KEY) return this.otelSpan;
    return this.values === undefined ? undefined : this.values.get(key);
  }

  setValue(key: symbol, value: unknown): otel.Context {
    if (key === SPAN_KEY) return new BridgeContext(value, this.values);
    const values = new Map(this.values);
    values.set(key, value);
    return new BridgeContext(this.otelSpan, values);
  }

  deleteValue(key: symbol): otel.Context {
    if (key === SPAN_KEY) return this.otelSpan === undefined ? this : new BridgeContext(undefined, this.values);
    if (this.values === undefined || !this.values.has(key)) return this;
    const values = new Map(this.values);
    values.delete(key);
    return new BridgeContext(this.otelSpan, values.size > 0 ? values : undefined);
  }
}

/** `ctx` with `span` as its span, cheaply for the bridge's own contexts. */
export function withSpanValue(ctx: otel.Context, span: otel.Span): otel.Context {
  let parent: State | undefined;
  let values: ReadonlyMap<symbol, unknown> | undefined;
  if (ctx instanceof BridgeContext) {
    parent = ctx.state;
    values = ctx.values;
  } else if (ctx === ROOT_CONTEXT) {
    parent = ROOT_STATE;
  } else {
    return ctx.setValue(SPAN_KEY, span);
  }
  const out = new BridgeContext(span, values);
  // The state follows from the parent's (when known and not suppressed): only the span changes.
  if (parent !== undefined && !parent.suppressed) ownState(out, tracewireSpanOf(span), parent.baggage);
  return out;
}

/**
 * Makes a context just created its own Tracewire state: its span and baggage set once, never
 * changed afterwards, so core makes it the active context as it is.
 */
function ownState(ctx: BridgeContext, span: Span | undefined, baggage: Baggage | undefined): void {
  ctx.span = span;
  ctx.baggage = baggage;
  ctx.state = ctx;
  ctx[CONTEXT_SCOPE] = true;
}

const foreign = new WeakMap<otel.Span, ForeignSpan>();
const bridged = new WeakMap<Span, BridgeSpan>();

/** The Tracewire span an OpenTelemetry span stands for (ours unwrapped, any other adapted). */
export function tracewireSpanOf(span: unknown): Span | undefined {
  if (span instanceof BridgeSpan || span instanceof PassThroughSpan) return span.tw;
  if (span === undefined || span === null || typeof (span as otel.Span).spanContext !== 'function') return undefined;
  const o = span as otel.Span;
  let f = foreign.get(o);
  if (f === undefined) {
    f = new ForeignSpan(o);
    foreign.set(o, f);
  }
  return f;
}

/** The OpenTelemetry span for a Tracewire span (the OpenTelemetry span itself for an adapted one). */
export function otelSpanOf(span: Span): otel.Span {
  if (span instanceof ForeignSpan) return span.otel;
  let b = bridged.get(span);
  if (b === undefined) {
    b = new BridgeSpan(span);
    bridged.set(span, b);
  }
  return b;
}

const ROOT_STATE: State = Object.freeze({ span: undefined, baggage: undefined, suppressed: false, attachment: ROOT_CONTEXT });

/** The Tracewire state an OpenTelemetry context describes (remembered on the bridge's contexts). */
export function stateOf(ctx: otel.Context): State {
  if (ctx instanceof BridgeContext && ctx.state !== undefined) return ctx.state;
  if (ctx === ROOT_CONTEXT) return ROOT_STATE;
  let state: State;
  if (ctx.getValue(SUPPRESS_TRACING_KEY) === true) {
    state = { span: undefined, baggage: undefined, suppressed: true, attachment: ctx };
  } else {
    const b = ctx.getValue(BAGGAGE_KEY) as otel.Baggage | undefined;
    const baggage = b !== undefined && b !== null && typeof b.getAllEntries === 'function' ? tracewireBaggageOf(b) : undefined;
    state = { span: tracewireSpanOf(ctx.getValue(SPAN_KEY)), baggage, suppressed: false, attachment: ctx };
  }
  if (ctx instanceof BridgeContext) ctx.state = state;
  return state;
}

/** What `context.active()` is under `suppressTracing()` of Tracewire: the root, suppressed. */
const SUPPRESSED_ROOT = new BridgeContext(undefined, new Map([[SUPPRESS_TRACING_KEY, true]]));

const ADD_LISTENER_METHODS = ['addListener', 'on', 'once', 'prependListener', 'prependOnceListener'] as const;
const PATCHES = Symbol('tracewire.opentelemetry.listeners');
type PatchMap = Record<string | symbol, WeakMap<(...args: unknown[]) => void, (...args: unknown[]) => void> | undefined>;

/**
 * The ContextManager registered by `registerOpenTelemetry`. Stateless apart from one scratch
 * object: the context lives in Tracewire's AsyncLocalStorage, which is always on, so
 * `enable()` and `disable()` only say whether `with` still sets it.
 */
export class TracewireContextManager implements otel.ContextManager {
  private readonly scratch: ContextState = { span: undefined, baggage: undefined, suppressed: false, attachment: undefined };
  // The last context made for a Tracewire state, for the repeated `active()` of one scope.
  private lastSpan: Span | undefined = undefined;
  private lastBaggage: Baggage | undefined = undefined;
  private lastBase: object | undefined = undefined;
  private lastCtx: otel.Context | undefined = undefined;
  private enabled = true;
  /** True while a patched add-listener method calls the original (which may call another alias). */
  private wrapping = false;

  active(): otel.Context {
    const s = readContext(this.scratch);
    const att = s.attachment as otel.Context | undefined;
    if (att !== undefined) {
      const st = stateOf(att);
      if (st.suppressed ? s.suppressed : !s.suppressed && st.span === s.span && st.baggage === s.baggage) return att;
    } else if (s.suppressed) {
      return SUPPRESSED_ROOT;
    } else if (s.span === undefined && s.baggage === undefined) {
      return ROOT_CONTEXT;
    }
    return this.derive(att, s);
  }

  /** The context for a Tracewire state that no OpenTelemetry context describes yet. */
  private derive(att: otel.Context | undefined, s: ContextState): otel.Context {
    if (this.lastCtx !== undefined && this.lastBase === att && this.lastSpan === s.span && this.lastBaggage === s.baggage && !s.suppressed) return this.lastCtx;
    let ctx: otel.Context = att ?? ROOT_CONTEXT;
    if (s.suppressed) {
      ctx = ctx.setValue(SUPPRESS_TRACING_KEY, true);
    } else {
      ctx = s.span !== undefined ? withSpanValue(ctx, otelSpanOf(s.span)) : ctx.deleteValue(SPAN_KEY);
      ctx = s.baggage !== undefined ? ctx.setValue(BAGGAGE_KEY, otelBaggageOf(s.baggage)) : ctx.deleteValue(BAGGAGE_KEY);
      // Only a context made here (a context already in use keeps what it has).
      if (ctx instanceof BridgeContext && ctx !== att) ownState(ctx, s.span, s.baggage);
      this.lastBase = att;
      this.lastSpan = s.span;
      this.lastBaggage = s.baggage;
      this.lastCtx = ctx;
    }
    return ctx;
  }

  /** `with(context, fn)` for the bridge's own callers: no arguments to pass on. */
  run<T>(context: otel.Context, fn: () => T): T {
    return this.enabled ? runWithContext(stateOf(context), fn) : fn();
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(context: otel.Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    if (!this.enabled) return args.length > 0 || thisArg !== undefined ? fn.call(thisArg, ...args) : (fn as () => ReturnType<F>)();
    const state = context === undefined || context === null ? stateOf(ROOT_CONTEXT) : stateOf(context);
    if (args.length === 0 && thisArg === undefined) return runWithContext(state, fn as () => ReturnType<F>);
    return runWithContext(state, () => fn.call(thisArg, ...args));
  }

  bind<T>(context: otel.Context, target: T): T {
    if (target instanceof EventEmitter) return this.bindEmitter(context, target) as T;
    if (typeof target === 'function') return this.bindFunction(context, target as unknown as (...args: unknown[]) => unknown) as T;
    return target;
  }

  enable(): this {
    this.enabled = true;
    return this;
  }

  disable(): this {
    this.enabled = false;
    this.lastCtx = this.lastBase = this.lastSpan = this.lastBaggage = undefined;
    return this;
  }

  private bindFunction(context: otel.Context, target: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
    const run = (self: unknown, args: unknown[]) => this.with(context, () => target.apply(self, args));
    const bound = function (this: unknown, ...args: unknown[]) {
      return run(this, args);
    };
    Object.defineProperty(bound, 'length', { enumerable: false, configurable: true, writable: false, value: target.length });
    return bound;
  }

  /**
   * Listeners added to `ee` from now on run in `context` (the OpenTelemetry context managers'
   * behaviour); removing them by the listener the caller holds still works.
   */
  private bindEmitter(context: otel.Context, ee: EventEmitter): EventEmitter {
    const e = ee as unknown as { [PATCHES]?: PatchMap } & Record<string, unknown>;
    if (e[PATCHES] !== undefined) return ee;
    Object.defineProperty(e, PATCHES, { value: Object.create(null) as PatchMap, writable: true, configurable: true, enumerable: false });
    // The patched methods keep the emitter's own `this`; the manager is reached through this name.
    const manager: TracewireContextManager = this as TracewireContextManager;
    for (const name of ADD_LISTENER_METHODS) {
      const original = e[name] as ((event: string | symbol, listener: (...args: unknown[]) => void) => EventEmitter) | undefined;
      if (typeof original !== 'function') continue;
      e[name] = function (this: EventEmitter, event: string | symbol, listener: (...args: unknown[]) => void): EventEmitter {
        if (manager.wrapping) return original.call(this, event, listener);
        const map = e[PATCHES] as PatchMap;
        let listeners = map[event];
        if (listeners === undefined) listeners = map[event] = new WeakMap();
        const patched = manager.bindFunction(context, listener) as (...args: unknown[]) => void;
        listeners.set(listener, patched);
        manager.wrapping = true;
        try {
          return original.call(this, event, patched);
        } finally {
          manager.wrapping = false;
        }
      };
    }
    for (const name of ['removeListener', 'off'] as const) {
      const original = e[name] as ((event: string | symbol, listener: (...args: unknown[]) => void) => EventEmitter) | undefined;
      if (typeof original !== 'function') continue;
      e[name] = function (this: EventEmitter, event: string | symbol, listener: (...args: unknown[]) => void) {
        const listeners = (e[PATCHES] as PatchMap)[event];
        const patched = listeners === undefined ? undefined : listeners.get(listener);
        return original.call(this, event, patched ?? listener);
      };
    }
    const removeAll = e.removeAllListeners as (event?: string | symbol) => EventEmitter;
    if (typeof removeAll === 'function') {
      e.removeAllListeners = function (this: EventEmitter, ...args: [event?: string | symbol]) {
        if (args.length === 0) e[PATCHES] = Object.create(null) as PatchMap;
        else delete (e[PATCHES] as PatchMap)[args[0] as string | symbol];
        return removeAll.apply(this, args);
      };
    }
    return ee;
  }
}
