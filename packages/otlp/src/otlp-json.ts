/**
 * FinishedTrace[] -> OTLP/JSON `ExportTraceServiceRequest`: the protobuf JSON mapping with OTLP's
 * own rules (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding): lowerCamelCase
 * field names, trace and span ids as hex (not base64), enums as integers, 64-bit integers as
 * decimal strings.
 */
import type { Attributes, FinishedTrace, SpanData } from '@tracewire/core';
import { SCOPE, exportMarks, unixNanosString } from './common';
import { groupByResource, groupByScope, isDoubleArray, isExportableLink, spanFlags, KIND_NUMBER, STATUS_NUMBER } from './otlp-mapping';

type JsonAnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number | string }
  | { arrayValue: { values: JsonAnyValue[] } }
  | Record<string, never>;

interface JsonKeyValue {
  key: string;
  value: JsonAnyValue;
}

function double(v: number): JsonAnyValue {
  // JSON has no NaN or Infinity: the protobuf JSON mapping spells them as strings.
  return { doubleValue: Number.isFinite(v) ? v : String(v) };
}

function anyValue(v: unknown): JsonAnyValue {
  switch (typeof v) {
    case 'string':
      return { stringValue: v };
    case 'boolean':
      return { boolValue: v };
    case 'number':
      if (Number.isSafeInteger(v)) return { intValue: String(v) };
      return double(v);
    default:
      if (Array.isArray(v)) {
        const doubles = isDoubleArray(v);
        return { arrayValue: { values: v.map((x: unknown) => (doubles && typeof x === 'number' ? double(x) : anyValue(x))) } };
      }
      return {}; // null element of an array: an AnyValue with no value set
  }
}

function keyValues(attrs: Attributes | undefined, out: JsonKeyValue[] = []): JsonKeyValue[] {
  if (!attrs) return out;
  for (const key in attrs) {
    const v = attrs[key];
    if (v === undefined || v === null) continue;
    out.push({ key, value: anyValue(v) });
  }
  return out;
}

function span(trace: FinishedTrace, s: SpanData): Record<string, unknown> {
  const attributes = keyValues(s.attributes);
  const marks = exportMarks(trace, s);
  if (marks !== undefined) keyValues(marks, attributes);
  let droppedLinks = s.dropped ? s.dropped.links : 0;
  const links: Record<string, unknown>[] = [];
  for (const l of s.links) {
    if (!isExportableLink(l)) {
      droppedLinks++;
      continue;
    }
    links.push({ traceId: l.traceId, spanId: l.spanId, attributes: keyValues(l.attributes) });
  }
  const out: Record<string, unknown> = {
    traceId: s.traceId,
    spanId: s.spanId,
  };
  if (s.traceState) out.traceState = s.traceState;
  if (s.parentSpanId) out.parentSpanId = s.parentSpanId;
  out.flags = spanFlags(s);
  out.name = s.name;
  out.kind = KIND_NUMBER[s.kind] ?? 1;
  out.startTimeUnixNano = unixNanosString(s.startTime);
  out.endTimeUnixNano = unixNanosString(s.endTime);
  out.attributes = attributes;
  if (s.dropped && s.dropped.attributes > 0) out.droppedAttributesCount = s.dropped.attributes;
  out.events = s.events.map((e) => ({
    timeUnixNano: unixNanosString(e.time),
    name: e.name,
    attributes: keyValues(e.attributes),
  }));
  if (s.dropped && s.dropped.events > 0) out.droppedEventsCount = s.dropped.events;
  out.links = links;
  if (droppedLinks > 0) out.droppedLinksCount = droppedLinks;
  const status: Record<string, unknown> = {};
  const code = s.status ? STATUS_NUMBER[s.status.code] ?? 0 : 0;
  if (s.status && s.status.message) status.message = s.status.message;
  if (code !== 0) status.code = code;
  if (code !== 0 || status.message !== undefined) out.status = status;
  return out;
}

/** Encodes `traces` as one OTLP/JSON `ExportTraceServiceRequest` (UTF-8 bytes). */
export function encodeTraceRequestJson(traces: FinishedTrace[], scopeName: string = SCOPE.name, scopeVersion: string = SCOPE.version): Buffer {
  const resourceSpans: unknown[] = [];
  for (const [resource, group] of groupByResource(traces)) {
    const scopes = groupByScope(group, scopeName, scopeVersion);
    let scopeSpans: unknown[];
    if (scopes === undefined) {
      const spans: unknown[] = [];
      for (const trace of group) for (const s of trace.spans) spans.push(span(trace, s));
      scopeSpans = [{ scope: { name: scopeName, version: scopeVersion }, spans }];
    } else {
      // Spans other libraries made (through @tracewire/opentelemetry): one ScopeSpans per scope.
      scopeSpans = scopes.map((g) => {
        const out: Record<string, unknown> = { scope: g.version !== undefined ? { name: g.name, version: g.version } : { name: g.name }, spans: g.spans.map((s, i) => span(g.traces[i], s)) };
        if (g.schemaUrl !== undefined) out.schemaUrl = g.schemaUrl;
        return out;
      });
    }
    resourceSpans.push({ resource: { attributes: keyValues(resource) }, scopeSpans });
  }
  return Buffer.from(JSON.stringify({ resourceSpans }), 'utf8');
}
