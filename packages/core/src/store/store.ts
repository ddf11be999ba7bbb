import type { Attributes, FinishedTrace, SpanData } from '../types';
import { now } from '../internal/clock';
import { RecordingSpan, SpanOwner } from '../trace/span';

export interface StoreLimits {
  maxLiveTraces: number;
  maxSpansPerTrace: number;
  lingerMs: number;
  traceTtlMs: number;
}

/** Where completed traces go (the tracer applies the tail policy and queues them). */
export type TraceSink = (trace: FinishedTrace) => boolean;
/** Counts a drop by reason. */
export type DropCounter = (reason: string, n?: number) => void;

const LIVE = 0; // root open, or root ended and children still open within linger
const EXPORTED = 1; // first export done; late spans go out as fragments

/**
 * One local trace: the spans of one trace recorded in this process under one local root (a
 * request). Keyed by its root span, not by trace id: two requests of one distributed trace may hit
 * the same process (docs/design.md "The path of one request").
 */
export class LocalTrace implements SpanOwner {
  root!: RecordingSpan;
  /** Spans not yet exported: while live in start order; after the first export, late ends. */
  spans: RecordingSpan[] = [];
  open = 0;
  recorded = 0;
  state = LIVE;
  /** Whether the first export passed the tail policy; late fragments follow its decision. */
  kept = true;
  fragment = 0;
  /** Epoch ms when opened (the root's start time): TTL is checked against it by the sweeper. */
  openedAt = 0;
  timer: NodeJS.Timeout | undefined = undefined;

  /** The store holding it: a span started under it belongs to that store's tracer. */
  constructor(readonly store: TraceStore) {}

  onSpanEnd(span: RecordingSpan): void {
    this.open--;
    if (this.state === LIVE) {
      if (span === this.root) {
        if (this.open === 0) this.store.complete(this, false);
        else this.store.startLinger(this);
      } else if (this.open === 0 && this.root.ended) {
        this.store.complete(this, false);
      }
    } else {
      this.spans.push(span);
      if (this.open === 0) this.store.flushLate(this);
      else this.store.startLateTimer(this);
    }
  }
}

/**
 * Live local traces, their completion, linger, late fragments, TTL and caps. Every span that cannot
 * be recorded is counted by reason; nothing is dropped silently.
 */
export class TraceStore {
  /** Traces not yet (first-)exported, in open order; the TTL sweep walks it from the oldest. */
  readonly live = new Set<LocalTrace>();
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly limits: StoreLimits,
    private readonly resource: Attributes,
    private readonly sink: TraceSink,
    private readonly drop: DropCounter,
  ) {}

  /** Opens a local trace for a new local root, or returns undefined (counted) past the cap. */
  open(): LocalTrace | undefined {
    if (this.closed) {
      this.drop('shutdown');
      return undefined;
    }
    if (this.live.size >= this.limits.maxLiveTraces) {
      this.drop('live_traces_cap');
      return undefined;
    }
    const t = new LocalTrace(this);
    this.live.add(t);
    if (this.sweeper === undefined) this.startSweeper();
    return t;
  }

  /** Reserves room for one more span in `t`; false (counted) past the per-trace cap. */
  admit(t: LocalTrace): boolean {
    if (t.recorded >= this.limits.maxSpansPerTrace) {
      this.drop('spans_per_trace_cap');
      return false;
    }
    t.recorded++;
    t.open++;
    return true;
  }

  /** Registers a span just created in `t` (after `admit`). */
  add(t: LocalTrace, span: RecordingSpan): void {
    if (t.state === LIVE) t.spans.push(span);
    // After the first export a span is only collected when it ends (see LocalTrace.onSpanEnd).
  }

  startLinger(t: LocalTrace): void {
    if (t.timer !== undefined) return;
    t.timer = setTimeout(() => {
      t.timer = undefined;
      if (t.state === LIVE) this.complete(t, true);
    }, this.limits.lingerMs);
    t.timer.unref();
  }

  startLateTimer(t: LocalTrace): void {
    if (t.timer !== undefined) return;
    t.timer = setTimeout(() => {
      t.timer = undefined;
      this.flushLate(t);
    }, this.limits.lingerMs);
    t.timer.unref();
  }

  /** First export of a local trace: complete, or incomplete (linger passed / TTL / shutdown). */
  complete(t: LocalTrace, incomplete: boolean): void {
    if (t.timer !== undefined) {
      clearTimeout(t.timer);
      t.timer = undefined;
    }
    this.live.delete(t);
    // The span list becomes the exported list in place: an ended span is its own SpanData, an
    // open one is replaced by a snapshot (it goes out again, ended, in a later fragment).
    const data: SpanData[] = t.spans;
    t.spans = [];
    t.state = EXPORTED;
    let open = false;
    let at = 0;
    for (let i = 0; i < data.length; i++) {
      const s = data[i] as RecordingSpan;
      if (!s.ended) {
        if (!open) at = now();
        open = true;
        data[i] = s.snapshot(at);
      }
    }
    t.kept = this.sink({
      traceId: t.root.traceId,
      rootSpanId: t.root.spanId,
      resource: this.resource,
      spans: data,
      incomplete: incomplete || open,
      fragment: t.fragment++,
    });
  }

  /** A follow-up fragment with the spans that ended after the trace was exported. */
  flushLate(t: LocalTrace): void {
    if (t.timer !== undefined) {
      clearTimeout(t.timer);
      t.timer = undefined;
    }
    if (t.spans.length === 0) return;
    const spans = t.spans.sort((a, b) => a.startTime - b.startTime);
    t.spans = [];
    if (!t.kept) {
      this.drop('tail');
      return;
    }
    this.sink({
      traceId: t.root.traceId,
      rootSpanId: t.root.spanId,
      resource: this.resource,
      spans,
      incomplete: t.open > 0,
      fragment: t.fragment++,
    });
  }

  /** Exports as partial every trace open longer than `traceTtlMs` (oldest first). */
  sweep(at = Date.now()): void {
    const ttl = this.limits.traceTtlMs;
    for (const t of this.live) {
      if (at - t.openedAt < ttl) break;
      this.complete(t, true);
    }
  }

  private startSweeper(): void {
    const every = Math.max(10, Math.min(1000, Math.floor(this.limits.traceTtlMs / 2)));
    this.sweeper = setInterval(() => this.sweep(), every);
    this.sweeper.unref();
  }

  /** Exports every live trace as it stands (used by shutdown) and stops accepting new ones. */
  close(): void {
    this.closed = true;
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const t of [...this.live]) this.complete(t, true);
  }
}
