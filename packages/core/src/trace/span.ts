import type {
  AttributeValue,
  Attributes,
  AttributesInput,
  InstrumentationScope,
  Link,
  Span,
  SpanContext,
  SpanData,
  SpanEventData,
  SpanKind,
  SpanLinkData,
  SpanLimits,
  SpanStatus,
  TimeInput,
} from '../types';
import { now, toEpochMs } from '../internal/clock';
import { warnOnce } from '../diag/warn';

/** Receives span ends: the trace store holding the span's local trace. */
export interface SpanOwner {
  spanEnded(span: RecordingSpan): void;
  /** The limits of the spans it holds (the tracer's): read from here, not kept on each span. */
  readonly spanLimits: ResolvedSpanLimits;
}

const EMPTY: never[] = Object.freeze([]) as unknown as never[];
const NO_DROPS: SpanData['dropped'] = Object.freeze({ attributes: 0, events: 0, links: 0 });
const UNSET: SpanStatus = Object.freeze({ code: 'unset' }) as SpanStatus;
/**
 * The attributes of an open span that has none yet: shared and frozen, replaced by the span's own
 * object on its first attribute, or when it ends (so what exporters get is the span's own). An
 * open span without attributes (a root before its response, a child) holds no object for them.
 */
const NO_ATTRIBUTES: Attributes = Object.freeze({}) as Attributes;

// Internal state lives under symbols so that a RecordingSpan *is* its own SpanData: JSON.stringify
// and exporters see only the public fields, and an ended span is exported without a copy.
const OWNER: unique symbol = Symbol('tracewire.owner');
const TRACE: unique symbol = Symbol('tracewire.trace');
const ATTR_COUNT: unique symbol = Symbol('tracewire.attrCount');
const WRITE: unique symbol = Symbol('tracewire.write');
const hasOwn = Object.prototype.hasOwnProperty;

export type ResolvedSpanLimits = Required<SpanLimits>;

/** Whether `v` is a valid attribute value (OpenTelemetry: primitives or homogeneous arrays). */
function isValidValue(v: unknown): v is AttributeValue {
  const t = typeof v;
  if (t === 'string' || t === 'boolean') return true;
  if (t === 'number') return !Number.isNaN(v as number);
  if (!Array.isArray(v)) return false;
  let kind: string | undefined;
  for (const el of v) {
    if (el === null || el === undefined) continue;
    const et = typeof el;
    if (et !== 'string' && et !== 'number' && et !== 'boolean') return false;
    if (kind === undefined) kind = et;
    else if (kind !== et) return false;
  }
  return true;
}

/**
 * ATTR_COUNT of a span holding as many attributes as its limit allows: above any count limit a
 * span reaches in practice, and a small integer (a double there would box the field in every span).
 */
const FULL = 0x3fffffff;

/** How many own keys `attrs` has. */
function keyCount(attrs: Attributes): number {
  let n = 0;
  for (const key in attrs) if (hasOwn.call(attrs, key)) n++;
  return n;
}

function truncate(v: AttributeValue, max: number): AttributeValue {
  if (typeof v === 'string') return v.length > max ? v.slice(0, max) : v;
  if (Array.isArray(v) && v.length > 0 && typeof v[0] === 'string') {
    return (v as string[]).map((s) => (typeof s === 'string' && s.length > max ? s.slice(0, max) : s));
  }
  return v;
}

/** Copy attributes into a fresh object applying count and length limits; returns the drop count. */
function limitedAttributes(input: AttributesInput | undefined, maxCount: number, maxLen: number): [Attributes, number] {
  const out: Attributes = {};
  if (!input) return [out, 0];
  let n = 0;
  let dropped = 0;
  for (const key in input) {
    const v = input[key];
    if (v === undefined || v === null || !isValidValue(v)) continue;
    if (n >= maxCount) {
      dropped++;
      continue;
    }
    out[key] = maxLen === Infinity ? (Array.isArray(v) ? (v.slice() as AttributeValue) : v) : truncate(v, maxLen);
    n++;
  }
  return [out, dropped];
}

function warnEnded(name: string, method: string): void {
  warnOnce('span-after-end', `${method}() called on span "${name}" after end(); ignored (further warnings suppressed)`);
}

