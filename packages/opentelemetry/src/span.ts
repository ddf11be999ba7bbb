/**
 * The two span adapters of the bridge: `BridgeSpan`, an OpenTelemetry API span over a Tracewire
 * span (what our tracers hand out, and what `trace.getActiveSpan()` returns inside a Tracewire
 * span), and `ForeignSpan`, a Tracewire span over an OpenTelemetry span that is not ours (a remote
 * context from `trace.wrapSpanContext`, another SDK's span), so Tracewire code can run under it.
 */
import { performance } from 'node:perf_hooks';
import { SpanStatusCode, createTraceState } from '@opentelemetry/api';
import type * as otel from '@opentelemetry/api';
import { tracerOwning } from '@tracewire/core';
import type { AttributeValue, AttributesInput, Link, Span, SpanContext, SpanKind, SpanStatus } from '@tracewire/core';
import { hasContent, isContentKey, withoutContent } from './content';

const ORIGIN = performance.timeOrigin;

/**
 * An OpenTelemetry `TimeInput` as Tracewire's epoch milliseconds. As the OpenTelemetry SDK reads
 * them: `[seconds, nanoseconds]`, a Date, epoch milliseconds, or a number below the process's time
 * origin, which is a `performance.now()` reading. Undefined for anything else (Tracewire then
 * takes the current time).
 */
export function toEpochMs(t: otel.TimeInput | undefined): number | undefined {
  if (typeof t === 'number') return Number.isFinite(t) ? (t < ORIGIN ? ORIGIN + t : t) : undefined;
  if (Array.isArray(t)) {
    const v = t[0] * 1e3 + t[1] / 1e6;
    return Number.isFinite(v) ? v : undefined;
  }
  if (t instanceof Date) {
    const v = t.getTime();
    return Number.isFinite(v) ? v : undefined;
  }
  return undefined;
}

/** True for an OpenTelemetry `TimeInput` (what `addEvent` takes in place of attributes). */
export function isTimeInput(x: unknown): x is otel.TimeInput {
  return typeof x === 'number' || x instanceof Date || (Array.isArray(x) && x.length === 2 && typeof x[0] === 'number' && typeof x[1] === 'number');
}

/** OpenTelemetry's numeric SpanKind, indexed. */
export const KINDS: readonly SpanKind[] = ['internal', 'server', 'client', 'producer', 'consumer'];

const STATUS: Record<number, SpanStatus['code']> = { [SpanStatusCode.UNSET]: 'unset', [SpanStatusCode.OK]: 'ok', [SpanStatusCode.ERROR]: 'error' };

/** An OpenTelemetry span status as Tracewire's (unknown codes are `unset`, which changes nothing). */
export function toStatus(status: otel.SpanStatus): SpanStatus {
  const code = status !== null && typeof status === 'object' ? STATUS[status.code] ?? 'unset' : 'unset';
  return code === 'error' && status.message !== undefined ? { code, message: status.message } : { code };
}

/** Tracewire's span context (tracestate a string) as OpenTelemetry's (a TraceState object). */
export function toOtelSpanContext(ctx: SpanContext, isRemote: boolean): otel.SpanContext {
  const out: otel.SpanContext = { traceId: ctx.traceId, spanId: ctx.spanId, traceFlags: ctx.traceFlags, isRemote };
  if (ctx.traceState) out.traceState = createTraceState(ctx.traceState);
  return out;
}

/** OpenTelemetry's span context as Tracewire's, for a parent or a propagator. */
export function toTracewireSpanContext(ctx: otel.SpanContext): SpanContext {
  const out: SpanContext = { traceId: ctx.traceId, spanId: ctx.spanId, traceFlags: ctx.traceFlags };
  const state = ctx.traceState !== undefined && ctx.traceState !== null && typeof ctx.traceState.serialize === 'function' ? ctx.traceState.serialize() : '';
  if (state) out.traceState = state;
  if (ctx.isRemote === true) out.isRemote = true;
  return out;
}

/**
 * An OpenTelemetry API span over a Tracewire span: every call goes to the Tracewire span, with
 * OpenTelemetry's types converted (numeric kinds and status codes, HrTime, TraceState objects).
 */
export class BridgeSpan implements otel.Span {
  private ctx: otel.SpanContext | undefined = undefined;

  constructor(
    /** The Tracewire span underneath: recording, non-recording (unsampled) or the invalid span (suppressed). */
    readonly tw: Span,
    /**
     * Whether LLM content attributes are kept (the owning tracer's `captureContent`); undefined:
     * not asked yet, looked up the first time a content attribute is set.
     */
    private content: boolean | undefined = undefined,
  ) {}

  /** The `captureContent` of the tracer owning this span (false for a span that records nothing). */
  private keepsContent(): boolean {
    let c = this.content;
    if (c === undefined) {
      const t = tracerOwning(this.tw);
      c = this.content = t !== undefined && t.config.captureContent === true;
    }
    return c;
  }

  /** `attributes` as they may be recorded: without LLM content unless `captureContent` is on. */
  private allowed(attributes: AttributesInput): AttributesInput {
    return attributes !== null && typeof attributes === 'object' && hasContent(attributes) && !this.keepsContent() ? withoutContent(attributes) : attributes;
  }

