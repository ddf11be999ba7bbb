/**
 * A reader for OTLP/HTTP protobuf trace requests (`ExportTraceServiceRequest`,
 * opentelemetry/proto/collector/trace/v1/trace_service.proto and the messages it uses).
 *
 * Why our own and not protobufjs: the schema is small and frozen (OTLP 1.x only adds fields, and
 * unknown fields are skipped), a generic runtime would need the .proto files or a generated module
 * shipped with the package, and this keeps the viewer free of runtime dependencies. The tests check
 * it against payloads encoded by protobufjs over the official .proto files.
 */
import type { AttributeValue, Attributes } from '@tracewire/core';
import { bytesToHex, epochMsFromNanoParts, kindFromNumber, statusFromNumber, type ResourceBatch, type WireSpan } from './model';

/** Thrown for a body that is not a well-formed message. */
export class ProtobufError extends Error {}

// Wire types (protobuf encoding guide).
const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

const utf8 = new TextDecoder('utf-8');

class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint up to 32 bits of value (lengths, tags, enums, counts); higher bits are dropped. */
  uint32(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtobufError('truncated varint');
      const b = this.buf[this.pos++];
      if (shift < 32) result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result % 4294967296;
      shift += 7;
    }
    throw new ProtobufError('varint longer than 10 bytes');
  }

  /** A varint as a signed 64-bit value (int64, two's complement). */
  int64(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtobufError('truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return BigInt.asIntN(64, result);
      shift += 7n;
    }
    throw new ProtobufError('varint longer than 10 bytes');
  }

  bool(): boolean {
    return this.int64() !== 0n;
  }

  fixed32(): number {
    if (this.pos + 4 > this.end) throw new ProtobufError('truncated fixed32');
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16)) + b[p + 3] * 0x1000000;
  }

  /** fixed64 as [low, high] unsigned 32-bit halves. */
  fixed64(): [number, number] {
    const low = this.fixed32();
    const high = this.fixed32();
    return [low, high];
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new ProtobufError('truncated double');
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8);
    this.pos += 8;
    return view.getFloat64(0, true);
  }

  /** The bounds of a length-delimited field's payload; moves past it. */
  bytes(): [number, number] {
    const len = this.uint32();
    const start = this.pos;
    if (start + len > this.end) throw new ProtobufError('length past the end of its message');
    this.pos = start + len;
    return [start, start + len];
  }

  string(): string {
    const [s, e] = this.bytes();
    return utf8.decode(this.buf.subarray(s, e));
  }

  sub(): Reader {
    const [s, e] = this.bytes();
    return new Reader(this.buf, s, e);
  }

  skip(wireType: number): void {
    switch (wireType) {
      case VARINT:
        this.int64();
        return;
      case I64:
        if (this.pos + 8 > this.end) throw new ProtobufError('truncated fixed64');
        this.pos += 8;
        return;
      case LEN:
        this.bytes();
        return;
      case I32:
        if (this.pos + 4 > this.end) throw new ProtobufError('truncated fixed32');
        this.pos += 4;
        return;
      default:
        // Groups (3, 4) are not used by OTLP; anything else is not protobuf.
        throw new ProtobufError(`unsupported wire type ${wireType}`);
    }
  }

  /** Reads the next tag: [field number, wire type]. */
  tag(): [number, number] {
    const t = this.uint32();
    const field = Math.floor(t / 8);
    if (field === 0) throw new ProtobufError('field number 0');
    return [field, t & 7];
  }
}

// Nesting cap for AnyValue arrays and key-value lists: deeper values are kept as text, so a
// malicious body cannot exhaust the stack.
const MAX_DEPTH = 8;

type AnyValue = string | boolean | number | bigint | Uint8Array | AnyValue[] | { [key: string]: AnyValue } | undefined;

function readAnyValue(r: Reader, depth: number): AnyValue {
  let value: AnyValue;
  while (!r.done()) {
    const [field, wt] = r.tag();
    if (field === 1 && wt === LEN) value = r.string();
    else if (field === 2 && wt === VARINT) value = r.bool();
    else if (field === 3 && wt === VARINT) value = r.int64();
    else if (field === 4 && wt === I64) value = r.double();
    else if (field === 5 && wt === LEN) {
      const sub = r.sub();
      const values: AnyValue[] = [];
      if (depth < MAX_DEPTH) {
        while (!sub.done()) {
          const [f, w] = sub.tag();
          if (f === 1 && w === LEN) values.push(readAnyValue(sub.sub(), depth + 1));
          else sub.skip(w);
        }
      }
      value = values;
    } else if (field === 6 && wt === LEN) {
      const sub = r.sub();
      const obj: { [key: string]: AnyValue } = {};
      if (depth < MAX_DEPTH) {
        while (!sub.done()) {
          const [f, w] = sub.tag();
          if (f === 1 && w === LEN) {
            const [k, v] = readKeyValue(sub.sub(), depth + 1);
            if (k !== '') obj[k] = v;
          } else sub.skip(w);
        }
      }
      value = obj;
    } else if (field === 7 && wt === LEN) {
      const [s, e] = r.bytes();
      value = r.buf.slice(s, e);
    } else r.skip(wt);
  }
  return value;
}

