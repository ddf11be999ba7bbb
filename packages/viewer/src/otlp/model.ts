/**
 * What the OTLP decoders produce (the same for protobuf and JSON), and the conversion to
 * Tracewire's `SpanData`, so spans from OTLP, from the in-process exporter and from trace files are
 * stored, merged and shown alike.
 */
import type { Attributes, SpanData, SpanKind, SpanStatusCode } from '@tracewire/core';

/** A span as OTLP carries it, times already in epoch milliseconds. */
export interface WireSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  name: string;
  kind: SpanKind;
  startTime: number;
  endTime: number;
  status: { code: SpanStatusCode; message?: string };
  attributes: Attributes;
  events: { name: string; time: number; attributes: Attributes }[];
  links: { traceId: string; spanId: string; traceState?: string; attributes: Attributes }[];
  /** OTLP span flags: trace flags in bits 0-7, 0x100 "remote-ness known", 0x200 "parent is remote". */
  flags: number;
  scope?: { name: string; version?: string };
  dropped: { attributes: number; events: number; links: number };
}

/** The spans of one resource in one request. */
export interface ResourceBatch {
  resource: Attributes;
  spans: WireSpan[];
}

const KINDS: SpanKind[] = ['internal', 'internal', 'server', 'client', 'producer', 'consumer'];
const STATUS: SpanStatusCode[] = ['unset', 'ok', 'error'];

/** OTLP `SpanKind` number → kind (UNSPECIFIED and unknown values read as internal). */
export function kindFromNumber(n: number): SpanKind {
  return KINDS[n] ?? 'internal';
}

/** OTLP `Status.StatusCode` number → code (unknown values read as unset). */
export function statusFromNumber(n: number): SpanStatusCode {
  return STATUS[n] ?? 'unset';
}

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));

/** Lowercase hex of `buf[start, end)`. */
export function bytesToHex(buf: Uint8Array, start = 0, end = buf.length): string {
  let s = '';
  for (let i = start; i < end; i++) s += HEX[buf[i]];
  return s;
}

/**
 * Unix nanoseconds given as two unsigned 32-bit halves → epoch milliseconds with the fraction a
 * double can hold (about 0.2 µs today). Exact integer arithmetic in bigint, one rounding at the end.
 */
export function epochMsFromNanoParts(low: number, high: number): number {
  if (low === 0 && high === 0) return 0;
  const nanos = (BigInt(high) << 32n) | BigInt(low);
  return epochMsFromNanos(nanos);
}

/** Unix nanoseconds (bigint) → epoch milliseconds. */
export function epochMsFromNanos(nanos: bigint): number {
  if (nanos <= 0n) return 0;
  const whole = nanos / 1000000n;
  const rest = nanos - whole * 1000000n;
  return Number(whole) + Number(rest) / 1e6;
}

const ID32 = /^[0-9a-f]{32}$/;
const ID16 = /^[0-9a-f]{16}$/;
const ZERO32 = '0'.repeat(32);
const ZERO16 = '0'.repeat(16);

/** A 32-hex, non-zero trace id. */
export function isTraceId(id: unknown): id is string {
  return typeof id === 'string' && ID32.test(id) && id !== ZERO32;
}

/** A 16-hex, non-zero span id. */
export function isSpanId(id: unknown): id is string {
  return typeof id === 'string' && ID16.test(id) && id !== ZERO16;
}

/**
 * The mark Tracewire's OTLP exporter puts on a span exported while still open (its `ended: false`);
 * read back so such spans show as open here too.
 */
export const INCOMPLETE_ATTRIBUTE = 'tracewire.span.incomplete';

/**
 * The span's attributes with its instrumentation scope among them, as Jaeger shows
 * otel.library.name: the page lists attributes, and the scope says which library made the span.
 */
export function withScopeAttributes(attributes: SpanData['attributes'], scope: { name: string; version?: string }): SpanData['attributes'] {
  const out: SpanData['attributes'] = { ...attributes, 'otel.scope.name': scope.name };
  if (scope.version) out['otel.scope.version'] = scope.version;
  return out;
}

/** OTLP span → `SpanData`; `undefined` when its ids are not valid (the span cannot be placed). */
export function wireToSpanData(w: WireSpan): SpanData | undefined {
  if (!isTraceId(w.traceId) || !isSpanId(w.spanId)) return undefined;
  let attributes = w.attributes;
  let ended = true;
  if (attributes[INCOMPLETE_ATTRIBUTE] === true) {
    ended = false;
    attributes = { ...attributes };
    delete attributes[INCOMPLETE_ATTRIBUTE];
  }
  if (w.scope !== undefined) attributes = withScopeAttributes(attributes, w.scope);
  const span: SpanData = {
    traceId: w.traceId,
    spanId: w.spanId,
    name: w.name,
    kind: w.kind,
    startTime: w.startTime,
    endTime: Math.max(w.endTime, w.startTime),
    ended,
    status: w.status,
    attributes,
    events: w.events,
    links: w.links.map((l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: l.attributes })),
    traceFlags: w.flags & 0xff,
    dropped: w.dropped,
  };
  if (isSpanId(w.parentSpanId)) span.parentSpanId = w.parentSpanId;
  if (w.traceState) span.traceState = w.traceState;
  if ((w.flags & 0x100) !== 0) span.parentIsRemote = (w.flags & 0x200) !== 0;
  return span;
}