/** The error type for `error.type`: the error's class name, else its `name`, else the typeof. */
export function errorTypeOf(err: unknown): string {
  if (err && typeof err === 'object') {
    const ctor = (err as { constructor?: { name?: unknown } }).constructor;
    if (ctor && typeof ctor.name === 'string' && ctor.name && ctor.name !== 'Object') return ctor.name;
    const n = (err as { name?: unknown }).name;
    if (typeof n === 'string' && n) return n;
  }
  return typeof err === 'string' ? 'Error' : '_OTHER';
}

/**
 * A sampled span. Its public fields are exactly `SpanData`; the owner (its local trace) is told when
 * it ends. All methods are no-ops after `end()` (one warning per process).
 */
export class RecordingSpan implements Span, SpanData {
  // Declared, and each assigned once in the constructor (in this order, which is the order
  // exporters and JSON.stringify see): class fields would define every one of them before the
  // constructor sets it again.
  declare traceId: string;
  declare spanId: string;
  declare parentSpanId: string | undefined;
  declare name: string;
  declare kind: SpanKind;
  declare startTime: number;
  declare endTime: number;
  declare ended: boolean;
  declare status: SpanStatus;
  declare attributes: Attributes;
  declare events: SpanEventData[];
  declare links: SpanLinkData[];
  declare traceFlags: number;
  declare traceState: string | undefined;
  /** `true` when the parent is remote (see SpanData); otherwise left out. */
  declare parentIsRemote: boolean | undefined;
  /** The library that made the span, when it was not Tracewire (see SpanData). */
  declare instrumentationScope: InstrumentationScope | undefined;
  declare dropped: SpanData['dropped'];
  declare [OWNER]: SpanOwner;
  declare [TRACE]: object;
  declare [ATTR_COUNT]: number;

  /**
   * Made by the tracer alone, which decides everything before the span exists: `owner` is told
   * when it ends (the store holding its local trace), `trace` the local trace as the owner knows
   * it (opaque here), `scope` a checked instrumentation scope; the user's `attributes` are
   * checked and copied. Positional, so no options object is made per span.
   */
  constructor(
    owner: SpanOwner,
    trace: object,
    traceId: string,
    spanId: string,
    parentSpanId: string | undefined,
    /** The parent came from an incoming carrier (another process). */
    parentIsRemote: boolean,
    traceFlags: number,
    traceState: string | undefined,
    name: string,
    kind: SpanKind,
    scope: InstrumentationScope | undefined,
    attributes: AttributesInput | undefined,
    links: Link[] | undefined,
    startTime: TimeInput | undefined,
  ) {
    let attrs: Attributes;
    let count = 0;
    let dropped = 0;
    if (attributes) {
      const limits = owner.spanLimits;
      [attrs, dropped] = limitedAttributes(attributes, limits.attributeCountLimit, limits.attributeValueLengthLimit);
      count = keyCount(attrs);
    } else attrs = NO_ATTRIBUTES;
    this.traceId = traceId;
    this.spanId = spanId;
    this.parentSpanId = parentSpanId;
    this.name = name;
    this.kind = kind;
    this.startTime = startTime === undefined ? now() : toEpochMs(startTime);
    this.endTime = 0;
    this.ended = false;
    this.status = UNSET;
    this.attributes = attrs;
    this.events = EMPTY;
    this.links = EMPTY;
    this.traceFlags = traceFlags;
    this.traceState = traceState;
    this.parentIsRemote = parentIsRemote === true ? true : undefined;
    this.instrumentationScope = scope;
    this.dropped = NO_DROPS;
    this[OWNER] = owner;
    this[TRACE] = trace;
    this[ATTR_COUNT] = count;
    if (dropped) this.countDrop('attributes', dropped);
    if (links) for (const l of links) this.addLink(l);
  }

  /**
   * A new object per call: kept on the span it would be 8 bytes of every open span, and Tracewire
   * itself reads a span's own fields instead (`contextOf`).
   */
  spanContext(): SpanContext {
    const ctx: SpanContext = { traceId: this.traceId, spanId: this.spanId, traceFlags: this.traceFlags };
    if (this.traceState) ctx.traceState = this.traceState;
    return ctx;
  }

