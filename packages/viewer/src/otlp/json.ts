/**
 * A reader for OTLP/HTTP JSON trace requests (the protobuf messages in the JSON mapping the OTLP
 * specification defines: lowerCamelCase keys, trace and span ids as hex, 64-bit integers as
 * decimal strings or numbers, enums as integers). Lenient where senders differ in practice: enum
 * names, snake_case keys and base64 ids are read too. Anything not shaped like a trace request is
 * skipped, not fatal; a body that is not JSON at all is.
 */
import type { AttributeValue, Attributes } from '@tracewire/core';
import { bytesToHex, epochMsFromNanos, kindFromNumber, statusFromNumber, type ResourceBatch, type WireSpan } from './model';

/** Thrown for a body that is not JSON, or whose top level is not an object. */
export class JsonBodyError extends Error {}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const arr = (v: unknown): Json[] => (Array.isArray(v) ? v : []);

/** Reads `camelCase`, falling back to `snake_case`. */
function field(o: Obj, camel: string): Json | undefined {
  if (camel in o) return o[camel];
  const snake = camel.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
  return o[snake];
}

const MAX_DEPTH = 8;

function anyValue(v: unknown, depth: number): unknown {
  if (!isObj(v)) return undefined;
  const s = field(v, 'stringValue');
  if (typeof s === 'string') return s;
  const b = field(v, 'boolValue');
  if (typeof b === 'boolean') return b;
  const i = field(v, 'intValue');
  if (i !== undefined) return intValue(i);
  const d = field(v, 'doubleValue');
  if (typeof d === 'number') return d;
  if (typeof d === 'string') return d === 'NaN' ? NaN : d === 'Infinity' ? Infinity : d === '-Infinity' ? -Infinity : Number(d);
  const a = field(v, 'arrayValue');
  if (isObj(a)) return depth < MAX_DEPTH ? arr(a.values).map((x) => anyValue(x, depth + 1)) : [];
  const kv = field(v, 'kvlistValue');
  if (isObj(kv)) {
    const out: Record<string, unknown> = {};
    if (depth < MAX_DEPTH) {
      for (const e of arr(kv.values)) {
        if (isObj(e) && typeof e.key === 'string' && e.key !== '') out[e.key] = anyValue(e.value, depth + 1);
      }
    }
    return out;
  }
  const bytes = field(v, 'bytesValue');
  if (typeof bytes === 'string') return bytes; // already base64, as the protobuf reader shows bytes
  return undefined;
}

function intValue(v: Json): number | string | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : undefined;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : v;
  }
  return undefined;
}

function toAttributeValue(v: unknown): AttributeValue | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return v;
  if (Array.isArray(v)) {
    const first = typeof v[0];
    if (v.every((x) => typeof x === first && (first === 'string' || first === 'number' || first === 'boolean'))) {
      return v as string[] | number[] | boolean[];
    }
  }
  return JSON.stringify(v);
}

function attributes(list: unknown): Attributes {
  const out: Attributes = {};
  for (const kv of arr(list)) {
    if (!isObj(kv) || typeof kv.key !== 'string' || kv.key === '') continue;
    const value = toAttributeValue(anyValue(kv.value, 0));
    if (value !== undefined) out[kv.key] = value;
  }
  return out;
}

/** An id as lowercase hex: hex as the spec says, or base64 (the protobuf JSON default) when it decodes to `bytes` bytes. */
function id(v: unknown, bytes: number): string {
  if (typeof v !== 'string' || v === '') return '';
  if (v.length === bytes * 2 && /^[0-9a-fA-F]+$/.test(v)) return v.toLowerCase();
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(v)) {
    const buf = Buffer.from(v, 'base64');
    if (buf.length === bytes) return bytesToHex(buf);
  }
  return v; // kept as given: the store rejects and counts it
}

function nanos(v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return epochMsFromNanos(BigInt(Math.trunc(v)));
  if (typeof v === 'string' && /^\d+$/.test(v)) return epochMsFromNanos(BigInt(v));
  return 0;
}

function enumNumber(v: unknown, names: string[]): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const i = names.indexOf(v);
    if (i !== -1) return i;
    if (/^\d+$/.test(v)) return Number(v);
  }
  return 0;
}

const KIND_NAMES = ['SPAN_KIND_UNSPECIFIED', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT', 'SPAN_KIND_PRODUCER', 'SPAN_KIND_CONSUMER'];
const STATUS_NAMES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];

function count(v: unknown): number {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : 0;
}

function span(s: Obj, scope: WireSpan['scope']): WireSpan {
  const status = isObj(s.status) ? s.status : {};
  const message = status.message;
  const out: WireSpan = {
    traceId: id(field(s, 'traceId'), 16),
    spanId: id(field(s, 'spanId'), 8),
    name: typeof s.name === 'string' ? s.name : '',
    kind: kindFromNumber(enumNumber(s.kind, KIND_NAMES)),
    startTime: nanos(field(s, 'startTimeUnixNano')),
    endTime: nanos(field(s, 'endTimeUnixNano')),
    status: { code: statusFromNumber(enumNumber(status.code, STATUS_NAMES)), ...(typeof message === 'string' && message !== '' ? { message } : {}) },
    attributes: attributes(s.attributes),
    events: arr(s.events)
      .filter(isObj)
      .map((e) => ({ name: typeof e.name === 'string' ? e.name : '', time: nanos(field(e, 'timeUnixNano')), attributes: attributes(e.attributes) })),
    links: arr(s.links)
      .filter(isObj)
      .map((l) => ({ traceId: id(field(l, 'traceId'), 16), spanId: id(field(l, 'spanId'), 8), attributes: attributes(l.attributes) })),
    flags: count(s.flags),
    dropped: {
      attributes: count(field(s, 'droppedAttributesCount')),
      events: count(field(s, 'droppedEventsCount')),
      links: count(field(s, 'droppedLinksCount')),
    },
  };
  const parent = id(field(s, 'parentSpanId'), 8);
  if (parent !== '') out.parentSpanId = parent;
  const ts = field(s, 'traceState');
  if (typeof ts === 'string' && ts !== '') out.traceState = ts;
  if (scope) out.scope = scope;
  return out;
}

/** Decodes an OTLP/JSON `ExportTraceServiceRequest` body. Throws `JsonBodyError` when it is not a JSON object. */
export function decodeTraceRequestJson(text: string): ResourceBatch[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new JsonBodyError(`body is not JSON: ${(err as Error).message}`);
  }
  if (!isObj(body)) throw new JsonBodyError('body is not a JSON object');
  const batches: ResourceBatch[] = [];
  for (const rs of arr(field(body, 'resourceSpans'))) {
    if (!isObj(rs)) continue;
    const resource = isObj(rs.resource) ? attributes(rs.resource.attributes) : {};
    const spans: WireSpan[] = [];
    for (const ss of arr(field(rs, 'scopeSpans'))) {
      if (!isObj(ss)) continue;
      const sc = isObj(ss.scope) && typeof ss.scope.name === 'string' && ss.scope.name !== ''
        ? { name: ss.scope.name, ...(typeof ss.scope.version === 'string' && ss.scope.version ? { version: ss.scope.version } : {}) }
        : undefined;
      for (const s of arr(ss.spans)) if (isObj(s)) spans.push(span(s, sc));
    }
    batches.push({ resource, spans });
  }
  return batches;
}

/** What the metrics reader (./metrics.ts) shares with this one. */
export { field, attributes as jsonAttributes, nanos as jsonNanos, enumNumber, isObj, arr };
