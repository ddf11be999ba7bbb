/**
 * The viewer's bounded in-memory trace store. Spans arrive in pieces: each service exports its own
 * local trace, late spans come as follow-up fragments, an open span may come first as incomplete
 * and again once ended. All of them are merged by trace id and span id. The store keeps at most
 * `maxTraces` traces; the one that arrived first is evicted first, and every eviction and every
 * dropped span is counted.
 */
import type { Attributes, SpanData } from '@tracewire/core';
import { isSpanId, isTraceId } from './otlp/model';
import { analyzeTrace, matches, totalsOf, type TraceAnalysis } from './summary';
import type { TraceDetail, TraceQuery, TraceSummary, TraceTotals, ViewerSpan, ViewerStats } from './types';

/** Limits of a `TraceStore`. */
export interface TraceStoreOptions {
  maxTraces?: number;
  maxSpansPerTrace?: number;
}

interface Entry {
  traceId: string;
  spans: Map<string, ViewerSpan>;
  /** Spans in start order, rebuilt lazily. */
  sorted: ViewerSpan[] | undefined;
  analysis: TraceAnalysis | undefined;
}

/** What one `add` did. */
export interface AddResult {
  /** Spans stored (new or replacing an earlier copy). */
  accepted: number;
  /** Spans refused: invalid ids, or the trace is full. */
  rejected: number;
  /** Trace ids that changed. */
  traceIds: string[];
}

export const DEFAULT_MAX_TRACES = 1000;
export const DEFAULT_MAX_SPANS_PER_TRACE = 10000;
/** Default and largest page of `list`. */
export const DEFAULT_LIMIT = 100;

/** `service.name` of a resource, or OpenTelemetry's fallback. */
export function serviceOf(resource: Attributes | undefined): string {
  const name = resource?.['service.name'];
  return typeof name === 'string' && name !== '' ? name : 'unknown_service';
}