function readKeyValue(r: Reader, depth: number): [string, AnyValue] {
  let key = '';
  let value: AnyValue;
  while (!r.done()) {
    const [field, wt] = r.tag();
    if (field === 1 && wt === LEN) key = r.string();
    else if (field === 2 && wt === LEN) value = readAnyValue(r.sub(), depth);
    else r.skip(wt);
  }
  return [key, value];
}

/** AnyValue → an attribute value the viewer can show; `undefined` for an empty value. */
export function toAttributeValue(v: AnyValue): AttributeValue | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return v;
  if (typeof v === 'bigint') return bigintValue(v);
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (Array.isArray(v)) {
    const items = v.map((x) => (typeof x === 'bigint' ? bigintValue(x) : x));
    const first = typeof items[0];
    // Homogeneous primitive arrays stay arrays, as the OpenTelemetry API allows; anything else is JSON.
    if (items.every((x) => typeof x === first && (first === 'string' || first === 'number' || first === 'boolean'))) {
      return items as string[] | number[] | boolean[];
    }
    return JSON.stringify(items, jsonReplacer);
  }
  return JSON.stringify(v, jsonReplacer);
}

/** An int64 as a number when exact, else as its decimal text. */
function bigintValue(v: bigint): number | string {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v.toString();
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return bigintValue(value);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return value;
}

function readAttribute(r: Reader, into: Attributes): void {
  const [key, any] = readKeyValue(r, 0);
  const value = toAttributeValue(any);
  if (key !== '' && value !== undefined) into[key] = value;
}

function readEvent(r: Reader): WireSpan['events'][number] {
  let time: [number, number] = [0, 0];
  let name = '';
  const attributes: Attributes = {};
  while (!r.done()) {
    const [field, wt] = r.tag();
    if (field === 1 && wt === I64) time = r.fixed64();
    else if (field === 2 && wt === LEN) name = r.string();
    else if (field === 3 && wt === LEN) readAttribute(r.sub(), attributes);
    else r.skip(wt);
  }
  return { name, time: epochMsFromNanoParts(time[0], time[1]), attributes };
}

function readLink(r: Reader): WireSpan['links'][number] {
  let traceId = '';
  let spanId = '';
  let traceState: string | undefined;
  const attributes: Attributes = {};
  while (!r.done()) {
    const [field, wt] = r.tag();
    if (field === 1 && wt === LEN) traceId = hexOf(r);
    else if (field === 2 && wt === LEN) spanId = hexOf(r);
    else if (field === 3 && wt === LEN) traceState = r.string() || undefined;
    else if (field === 4 && wt === LEN) readAttribute(r.sub(), attributes);
    else r.skip(wt);
  }
  return { traceId, spanId, attributes, ...(traceState ? { traceState } : {}) };
}

function hexOf(r: Reader): string {
  const [s, e] = r.bytes();
  return bytesToHex(r.buf, s, e);
}

function readStatus(r: Reader): WireSpan['status'] {
  let code = 0;
  let message: string | undefined;
  while (!r.done()) {
    const [field, wt] = r.tag();
    if (field === 2 && wt === LEN) message = r.string();
    else if (field === 3 && wt === VARINT) code = r.uint32();
    else r.skip(wt);
  }
  const status: WireSpan['status'] = { code: statusFromNumber(code) };
  if (message) status.message = message;
  return status;
}

