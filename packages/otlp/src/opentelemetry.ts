/**
 * `fromOpenTelemetryExporter(spanExporter)`: any OpenTelemetry JS `SpanExporter` (OTLP/gRPC, Azure
 * Monitor, Google Cloud Trace, vendor exporters) as a Tracewire exporter. Each FinishedTrace span
 * is handed over as a `ReadableSpan`-shaped object: the fields of @opentelemetry/sdk-trace-base 2.x
 * (and the 1.x names, `parentSpanId` and `instrumentationLibrary`, for older exporters), with what
 * @opentelemetry/otlp-transformer reads. Typed structurally: no @opentelemetry package is loaded.
 */
import { formatTracestate, parseTracestate } from '@tracewire/core';
import type { Attributes, Exporter, FinishedTrace, SpanData } from '@tracewire/core';
import { SCOPE, exportedAttributes, hrTime, splitEpochMs } from './common';

/** OpenTelemetry `HrTime`: `[seconds, nanoseconds]` since the epoch (or of a duration). */
export type OtelHrTime = [number, number];

/** The OpenTelemetry API `TraceState` interface. */
export interface OtelTraceState {
  set(key: string, value: string): OtelTraceState;
  unset(key: string): OtelTraceState;
  get(key: string): string | undefined;
  serialize(): string;
}

/** The OpenTelemetry API `SpanContext`. */
export interface OtelSpanContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
  isRemote?: boolean;
  traceState?: OtelTraceState;
}

/** What an OpenTelemetry `Resource` (@opentelemetry/resources 1.x and 2.x) offers exporters. */
export interface OtelResource {
  readonly attributes: Attributes;
  readonly asyncAttributesPending: boolean;
  readonly schemaUrl?: string;
  waitForAsyncAttributes(): Promise<void>;
  merge(other: OtelResource | null): OtelResource;
  getRawAttributes(): [string, Attributes[string]][];
}

/** An OpenTelemetry `InstrumentationScope`. */
export interface OtelInstrumentationScope {
  readonly name: string;
  readonly version?: string;
  readonly schemaUrl?: string;
}

/** The `ReadableSpan` of @opentelemetry/sdk-trace-base 2.x, plus its 1.x field names. */
export interface OtelReadableSpan {
  readonly name: string;
  /** SpanKind: INTERNAL 0, SERVER 1, CLIENT 2, PRODUCER 3, CONSUMER 4. */
  readonly kind: number;
  spanContext(): OtelSpanContext;
  readonly parentSpanContext?: OtelSpanContext;
  /** 1.x name of the parent's span id. */
  readonly parentSpanId?: string;
  readonly startTime: OtelHrTime;
  readonly endTime: OtelHrTime;
  /** SpanStatusCode: UNSET 0, OK 1, ERROR 2. */
  readonly status: { code: 0 | 1 | 2; message?: string };
  readonly attributes: Attributes;
  readonly links: { context: OtelSpanContext; attributes?: Attributes; droppedAttributesCount?: number }[];
  readonly events: { name: string; time: OtelHrTime; attributes?: Attributes; droppedAttributesCount?: number }[];
  readonly duration: OtelHrTime;
  readonly ended: boolean;
  readonly resource: OtelResource;
  readonly instrumentationScope: OtelInstrumentationScope;
  /** 1.x name of the scope. */
  readonly instrumentationLibrary: OtelInstrumentationScope;
  readonly droppedAttributesCount: number;
  readonly droppedEventsCount: number;
  readonly droppedLinksCount: number;
}

/** OpenTelemetry's `ExportResult`: code 0 SUCCESS, 1 FAILED. */
export interface OtelExportResult {
  code: number;
  error?: Error;
}

/** The OpenTelemetry JS `SpanExporter` interface (sdk-trace-base 1.x and 2.x). */
export interface OtelSpanExporter {
  export(spans: OtelReadableSpan[], resultCallback: (result: OtelExportResult) => void): void;
  shutdown(): Promise<void>;
  forceFlush?(): Promise<void>;
}

/** Options of `fromOpenTelemetryExporter`. */
export interface FromOpenTelemetryOptions {
  /** The exporter's name in `tracer.stats().exporters` (default `opentelemetry:<class name>`). */
  name?: string;
}

const KIND: Record<SpanData['kind'], number> = { internal: 0, server: 1, client: 2, producer: 3, consumer: 4 };
const STATUS: Record<SpanData['status']['code'], 0 | 1 | 2> = { unset: 0, ok: 1, error: 2 };

