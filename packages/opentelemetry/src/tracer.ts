/**
 * The TracerProvider registered by `registerOpenTelemetry`: its tracers start Tracewire spans
 * (under the Tracewire tracer owning the parent's trace, else `options.tracer`, else the global
 * one), each carrying the OpenTelemetry tracer's name and version as its instrumentation scope.
 */
import { INVALID_SPAN_CONTEXT, ROOT_CONTEXT, context as contextApi, isSpanContextValid, trace } from '@opentelemetry/api';
import type * as otel from '@opentelemetry/api';
import { getTracer, isTracedFetchSpan, readContext, tracerOwning } from '@tracewire/core';
import type { ContextState, InstrumentationScope, Link, Span, StartSpanOptions, Tracer } from '@tracewire/core';
import { BridgeSpan, KINDS, PassThroughSpan, toEpochMs } from './span';
import { BridgeContext, SPAN_KEY, SUPPRESS_TRACING_KEY, tracewireSpanOf, withSpanValue } from './context';
import type { TracewireContextManager } from './context';
import { hasContent, withoutContent } from './content';

// The imports read per span, as module constants: compiled to CommonJS, an imported name is a
// property read of the other module's exports each time, and re-exported names are getters.
const ROOT = ROOT_CONTEXT;
const read = readContext;
const globalTracer = getTracer;
const isFetchSpan = isTracedFetchSpan;

/** What every span started while tracing is suppressed is: records nothing, propagates nothing. */
const SUPPRESSED_SPAN: otel.Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

export class TracewireTracerProvider implements otel.TracerProvider {
  private readonly tracers = new Map<string, BridgeTracer>();
  /** Set by the function `registerOpenTelemetry` returns: tracers handed out then start no-op spans. */
  disabled = false;

  constructor(
    /** `options.tracer`; undefined: the Tracewire tracer owning the parent's trace, else the global one. */
    readonly tracer: Tracer | undefined,
    readonly contextManager: TracewireContextManager,
  ) {}

  getTracer(name: string, version?: string, options?: otel.TracerOptions): otel.Tracer {
    const schemaUrl = options !== undefined && options !== null && typeof options.schemaUrl === 'string' ? options.schemaUrl : undefined;
    const n = typeof name === 'string' ? name : '';
    const v = typeof version === 'string' && version !== '' ? version : undefined;
    const key = `${n}\u0000${v ?? ''}\u0000${schemaUrl ?? ''}`;
    let tracer = this.tracers.get(key);
    if (tracer === undefined) {
      const scope: InstrumentationScope = { name: n };
      if (v !== undefined) scope.version = v;
      if (schemaUrl !== undefined) scope.schemaUrl = schemaUrl;
      tracer = new BridgeTracer(this, Object.freeze(scope));
      this.tracers.set(key, tracer);
    }
    return tracer;
  }
}

export class BridgeTracer implements otel.Tracer {
  private readonly scratch: ContextState = { span: undefined, baggage: undefined, suppressed: false, attachment: undefined };
  /**
   * The options object `startSpan` hands core, reused: a Tracewire tracer reads it while it starts
   * the span and keeps none of it. Taken while in use, so a span started re-entrantly (from a
   * sampler, say) gets one of its own. One allocation less per span, and one shape.
   */
  private spare: StartSpanOptions | undefined;

  constructor(
    private readonly provider: TracewireTracerProvider,
    /** The OpenTelemetry tracer's name, version and schema URL, kept on every span it starts. */
    readonly scope: InstrumentationScope,
  ) {
    this.spare = newOptions(scope);
  }