function readSpan(r: Reader): WireSpan {
  const span: WireSpan = {
    traceId: '',
    spanId: '',
    name: '',
    kind: 'internal',
    startTime: 0,
    endTime: 0,
    status: { code: 'unset' },
    attributes: {},
    events: [],
    links: [],
    flags: 0,
    dropped: { attributes: 0, events: 0, links: 0 },
  };
  let start: [number, number] = [0, 0];
  let end: [number, number] = [0, 0];
  while (!r.done()) {
    const [field, wt] = r.tag();
    switch (field) {
      case 1:
        if (wt === LEN) span.traceId = hexOf(r);
        else r.skip(wt);
        break;
      case 2:
        if (wt === LEN) span.spanId = hexOf(r);
        else r.skip(wt);
        break;
      case 3:
        if (wt === LEN) span.traceState = r.string() || undefined;
        else r.skip(wt);
        break;
      case 4:
        if (wt === LEN) span.parentSpanId = hexOf(r) || undefined;
        else r.skip(wt);
        break;
      case 5:
        if (wt === LEN) span.name = r.string();
        else r.skip(wt);
        break;
      case 6:
        if (wt === VARINT) span.kind = kindFromNumber(r.uint32());
        else r.skip(wt);
        break;
      case 7:
        if (wt === I64) start = r.fixed64();
        else r.skip(wt);
        break;
      case 8:
        if (wt === I64) end = r.fixed64();
        else r.skip(wt);
        break;
      case 9:
        if (wt === LEN) readAttribute(r.sub(), span.attributes);
        else r.skip(wt);
        break;
      case 10:
        if (wt === VARINT) span.dropped.attributes = r.uint32();
        else r.skip(wt);
        break;
      case 11:
        if (wt === LEN) span.events.push(readEvent(r.sub()));
        else r.skip(wt);
        break;
      case 12:
        if (wt === VARINT) span.dropped.events = r.uint32();
        else r.skip(wt);
        break;
      case 13:
        if (wt === LEN) span.links.push(readLink(r.sub()));
        else r.skip(wt);
        break;
      case 14:
        if (wt === VARINT) span.dropped.links = r.uint32();
        else r.skip(wt);
        break;
      case 15:
        if (wt === LEN) span.status = readStatus(r.sub());
        else r.skip(wt);
        break;
      case 16:
        if (wt === I32) span.flags = r.fixed32();
        else r.skip(wt);
        break;
      default:
        r.skip(wt);
    }
  }
  span.startTime = epochMsFromNanoParts(start[0], start[1]);
  span.endTime = epochMsFromNanoParts(end[0], end[1]);
  return span;
}

function readResource(r: Reader): Attributes {
  const attributes: Attributes = {};
  while (!r.done()) {
    const [field, wt] = r.tag();
    if (field === 1 && wt === LEN) readAttribute(r.sub(), attributes);
    else r.skip(wt);
  }
  return attributes;
}

function readScopeSpans(r: Reader, into: WireSpan[]): void {
  let scope: { name: string; version?: string } | undefined;
  const start = into.length;
  while (!r.done()) {
    const [field, wt] = r.tag();
    if (field === 1 && wt === LEN) {
      const s = r.sub();
      scope = { name: '' };
      while (!s.done()) {
        const [f, w] = s.tag();
        if (f === 1 && w === LEN) scope.name = s.string();
        else if (f === 2 && w === LEN) scope.version = s.string();
        else s.skip(w);
      }
    } else if (field === 2 && wt === LEN) into.push(readSpan(r.sub()));
    else r.skip(wt);
  }
  if (scope && scope.name !== '') for (let i = start; i < into.length; i++) into[i].scope = scope;
}

/** Decodes an `ExportTraceServiceRequest`. Throws `ProtobufError` on malformed input. */
export function decodeTraceRequestProtobuf(body: Uint8Array): ResourceBatch[] {
  const r = new Reader(body, 0, body.length);
  const batches: ResourceBatch[] = [];
  while (!r.done()) {
    const [field, wt] = r.tag();
    if (field !== 1 || wt !== LEN) {
      r.skip(wt);
      continue;
    }
    const rs = r.sub();
    const batch: ResourceBatch = { resource: {}, spans: [] };
    while (!rs.done()) {
      const [f, w] = rs.tag();
      if (f === 1 && w === LEN) batch.resource = readResource(rs.sub());
      else if (f === 2 && w === LEN) readScopeSpans(rs.sub(), batch.spans);
      else rs.skip(w);
    }
    batches.push(batch);
  }
  return batches;
}

/** Encodes `ExportTraceServiceResponse` (empty, or with `partial_success`). */
export function encodeTraceResponseProtobuf(rejectedSpans: number, errorMessage: string): Buffer {
  if (rejectedSpans === 0 && errorMessage === '') return Buffer.alloc(0);
  const inner: number[] = [];
  if (rejectedSpans > 0) {
    inner.push(0x08); // field 1, varint
    pushVarint(inner, rejectedSpans);
  }
  if (errorMessage !== '') {
    const text = Buffer.from(errorMessage, 'utf8');
    inner.push(0x12); // field 2, length-delimited
    pushVarint(inner, text.length);
    for (const b of text) inner.push(b);
  }
  const out: number[] = [0x0a]; // field 1 (partial_success), length-delimited
  pushVarint(out, inner.length);
  return Buffer.from([...out, ...inner]);
}

/** Encodes a `google.rpc.Status` (code, message), the body OTLP/HTTP returns with an error status. */
export function encodeRpcStatusProtobuf(code: number, message: string): Buffer {
  const text = Buffer.from(message, 'utf8');
  const out: number[] = [0x08];
  pushVarint(out, code);
  out.push(0x12);
  pushVarint(out, text.length);
  return Buffer.concat([Buffer.from(out), text]);
}

function pushVarint(out: number[], n: number): void {
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

/** What the metrics reader (./metrics.ts) shares with this one. */
export { Reader, readAttribute, readResource, VARINT, I64, LEN, I32 };