  spanContext(): otel.SpanContext {
    let ctx = this.ctx;
    if (ctx === undefined) {
      ctx = toOtelSpanContext(this.tw.spanContext(), false);
      this.ctx = ctx;
    }
    return ctx;
  }

  setAttribute(key: string, value: otel.SpanAttributeValue): this {
    // Content keys start with `a` or `g`: the first character rules out most keys inline.
    const c = typeof key === 'string' ? key.charCodeAt(0) : 0;
    if ((c === 97 || c === 103) && isContentKey(key) && !this.keepsContent()) return this;
    this.tw.setAttribute(key, value as AttributeValue);
    return this;
  }

  setAttributes(attributes: otel.SpanAttributes): this {
    this.tw.setAttributes(this.allowed(attributes as AttributesInput));
    return this;
  }

  addEvent(name: string, attributesOrStartTime?: otel.SpanAttributes | otel.TimeInput, startTime?: otel.TimeInput): this {
    if (isTimeInput(attributesOrStartTime)) this.tw.addEvent(name, undefined, toEpochMs(attributesOrStartTime));
    else this.tw.addEvent(name, attributesOrStartTime === undefined ? undefined : this.allowed(attributesOrStartTime as AttributesInput), toEpochMs(startTime));
    return this;
  }

  addLink(link: otel.Link): this {
    // Tracewire reads context.traceId/spanId and attributes: an OpenTelemetry link as it is.
    this.tw.addLink(link as unknown as Link);
    return this;
  }

  addLinks(links: otel.Link[]): this {
    if (Array.isArray(links)) for (let i = 0; i < links.length; i++) this.addLink(links[i]);
    return this;
  }

  setStatus(status: otel.SpanStatus): this {
    this.tw.setStatus(toStatus(status));
    return this;
  }

  updateName(name: string): this {
    this.tw.updateName(name);
    return this;
  }

  end(endTime?: otel.TimeInput): void {
    this.tw.end(toEpochMs(endTime));
  }

  isRecording(): boolean {
    return this.tw.isRecording();
  }

  recordException(exception: otel.Exception, time?: otel.TimeInput): void {
    this.tw.recordException(exception, toEpochMs(time));
  }
}

/**
 * What a bridged span that must record nothing hands out: every call is a no-op and its context
 * is `tw`'s, so what runs under it (a header written by an instrumentation, a Tracewire span
 * started inside) continues `tw`. Used for a second client span under Tracewire's own.
 */
export class PassThroughSpan implements otel.Span {
  private readonly ctx: otel.SpanContext;
  constructor(readonly tw: Span) {
    this.ctx = toOtelSpanContext(tw.spanContext(), false);
  }
  spanContext(): otel.SpanContext {
    return this.ctx;
  }
  setAttribute(): this {
    return this;
  }
  setAttributes(): this {
    return this;
  }
  addEvent(): this {
    return this;
  }
  addLink(): this {
    return this;
  }
  addLinks(): this {
    return this;
  }
  setStatus(): this {
    return this;
  }
  updateName(): this {
    return this;
  }
  end(): void {}
  isRecording(): boolean {
    return false;
  }
  recordException(): void {}
}

/**
 * A Tracewire span over an OpenTelemetry span that is not ours: its context is what Tracewire's
 * `withSpan`, `startSpan` and `tracedFetch` continue (a local root of that trace; remote when the
 * OpenTelemetry context says so), and calls on it reach the OpenTelemetry span.
 */
export class ForeignSpan implements Span {
  private readonly ctx: SpanContext;
  constructor(readonly otel: otel.Span) {
    this.ctx = toTracewireSpanContext(otel.spanContext());
  }
  spanContext(): SpanContext {
    return this.ctx;
  }
  setAttribute(key: string, value: AttributeValue | undefined | null): this {
    if (value !== undefined && value !== null) this.otel.setAttribute(key, value);
    return this;
  }
  setAttributes(attributes: AttributesInput): this {
    this.otel.setAttributes(attributes as otel.SpanAttributes);
    return this;
  }
  addEvent(name: string, attributesOrTime?: AttributesInput | number | Date, time?: number | Date): this {
    this.otel.addEvent(name, attributesOrTime as otel.SpanAttributes, time);
    return this;
  }
  addLink(link: Link): this {
    this.otel.addLink({ context: toOtelSpanContext(link.context, link.context.isRemote === true), attributes: link.attributes as otel.SpanAttributes });
    return this;
  }
  recordException(exception: unknown, time?: number | Date): this {
    this.otel.recordException(exception as otel.Exception, time);
    return this;
  }
  setStatus(status: SpanStatus): this {
    const code = status && status.code === 'error' ? SpanStatusCode.ERROR : status && status.code === 'ok' ? SpanStatusCode.OK : SpanStatusCode.UNSET;
    this.otel.setStatus(status && status.message !== undefined ? { code, message: status.message } : { code });
    return this;
  }
  updateName(name: string): this {
    this.otel.updateName(name);
    return this;
  }
  end(endTime?: number | Date): void {
    this.otel.end(endTime);
  }
  isRecording(): boolean {
    return this.otel.isRecording();
  }
}
