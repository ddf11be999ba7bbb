/** What the protobuf and JSON encodings share: enum numbers, span flags, grouping, id checks. */
import { isValidSpanId, isValidTraceId } from '@tracewire/core';
import type { Attributes, FinishedTrace, SpanData, SpanKind, SpanLinkData, SpanStatusCode } from '@tracewire/core';

/** `Span.SpanKind` numbers. */
export const KIND_NUMBER: Readonly<Record<SpanKind, number>> = Object.freeze({
  internal: 1,
  server: 2,
  client: 3,
  producer: 4,
  consumer: 5,
});

/** `Status.StatusCode` numbers. */
export const STATUS_NUMBER: Readonly<Record<SpanStatusCode, number>> = Object.freeze({ unset: 0, ok: 1, error: 2 });

/** `SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK`: Tracewire always knows whether a parent is remote. */
const HAS_IS_REMOTE = 0x100;
/** `SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK`: the parent came from an incoming carrier. */
const IS_REMOTE = 0x200;

/** `Span.flags`: the W3C trace flags in the low byte, then whether the parent is remote. */
export function spanFlags(s: SpanData): number {
  return (s.traceFlags & 0xff) | HAS_IS_REMOTE | (s.parentIsRemote === true ? IS_REMOTE : 0);
}

/**
 * A link whose ids are not valid W3C ids cannot be sent: a backend rejects a whole request over one
 * malformed id. Such a link is left out and counted in `dropped_links_count`. Tracewire's own ids
 * are valid by construction; links take ids from user code.
 */
export function isExportableLink(l: SpanLinkData): boolean {
  return isValidTraceId(l.traceId) && isValidSpanId(l.spanId);
}

/**
 * Whether a number[] attribute goes out as doubles: when any element is not a safe integer, all
 * are, so the array stays homogeneous as OpenTelemetry requires (`[1, 2.5]` is two doubles).
 */
export function isDoubleArray(v: readonly unknown[]): boolean {
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x !== 'number') {
      if (x === null || x === undefined) continue;
      return false;
    }
    if (!Number.isSafeInteger(x)) return true;
  }
  return false;
}

/**
 * Traces grouped by resource, in first-seen order. The traces of one tracer share one resource
 * object, so a batch is normally one group; an exporter shared by two tracers gets two.
 */
export function groupByResource(traces: FinishedTrace[]): Map<Attributes, FinishedTrace[]> {
  const groups = new Map<Attributes, FinishedTrace[]>();
  for (let i = 0; i < traces.length; i++) {
    const t = traces[i];
    const r = t.resource;
    const g = groups.get(r);
    if (g === undefined) groups.set(r, [t]);
    else g.push(t);
  }
  return groups;
}

/** One OTLP `ScopeSpans`: an instrumentation scope and the spans (with their traces) it holds. */
export interface ScopeGroup {
  name: string;
  version: string | undefined;
  schemaUrl: string | undefined;
  traces: FinishedTrace[];
  spans: SpanData[];
}

/**
 * The spans of one resource's traces grouped by instrumentation scope (`SpanData.instrumentationScope`,
 * set on spans other libraries made through @tracewire/opentelemetry), Tracewire's own spans under
 * `defaultName`/`defaultVersion` first, the others in first-seen order. `undefined` when no span
 * has a scope of its own (the usual batch: one ScopeSpans, no grouping work).
 */
export function groupByScope(traces: FinishedTrace[], defaultName: string, defaultVersion: string): ScopeGroup[] | undefined {
  let any = false;
  for (let t = 0; t < traces.length && !any; t++) {
    const spans = traces[t].spans;
    for (let i = 0; i < spans.length; i++) {
      if (spans[i].instrumentationScope !== undefined) {
        any = true;
        break;
      }
    }
  }
  if (!any) return undefined;
  const own: ScopeGroup = { name: defaultName, version: defaultVersion, schemaUrl: undefined, traces: [], spans: [] };
  const groups: ScopeGroup[] = [own];
  const byKey = new Map<string, ScopeGroup>();
  for (let t = 0; t < traces.length; t++) {
    const trace = traces[t];
    const spans = trace.spans;
    for (let i = 0; i < spans.length; i++) {
      const s = spans[i];
      const scope = s.instrumentationScope;
      let g = own;
      if (scope !== undefined && scope !== null && typeof scope.name === 'string') {
        const key = `${scope.name}\u0000${scope.version ?? ''}\u0000${scope.schemaUrl ?? ''}`;
        let found = byKey.get(key);
        if (found === undefined) {
          found = { name: scope.name, version: scope.version, schemaUrl: scope.schemaUrl, traces: [], spans: [] };
          byKey.set(key, found);
          groups.push(found);
        }
        g = found;
      }
      g.traces.push(trace);
      g.spans.push(s);
    }
  }
  return own.spans.length > 0 ? groups : groups.slice(1);
}