  isRecording(): boolean {
    return !this.ended;
  }

  private countDrop(kind: keyof SpanData['dropped'], n = 1): void {
    if (this.dropped === NO_DROPS) this.dropped = { attributes: 0, events: 0, links: 0 };
    this.dropped[kind] += n;
  }

  setAttribute(key: string, value: AttributeValue | undefined | null): this {
    if (this.ended) {
      warnEnded(this.name, 'setAttribute');
      return this;
    }
    if (value === undefined || value === null || typeof key !== 'string' || key.length === 0) return this;
    if (!isValidValue(value)) return this;
    // The caller keeps its array: the span holds a copy.
    this.put(key, Array.isArray(value) ? (value.slice() as AttributeValue) : value);
    return this;
  }

  /**
   * Writes one valid value: the count and length limits are applied here, for every attribute
   * the span gets after it started (the user's and Tracewire's own alike).
   */
  private put(key: string, value: AttributeValue): void {
    let attrs = this.attributes;
    if (attrs === NO_ATTRIBUTES) this.attributes = attrs = {};
    const limits = this[OWNER].spanLimits;
    // ATTR_COUNT bounds the keys from above (each put counts one, new or not), so below the limit
    // no key can be one too many and none is looked up; at the bound the exact count decides.
    const n = this[ATTR_COUNT];
    const limit = limits.attributeCountLimit;
    if (n < limit) this[ATTR_COUNT] = n + 1;
    else if (!hasOwn.call(attrs, key)) {
      const exact = n === FULL ? limit : keyCount(attrs);
      if (exact >= limit) {
        // Full: keys are never removed, so every new key from now on is dropped without a count.
        this[ATTR_COUNT] = FULL;
        this.countDrop('attributes');
        return;
      }
      this[ATTR_COUNT] = exact + 1;
    }
    const max = limits.attributeValueLengthLimit;
    attrs[key] = max === Infinity ? value : truncate(value, max);
  }

  /**
   * Writes attributes Tracewire built itself (valid by construction, arrays its own), without
   * checking each value: see `writeAttributes`. A span with no attributes yet takes the object
   * itself when it fits the limits; a fill function writes into the span's own object, and the
   * count limit is applied after it, as `put` would have applied it.
   */
  [WRITE](attrs: AttributeWrite): void {
    if (this.ended) {
      warnEnded(this.name, 'setAttributes');
      return;
    }
    const limits = this[OWNER].spanLimits;
    if (typeof attrs === 'function') {
      if (limits.attributeValueLengthLimit !== Infinity) {
        const fresh: Attributes = {};
        attrs(fresh);
        this[WRITE](fresh);
        return;
      }
      let target = this.attributes;
      if (target === NO_ATTRIBUTES) this.attributes = target = {};
      attrs(target);
      // A key it overwrote is not one more. Keys keep their insertion order, so those past the
      // limit are the newest: the ones put() would have dropped.
      const max = limits.attributeCountLimit;
      let n = 0;
      let over: string[] | undefined;
      for (const key in target) {
        if (!hasOwn.call(target, key)) continue;
        if (n < max) n++;
        else (over ??= []).push(key);
      }
      if (over !== undefined) {
        for (const key of over) delete target[key];
        this.countDrop('attributes', over.length);
      }
      this[ATTR_COUNT] = n;
      return;
    }
    if (this[ATTR_COUNT] === 0 && limits.attributeValueLengthLimit === Infinity) {
      const n = keyCount(attrs);
      if (n <= limits.attributeCountLimit) {
        this.attributes = attrs;
        this[ATTR_COUNT] = n;
        return;
      }
    }
    for (const key in attrs) {
      if (!hasOwn.call(attrs, key)) continue;
      const v = attrs[key];
      if (v !== undefined && v !== null) this.put(key, v);
    }
  }

  setAttributes(attributes: AttributesInput): this {
    if (this.ended) {
      warnEnded(this.name, 'setAttributes');
      return this;
    }
    if (attributes) for (const key in attributes) this.setAttribute(key, attributes[key]);
    return this;
  }