/** An immutable W3C tracestate, as the OpenTelemetry API's `TraceState` behaves. */
class TraceStateImpl implements OtelTraceState {
  constructor(
    private readonly entries: ReadonlyArray<readonly [string, string]>,
    private readonly raw?: string,
  ) {}

  static from(header: string): TraceStateImpl {
    return new TraceStateImpl(parseTracestate(header) ?? [], header);
  }

  /** A set key moves to the front, as W3C Trace Context requires of an updated member. */
  set(key: string, value: string): OtelTraceState {
    return new TraceStateImpl([[key, value], ...this.entries.filter((e) => e[0] !== key)]);
  }

  unset(key: string): OtelTraceState {
    return new TraceStateImpl(this.entries.filter((e) => e[0] !== key));
  }

  get(key: string): string | undefined {
    for (const e of this.entries) if (e[0] === key) return e[1];
    return undefined;
  }

  serialize(): string {
    return this.raw ?? formatTracestate(this.entries);
  }
}

/** A resource as exporters see it: settled attributes, nothing pending. */
class ResourceImpl implements OtelResource {
  readonly asyncAttributesPending = false;
  readonly schemaUrl: string | undefined = undefined;
  constructor(readonly attributes: Attributes) {}

  waitForAsyncAttributes(): Promise<void> {
    return Promise.resolve();
  }

  /** Attributes of `other` win on a collision, as OpenTelemetry's `Resource.merge`. */
  merge(other: OtelResource | null): OtelResource {
    if (other === null || other === undefined) return this;
    return new ResourceImpl({ ...this.attributes, ...other.attributes });
  }

  getRawAttributes(): [string, Attributes[string]][] {
    return Object.entries(this.attributes);
  }
}

const SCOPE_OBJECT: OtelInstrumentationScope = Object.freeze({ name: SCOPE.name, version: SCOPE.version });

/** A duration between two epoch-millisecond times as HrTime, exact to the nanosecond. */
function hrDuration(startMs: number, endMs: number): OtelHrTime {
  const [sMs, sNs] = splitEpochMs(startMs);
  const [eMs, eNs] = splitEpochMs(endMs);
  const ns = Math.max(0, (eMs - sMs) * 1e6 + (eNs - sNs));
  const seconds = Math.floor(ns / 1e9);
  return [seconds, ns - seconds * 1e9];
}

class ReadableSpanImpl implements OtelReadableSpan {
  readonly name: string;
  readonly kind: number;
  readonly parentSpanContext: OtelSpanContext | undefined;
  readonly parentSpanId: string | undefined;
  readonly startTime: OtelHrTime;
  readonly endTime: OtelHrTime;
  readonly duration: OtelHrTime;
  readonly status: { code: 0 | 1 | 2; message?: string };
  readonly attributes: Attributes;
  readonly links: OtelReadableSpan['links'];
  readonly events: OtelReadableSpan['events'];
  readonly ended: boolean;
  /** Tracewire's scope, or the span's own when another library made it (through @tracewire/opentelemetry). */
  readonly instrumentationScope: OtelInstrumentationScope;
  readonly instrumentationLibrary: OtelInstrumentationScope;
  readonly droppedAttributesCount: number;
  readonly droppedEventsCount: number;
  readonly droppedLinksCount: number;
  private readonly context: OtelSpanContext;

  constructor(trace: FinishedTrace, span: SpanData, readonly resource: OtelResource) {
    this.name = span.name;
    this.kind = KIND[span.kind] ?? 0;
    const scope = span.instrumentationScope;
    this.instrumentationScope = scope !== undefined && scope !== null && typeof scope.name === 'string' ? scope : SCOPE_OBJECT;
    this.instrumentationLibrary = this.instrumentationScope;
    const traceState = span.traceState ? TraceStateImpl.from(span.traceState) : undefined;
    this.context = { traceId: span.traceId, spanId: span.spanId, traceFlags: span.traceFlags, isRemote: false, traceState };
    if (span.parentSpanId !== undefined) {
      // The tracer marks a parent extracted from a carrier (OTLP's flags and exporters read isRemote).
      const isRemote = span.parentIsRemote === true;
      this.parentSpanContext = { traceId: span.traceId, spanId: span.parentSpanId, traceFlags: span.traceFlags, isRemote, traceState };
    }
    this.parentSpanId = span.parentSpanId;
    this.startTime = hrTime(span.startTime);
    this.endTime = hrTime(span.endTime);
    this.duration = hrDuration(span.startTime, span.endTime);
    this.status = span.status.message !== undefined ? { code: STATUS[span.status.code] ?? 0, message: span.status.message } : { code: STATUS[span.status.code] ?? 0 };
    this.attributes = exportedAttributes(trace, span);
    this.links = span.links.map((l) => ({
      // A link records no flags of its own: NONE, as OpenTelemetry gives a context it cannot see.
      context: { traceId: l.traceId, spanId: l.spanId, traceFlags: 0 },
      attributes: l.attributes,
      droppedAttributesCount: 0,
    }));
    this.events = span.events.map((e) => ({ name: e.name, time: hrTime(e.time), attributes: e.attributes, droppedAttributesCount: 0 }));
    this.ended = span.ended;
    this.droppedAttributesCount = span.dropped.attributes;
    this.droppedEventsCount = span.dropped.events;
    this.droppedLinksCount = span.dropped.links;
  }