function positiveInt(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`createViewer: option "${name}" must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/** Bounded store of traces, merged from fragments and services. */
export class TraceStore {
  readonly maxTraces: number;
  readonly maxSpansPerTrace: number;
  // A Map iterates in insertion order: its first entry is the oldest trace.
  private readonly traces = new Map<string, Entry>();
  private spanTotal = 0;
  private received = 0;
  private evicted = 0;
  private dropped = 0;
  rejectedRequests = 0;
  private readonly listeners = new Set<(traceIds: string[]) => void>();

  constructor(options: TraceStoreOptions = {}) {
    this.maxTraces = positiveInt('maxTraces', options.maxTraces, DEFAULT_MAX_TRACES);
    this.maxSpansPerTrace = positiveInt('maxSpansPerTrace', options.maxSpansPerTrace, DEFAULT_MAX_SPANS_PER_TRACE);
  }

  /** Adds the spans of one resource (one service). Spans with invalid ids are counted and skipped. */
  add(resource: Attributes, spans: SpanData[]): AddResult {
    const service = serviceOf(resource);
    const changed = new Set<string>();
    let accepted = 0;
    let rejected = 0;
    for (const span of spans) {
      this.received++;
      if (!isTraceId(span?.traceId) || !isSpanId(span.spanId)) {
        rejected++;
        continue;
      }
      let entry = this.traces.get(span.traceId);
      if (entry === undefined) {
        entry = { traceId: span.traceId, spans: new Map(), sorted: undefined, analysis: undefined };
        this.traces.set(span.traceId, entry);
        this.evictOverflow();
      }
      const previous = entry.spans.get(span.spanId);
      if (previous === undefined && entry.spans.size >= this.maxSpansPerTrace) {
        rejected++;
        continue;
      }
      // A copy that ended wins over one exported while still open, whatever the order they came in.
      if (previous !== undefined && previous.ended && span.ended === false) {
        accepted++;
        continue;
      }
      entry.spans.set(span.spanId, { ...span, service });
      if (previous === undefined) this.spanTotal++;
      entry.sorted = undefined;
      entry.analysis = undefined;
      changed.add(span.traceId);
      accepted++;
    }
    this.dropped += rejected;
    const traceIds = [...changed].filter((id) => this.traces.has(id));
    if (traceIds.length > 0) {
      for (const l of this.listeners) {
        try {
          l(traceIds);
        } catch {
          // A listener (the page's live feed) must never make an export fail.
        }
      }
    }
    return { accepted, rejected, traceIds };
  }

  /** Counts spans a decoder could not turn into `SpanData` (no valid ids) as received and dropped. */
  noteRejected(count: number): void {
    this.received += count;
    this.dropped += count;
  }

  private evictOverflow(): void {
    while (this.traces.size > this.maxTraces) {
      const oldest = this.traces.keys().next().value as string;
      const entry = this.traces.get(oldest)!;
      this.spanTotal -= entry.spans.size;
      this.traces.delete(oldest);
      this.evicted++;
    }
  }

  private sortedSpans(e: Entry): ViewerSpan[] {
    if (e.sorted === undefined) {
      // Start order; on a tie (clocks with millisecond steps) a parent comes before its children.
      const depth = new Map<string, number>();
      const depthOf = (s: ViewerSpan): number => {
        let d = depth.get(s.spanId);
        if (d !== undefined) return d;
        d = 0;
        let p = s.parentSpanId;
        const seen = new Set<string>([s.spanId]);
        while (p !== undefined && !seen.has(p)) {
          const parent = e.spans.get(p);
          if (parent === undefined) break;
          seen.add(p);
          d++;
          p = parent.parentSpanId;
        }
        depth.set(s.spanId, d);
        return d;
      };
      e.sorted = [...e.spans.values()].sort((a, b) => a.startTime - b.startTime || depthOf(a) - depthOf(b));
    }
    return e.sorted;
  }

  private analysis(e: Entry): TraceAnalysis {
    if (e.analysis === undefined) e.analysis = analyzeTrace(e.traceId, this.sortedSpans(e));
    return e.analysis;
  }

  /** One trace with every span received for it, or `undefined`. */
  get(traceId: string): TraceDetail | undefined {
    const e = this.traces.get(traceId);
    if (e === undefined || e.spans.size === 0) return undefined;
    return { traceId, spans: this.sortedSpans(e) };
  }

  private selected(query: TraceQuery): TraceAnalysis[] {
    const out: TraceAnalysis[] = [];
    for (const e of this.traces.values()) {
      if (e.spans.size === 0) continue;
      const a = this.analysis(e);
      if (matches(a, query, this.sortedSpans(e))) out.push(a);
    }
    // Newest first; equal starts keep arrival order, newest arrival first.
    out.reverse().sort((x, y) => y.summary.startTime - x.summary.startTime);
    const limit = Math.min(query.limit ?? DEFAULT_LIMIT, this.maxTraces);
    return out.slice(0, limit);
  }

  /** Summaries of the traces a query selects, newest first. */
  list(query: TraceQuery = {}): TraceSummary[] {
    return this.selected(query).map((a) => a.summary);
  }

  /** Totals over the traces `list(query)` returns. */
  totals(query: TraceQuery = {}): TraceTotals {
    return totalsOf(this.selected(query));
  }

  /** The services and routes seen, for the page's filter menus. */
  facets(): { services: string[]; routes: string[]; models: string[] } {
    const services = new Set<string>();
    const routes = new Set<string>();
    const models = new Set<string>();
    for (const e of this.traces.values()) {
      if (e.spans.size === 0) continue;
      const a = this.analysis(e);
      for (const s of a.summary.services) services.add(s);
      for (const r of a.routes) routes.add(r);
      for (const c of a.calls) if (c.model) models.add(c.model);
    }
    const sort = (s: Set<string>) => [...s].sort((x, y) => x.localeCompare(y));
    return { services: sort(services), routes: sort(routes), models: sort(models) };
  }

  /** Called with the changed trace ids after each `add` that changed something. Returns an unsubscribe. */
  onChange(listener: (traceIds: string[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(): ViewerStats {
    return {
      traces: this.traces.size,
      spans: this.spanTotal,
      receivedSpans: this.received,
      evictedTraces: this.evicted,
      droppedSpans: this.dropped,
      rejectedRequests: this.rejectedRequests,
    };
  }
}