  addEvent(name: string, attributesOrTime?: AttributesInput | TimeInput, time?: TimeInput): this {
    if (this.ended) {
      warnEnded(this.name, 'addEvent');
      return this;
    }
    const limits = this[OWNER].spanLimits;
    if (this.events.length >= limits.eventCountLimit) {
      this.countDrop('events');
      return this;
    }
    let attrsIn: AttributesInput | undefined;
    if (typeof attributesOrTime === 'number' || attributesOrTime instanceof Date) time = attributesOrTime;
    else attrsIn = attributesOrTime;
    const [attributes] = limitedAttributes(attrsIn, limits.attributePerEventCountLimit, limits.attributeValueLengthLimit);
    if (this.events === EMPTY) this.events = [];
    this.events.push({ name: String(name), time: toEpochMs(time), attributes });
    return this;
  }

  addLink(link: Link): this {
    if (this.ended) {
      warnEnded(this.name, 'addLink');
      return this;
    }
    const ctx = link && link.context;
    if (!ctx || typeof ctx.traceId !== 'string' || typeof ctx.spanId !== 'string') return this;
    const limits = this[OWNER].spanLimits;
    if (this.links.length >= limits.linkCountLimit) {
      this.countDrop('links');
      return this;
    }
    const [attributes] = limitedAttributes(link.attributes, limits.attributePerLinkCountLimit, limits.attributeValueLengthLimit);
    if (this.links === EMPTY) this.links = [];
    this.links.push({ traceId: ctx.traceId, spanId: ctx.spanId, attributes });
    return this;
  }

  recordException(exception: unknown, time?: TimeInput): this {
    if (this.ended) {
      warnEnded(this.name, 'recordException');
      return this;
    }
    // OpenTelemetry semantic conventions: exception.type / .message / .stacktrace on an "exception" event.
    const attrs: AttributesInput = { 'exception.type': errorTypeOf(exception) };
    if (exception instanceof Error || (exception && typeof exception === 'object')) {
      const e = exception as { message?: unknown; stack?: unknown };
      if (typeof e.message === 'string') attrs['exception.message'] = e.message;
      if (typeof e.stack === 'string') attrs['exception.stacktrace'] = e.stack;
    } else {
      attrs['exception.message'] = String(exception);
    }
    return this.addEvent('exception', attrs, time);
  }

  setStatus(status: SpanStatus): this {
    if (this.ended) {
      warnEnded(this.name, 'setStatus');
      return this;
    }
    if (!status) return this;
    // OpenTelemetry: Ok is final; Unset never overrides; a message only accompanies Error.
    if (this.status.code === 'ok' || status.code === 'unset') return this;
    if (status.code === 'error') {
      this.status = status.message !== undefined ? { code: 'error', message: String(status.message) } : { code: 'error' };
    } else if (status.code === 'ok') {
      this.status = { code: 'ok' };
    }
    return this;
  }

  updateName(name: string): this {
    if (this.ended) {
      warnEnded(this.name, 'updateName');
      return this;
    }
    if (typeof name === 'string') this.name = name;
    return this;
  }

  end(endTime?: TimeInput): void {
    if (this.ended) {
      warnEnded(this.name, 'end');
      return;
    }
    let t = endTime === undefined ? now() : toEpochMs(endTime);
    if (t < this.startTime) t = this.startTime;
    this.endTime = t;
    this.ended = true;
    if (this.attributes === NO_ATTRIBUTES) this.attributes = {};
    this[OWNER].spanEnded(this);
  }

  /** A plain copy for export while the span is still open (`ended: false`, end = export time). */
  snapshot(at: number): SpanData {
    const d: SpanData = {
      traceId: this.traceId,
      spanId: this.spanId,
      name: this.name,
      kind: this.kind,
      startTime: this.startTime,
      endTime: Math.max(at, this.startTime),
      ended: false,
      status: this.status,
      attributes: { ...this.attributes },
      events: this.events.slice(),
      links: this.links.slice(),
      traceFlags: this.traceFlags,
      dropped: { ...this.dropped },
    };
    if (this.parentSpanId !== undefined) d.parentSpanId = this.parentSpanId;
    if (this.traceState !== undefined) d.traceState = this.traceState;
    if (this.parentIsRemote !== undefined) d.parentIsRemote = this.parentIsRemote;
    if (this.instrumentationScope !== undefined) d.instrumentationScope = this.instrumentationScope;
    return d;
  }
}

