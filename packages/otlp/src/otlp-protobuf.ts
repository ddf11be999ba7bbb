/**
 * FinishedTrace[] -> OTLP `ExportTraceServiceRequest`, protobuf wire format, written directly (no
 * intermediate objects). Field numbers from opentelemetry-proto:
 * collector/trace/v1/trace_service.proto, trace/v1/trace.proto, common/v1/common.proto.
 */
import type { AttributeValue, Attributes, FinishedTrace, SpanData, SpanLinkData } from '@tracewire/core';
import { SCOPE, exportMarks } from './common';
import { ProtoWriter } from './proto-writer';
import { groupByResource, groupByScope, isDoubleArray, isExportableLink, spanFlags, KIND_NUMBER, STATUS_NUMBER } from './otlp-mapping';

const VARINT = 0;
const I64 = 1;
const I32 = 5;

function double(w: ProtoWriter, v: number): void {
  w.tag(4, I64);
  w.double(v);
}

function anyValue(w: ProtoWriter, v: unknown): void {
  switch (typeof v) {
    case 'string':
      w.string(1, v);
      return;
    case 'boolean':
      w.tag(2, VARINT);
      w.uint32(v ? 1 : 0);
      return;
    case 'number':
      if (Number.isSafeInteger(v)) {
        w.tag(3, VARINT);
        w.int64(v);
      } else double(w, v);
      return;
    default:
      if (Array.isArray(v)) {
        const arr = w.begin(5, 1); // ArrayValue
        const doubles = isDoubleArray(v);
        for (let i = 0; i < v.length; i++) {
          const el = w.begin(1, 1); // AnyValue; null elements stay empty (no value set)
          const x: unknown = v[i];
          if (doubles && typeof x === 'number') double(w, x);
          else anyValue(w, x);
          w.end(el, 1);
        }
        w.end(arr, 1);
      }
  }
}

function keyValues(w: ProtoWriter, field: number, attrs: Attributes): void {
  for (const key in attrs) {
    const v: AttributeValue | undefined = attrs[key];
    if (v === undefined || v === null) continue;
    // Fast paths for the usual attribute (short ASCII key, short ASCII string or small int).
    if (typeof v === 'string') {
      if (w.keyValueAscii(field, key, v)) continue;
    } else if (typeof v === 'number' && Number.isInteger(v)) {
      if (w.keyValueSmallInt(field, key, v)) continue;
    }
    const kv = w.begin(field, 1); // KeyValue
    w.string(1, key);
    const val = w.begin(2, 1); // AnyValue
    anyValue(w, v);
    w.end(val, 1);
    w.end(kv, 1);
  }
}

function link(w: ProtoWriter, l: SpanLinkData): void {
  const m = w.begin(13, 1);
  w.hexBytes(1, l.traceId, 16);
  w.hexBytes(2, l.spanId, 8);
  if (l.attributes) keyValues(w, 4, l.attributes);
  w.end(m, 1);
}

function span(w: ProtoWriter, trace: FinishedTrace, s: SpanData): void {
  const m = w.begin(2, 2); // ScopeSpans.spans
  w.hexBytes(1, s.traceId, 16);
  w.hexBytes(2, s.spanId, 8);
  if (s.traceState) w.string(3, s.traceState);
  if (s.parentSpanId) w.hexBytes(4, s.parentSpanId, 8);
  w.string(5, s.name);
  const kind = KIND_NUMBER[s.kind] ?? 1;
  w.tag(6, VARINT);
  w.uint32(kind);
  w.tag(7, I64);
  w.unixNanos(s.startTime);
  w.tag(8, I64);
  w.unixNanos(s.endTime);
  keyValues(w, 9, s.attributes);
  const marks = exportMarks(trace, s);
  if (marks !== undefined) keyValues(w, 9, marks);
  const dropped = s.dropped;
  if (dropped && dropped.attributes > 0) {
    w.tag(10, VARINT);
    w.uint32(dropped.attributes);
  }
  const events = s.events;
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    const em = w.begin(11, 1);
    w.tag(1, I64);
    w.unixNanos(e.time);
    w.string(2, e.name);
    if (e.attributes) keyValues(w, 3, e.attributes);
    w.end(em, 1);
  }
  if (dropped && dropped.events > 0) {
    w.tag(12, VARINT);
    w.uint32(dropped.events);
  }
  let droppedLinks = dropped ? dropped.links : 0;
  const links = s.links;
  for (let i = 0; i < links.length; i++) {
    if (isExportableLink(links[i])) link(w, links[i]);
    else droppedLinks++;
  }
  if (droppedLinks > 0) {
    w.tag(14, VARINT);
    w.uint32(droppedLinks);
  }
  const status = s.status;
  const code = status ? STATUS_NUMBER[status.code] ?? 0 : 0;
  if (code !== 0 || (status && status.message)) {
    const st = w.begin(15, 1);
    if (status.message) w.string(2, status.message);
    if (code !== 0) {
      w.tag(3, VARINT);
      w.uint32(code);
    }
    w.end(st, 1);
  }
  // flags = 16: two tag bytes (field numbers from 16 on).
  w.tag(16, I32);
  w.fixed32(spanFlags(s));
  w.end(m, 2);
}

const writer = new ProtoWriter();

/**
 * Encodes `traces` as one OTLP `ExportTraceServiceRequest`: one ResourceSpans per distinct
 * resource, one ScopeSpans (`@tracewire/core` and its version) in each, and one more per
 * instrumentation scope of spans other libraries made (`SpanData.instrumentationScope`).
 */
export function encodeTraceRequest(traces: FinishedTrace[], scopeName: string = SCOPE.name, scopeVersion: string = SCOPE.version): Buffer {
  const w = writer;
  w.pos = 0;
  try {
    for (const [resource, group] of groupByResource(traces)) {
      const rs = w.begin(1, 3); // ExportTraceServiceRequest.resource_spans
      const r = w.begin(1, 2); // ResourceSpans.resource
      keyValues(w, 1, resource);
      w.end(r, 2);
      const scopes = groupByScope(group, scopeName, scopeVersion);
      if (scopes === undefined) {
        const ss = w.begin(2, 3); // ResourceSpans.scope_spans
        const sc = w.begin(1, 1); // ScopeSpans.scope
        w.string(1, scopeName);
        w.string(2, scopeVersion);
        w.end(sc, 1);
        for (let t = 0; t < group.length; t++) {
          const trace = group[t];
          const spans = trace.spans;
          for (let i = 0; i < spans.length; i++) span(w, trace, spans[i]);
        }
        w.end(ss, 3);
      } else {
        // Spans other libraries made (through @tracewire/opentelemetry): one ScopeSpans per scope.
        for (let g = 0; g < scopes.length; g++) {
          const scope = scopes[g];
          const ss = w.begin(2, 3);
          const sc = w.begin(1, 1);
          w.string(1, scope.name);
          if (scope.version !== undefined) w.string(2, scope.version);
          w.end(sc, 1);
          for (let i = 0; i < scope.spans.length; i++) span(w, scope.traces[i], scope.spans[i]);
          if (scope.schemaUrl !== undefined) w.string(3, scope.schemaUrl); // ScopeSpans.schema_url
          w.end(ss, 3);
        }
      }
      w.end(rs, 3);
    }
    return w.finish();
  } catch (err) {
    w.pos = 0;
    throw err;
  }
}