  spanContext(): OtelSpanContext {
    return this.context;
  }
}

const MAX_RESOURCES = 64;

/**
 * Builds the ReadableSpans of a batch. Traces with equal resources share one resource object:
 * OpenTelemetry's transformer groups spans by resource identity into one ResourceSpans.
 */
export class ReadableSpanBuilder {
  private readonly resources = new Map<string, OtelResource>();
  private readonly byObject = new WeakMap<Attributes, OtelResource>();

  resourceOf(attributes: Attributes): OtelResource {
    let resource = this.byObject.get(attributes);
    if (resource !== undefined) return resource;
    const key = JSON.stringify(attributes);
    resource = this.resources.get(key);
    if (resource === undefined) {
      resource = new ResourceImpl(attributes);
      if (this.resources.size >= MAX_RESOURCES) this.resources.delete(this.resources.keys().next().value as string);
      this.resources.set(key, resource);
    }
    this.byObject.set(attributes, resource);
    return resource;
  }

  build(traces: FinishedTrace[]): OtelReadableSpan[] {
    const out: OtelReadableSpan[] = [];
    for (const trace of traces) {
      const resource = this.resourceOf(trace.resource ?? {});
      for (const span of trace.spans) out.push(new ReadableSpanImpl(trace, span, resource));
    }
    return out;
  }
}

class OpenTelemetryExporterAdapter implements Exporter {
  private readonly builder = new ReadableSpanBuilder();

  constructor(
    readonly name: string,
    private readonly target: OtelSpanExporter,
  ) {}

  export(traces: FinishedTrace[]): Promise<void> {
    const spans = this.builder.build(traces);
    if (spans.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const done = (result: OtelExportResult): void => {
        if (settled) return;
        settled = true;
        if (result && result.code === 0) resolve();
        else reject(result && result.error instanceof Error ? result.error : new Error(`${this.name} reported FAILED`));
      };
      try {
        this.target.export(spans, done);
      } catch (err) {
        if (!settled) {
          settled = true;
          reject(err);
        }
      }
    });
  }

  async forceFlush(): Promise<void> {
    if (typeof this.target.forceFlush === 'function') await this.target.forceFlush();
  }

  async shutdown(): Promise<void> {
    await this.target.shutdown();
  }
}

/**
 * Wraps an OpenTelemetry JS `SpanExporter` as a Tracewire exporter. The tracer's pipeline batches
 * and times out its exports; a `FAILED` result (or a throw) rejects, so the batch is counted as
 * failed in `tracer.stats()`.
 */
export function fromOpenTelemetryExporter(spanExporter: OtelSpanExporter, options: FromOpenTelemetryOptions = {}): Exporter {
  if (spanExporter === null || typeof spanExporter !== 'object' || typeof spanExporter.export !== 'function' || typeof spanExporter.shutdown !== 'function') {
    throw new TypeError('fromOpenTelemetryExporter: "spanExporter" must be an OpenTelemetry SpanExporter (with export() and shutdown())');
  }
  if (options === null || typeof options !== 'object') throw new TypeError('fromOpenTelemetryExporter: options must be an object');
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name === '')) {
    throw new TypeError('fromOpenTelemetryExporter: "name" must be a non-empty string');
  }
  const className = (spanExporter as { constructor?: { name?: unknown } }).constructor?.name;
  const name = options.name ?? `opentelemetry:${typeof className === 'string' && className !== '' && className !== 'Object' ? className : 'SpanExporter'}`;
  return new OpenTelemetryExporterAdapter(name, spanExporter);
}