  startSpan(name: string, options?: otel.SpanOptions, context?: otel.Context): otel.Span {
    const provider = this.provider;
    if (provider.disabled) return noopSpan(options, context);
    let parent: Span | undefined;
    if (context === undefined || context === null) {
      // The active context: read from Tracewire's storage directly, no OpenTelemetry Context needed.
      const s = read(this.scratch);
      if (s.suppressed) return SUPPRESSED_SPAN;
      parent = s.span;
    } else if (context === ROOT) {
      parent = undefined;
    } else if (context instanceof BridgeContext && context.state !== undefined) {
      if (context.state.suppressed) return SUPPRESSED_SPAN;
      parent = context.state.span;
    } else {
      // Only the span and the suppression are needed here: read them, allocate no state.
      if (context.getValue(SUPPRESS_TRACING_KEY) === true) return SUPPRESSED_SPAN;
      parent = tracewireSpanOf(context.getValue(SPAN_KEY));
    }
    const o = options !== undefined && options !== null ? options : undefined;
    const kind = o !== undefined && o.kind !== undefined ? KINDS[o.kind] ?? 'internal' : 'internal';
    // A client span for the very request tracedFetch is making (OpenTelemetry's undici or http
    // instrumentation under it): that call has its span and wrote its headers already.
    if (kind === 'client' && isFetchSpan(parent) && parent !== undefined) return new PassThroughSpan(parent);
    let opts = this.spare;
    if (opts === undefined) opts = newOptions(this.scope);
    else this.spare = undefined;
    opts.kind = kind;
    opts.parent = o !== undefined && o.root === true ? null : parent ?? null;
    const target = provider.tracer !== undefined ? provider.tracer : globalTracer();
    let content: boolean | undefined;
    if (o !== undefined) {
      const a = o.attributes as StartSpanOptions['attributes'];
      if (a !== undefined && a !== null) {
        if (typeof a === 'object' && hasContent(a)) {
          // LLM content only with the captureContent of the tracer the span will belong to.
          content = ((opts.parent !== null && tracerOwning(opts.parent)) || target).config.captureContent === true;
          opts.attributes = content ? a : withoutContent(a);
        } else opts.attributes = a;
      }
      if (o.links !== undefined && Array.isArray(o.links)) opts.links = o.links as unknown as Link[];
      if (o.startTime !== undefined) opts.startTime = toEpochMs(o.startTime);
    }
    let tw: Span;
    try {
      // A parent of another tracer's trace is started there by that tracer (core redirects it).
      tw = target.startSpan(name, opts);
    } finally {
      // Nothing kept alive through the spare object.
      opts.parent = null;
      opts.attributes = opts.links = opts.startTime = undefined;
      this.spare = opts;
    }
    return new BridgeSpan(tw, content);
  }

  startActiveSpan<F extends (span: otel.Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: otel.Span) => unknown>(name: string, options: otel.SpanOptions, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: otel.Span) => unknown>(name: string, options: otel.SpanOptions, context: otel.Context, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: otel.Span) => unknown>(name: string, a?: F | otel.SpanOptions, b?: F | otel.Context, c?: F): ReturnType<F> | undefined {
    let options: otel.SpanOptions | undefined;
    let ctx: otel.Context | undefined;
    let fn: F | undefined;
    const n = arguments.length;
    if (n < 2) return undefined;
    if (n === 2) fn = a as F;
    else if (n === 3) {
      options = a as otel.SpanOptions;
      fn = b as F;
    } else {
      options = a as otel.SpanOptions;
      ctx = b as otel.Context;
      fn = c;
    }
    if (typeof fn !== 'function') return undefined;
    const cm = this.provider.contextManager;
    const parent = ctx ?? (this.provider.disabled ? contextApi.active() : cm.active());
    const span = this.startSpan(name, options, parent);
    const active = withSpanValue(parent, span);
    const run = fn as (span: otel.Span) => ReturnType<F>;
    if (this.provider.disabled) return contextApi.with(active, run, undefined, span);
    this.nextFn = run;
    this.nextSpan = span;
    return cm.run(active, this.enter) as ReturnType<F>;
  }

  // startActiveSpan's callback and span, for `enter`: no closure per call. `cm.run` calls `enter`
  // synchronously before anything else runs, which takes them at once (so nesting is safe).
  private nextFn: ((span: otel.Span) => unknown) | undefined = undefined;
  private nextSpan: otel.Span | undefined = undefined;
  private readonly enter = (): unknown => {
    const fn = this.nextFn as (span: otel.Span) => unknown;
    const span = this.nextSpan as otel.Span;
    this.nextFn = this.nextSpan = undefined;
    return fn(span);
  };
}

function newOptions(scope: InstrumentationScope): StartSpanOptions {
  return { kind: 'internal', parent: null, attributes: undefined, links: undefined, startTime: undefined, instrumentationScope: scope };
}

/** What a tracer of an unregistered provider starts: as the API's no-op tracer does. */
function noopSpan(options: otel.SpanOptions | undefined, context: otel.Context | undefined): otel.Span {
  if (options !== undefined && options !== null && options.root === true) return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
  const parent = trace.getSpanContext(context ?? contextApi.active());
  return trace.wrapSpanContext(parent !== undefined && isSpanContextValid(parent) ? parent : INVALID_SPAN_CONTEXT);
}