/**
 * The context of `span` for reading: a recording span's own fields are a SpanContext's (traceId,
 * spanId, traceFlags, traceState), so no object is made for it; any other span is asked.
 */
export function contextOf(span: Span): SpanContext {
  return span instanceof RecordingSpan ? span : span.spanContext();
}

/**
 * V8 keeps a field that has only ever held numbers, some of them fractional, as a double in a
 * 16-byte box of its own, allocated with the object. `endTime` is 0 for as long as a span is open
 * and a fraction only once it has ended: stored as a plain (tagged) field instead, 0 is a small
 * integer held in the field itself, and the box is made only by `end()`. One throwaway span, given
 * the values the field takes in use and then a non-number, moves the field to tagged before any
 * real span is made: every open span is 16 bytes smaller (bench/micro.js, heap per open span). On
 * an engine that lays fields out otherwise this costs nothing and saves nothing.
 */
{
  const owner: SpanOwner = { spanEnded() {}, spanLimits: undefined as unknown as ResolvedSpanLimits };
  const warm = new RecordingSpan(owner, {}, '', '', undefined, false, 0, undefined, '', 'internal', undefined, undefined, undefined, 1.5);
  warm.endTime = 2.5;
  (warm as { endTime: unknown }).endTime = null;
}

/**
 * A span that records nothing but carries a context, so an unsampled (or capped, or disabled)
 * request still propagates `traceparent`. The cheapest object we can hand out.
 */
export class NonRecordingSpan implements Span {
  /**
   * @param propagateOnly an ignored request's span: it passes the caller's context on unchanged
   * and no span started under it records (a health check costs nearly nothing).
   */
  constructor(
    private readonly ctx: SpanContext,
    readonly propagateOnly = false,
  ) {}
  spanContext(): SpanContext {
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
  recordException(): this {
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
}

/**
 * Attributes Tracewire built itself, as an object, or as a function that writes them by name into
 * the object it is given. The function form lets a span's attributes stay one fast V8 object when
 * many are added at once: an object of computed keys merged into another turns it into a
 * dictionary past a dozen keys (about 1.2 µs for a streamed response's attributes, and slower for
 * exporters to read).
 */
export type AttributeWrite = Attributes | ((target: Attributes) => void);

/**
 * The one way Tracewire writes its own attributes (request and response attributes of a server
 * span, a stream's, an LLM call's) onto a span: valid by construction, so values are not checked
 * one by one, but the span's limits apply as for any other attribute. An object is handed over (a
 * span without attributes yet may keep it, so the caller must not change it afterwards); a
 * function writes into the span's own object. Any other span gets `setAttributes`.
 */
export function writeAttributes(span: Span, attrs: AttributeWrite): void {
  if (span instanceof RecordingSpan) span[WRITE](attrs);
  else if (typeof attrs === 'function') {
    const fresh: Attributes = {};
    attrs(fresh);
    span.setAttributes(fresh);
  } else span.setAttributes(attrs);
}

/** The owner (trace store) of a recording span. */
export function ownerOf(span: RecordingSpan): SpanOwner {
  return span[OWNER];
}

/** The local trace a recording span belongs to, as its owner gave it. */
export function traceOf(span: RecordingSpan): object {
  return span[TRACE];
}

/** The start time (epoch ms) of a span Tracewire records; undefined for any other span. */
export function startTimeOf(span: Span): number | undefined {
  return span instanceof RecordingSpan ? span.startTime : undefined;
}

/** The context of a span that must propagate nothing (tracing suppressed). */
export const INVALID_SPAN_CONTEXT: SpanContext = Object.freeze({
  traceId: '00000000000000000000000000000000',
  spanId: '0000000000000000',
  traceFlags: 0,
});
export const INVALID_SPAN: Span = new NonRecordingSpan(INVALID_SPAN_CONTEXT);

export function isSpan(x: unknown): x is Span {
  return !!x && typeof (x as Span).spanContext === 'function';
}
