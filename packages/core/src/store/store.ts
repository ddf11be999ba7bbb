/**
 * The trace store: live local traces, from their root's start to their first export (complete,
 * after linger, TTL or shutdown), then their late fragments. Every span it cannot take is counted
 * by reason with the trace processor; nothing is dropped silently.
 *
 * The store is the owner every recording span reports its end to. A local trace is plain state
 * the store alone changes; the tracer opens traces and registers spans through the methods below.
 */
import type { Attributes, FinishedTrace, SpanData } from '../types';
import { now } from '../internal/clock';
import { ownerOf, traceOf } from '../trace/span';
import type { RecordingSpan } from '../trace/span';
import type { ResolvedSpanLimits, SpanOwner } from '../trace/span';

/** Limits of the trace store (`TracerOptions.limits`). */
export interface StoreLimits {
  maxLiveTraces: number;
  maxSpansPerTrace: number;
  lingerMs: number;
  traceTtlMs: number;
}

/** Where the store hands the traces it completes: the trace processor. */
export interface CompletedTraces {
  /** A local trace's first export; returns whether it was kept (its late fragments follow that). */
  first(trace: FinishedTrace): boolean;
  /** A fragment of spans that ended after the first export, of a trace that was kept or not. */
  late(trace: FinishedTrace, kept: boolean): void;
  /** A span or trace the store could not take, by reason (`live_traces_cap`, `spans_per_trace_cap`, `shutdown`). */
  drop(reason: string): void;
}

/**
 * One local trace: the spans of one trace recorded in this process under one local root (a
 * request). Keyed by its root span, not by trace id: two requests of one distributed trace may hit
 * the same process (docs/design.md "The path of one request"). Plain state, changed by the store.
 */
export interface LocalTrace {
  root: RecordingSpan | undefined;
  /**
   * Spans not yet exported. While live: the root's children in start order, after the root
   * itself once there is a child (the root alone is in `root`: most local traces are one server
   * span, which then needs no list). After the first export: late ends. NONE (shared, never
   * written) while there are none.
   */
  spans: RecordingSpan[];
  /** Spans started and not yet ended. */
  open: number;
  /** Spans recorded so far (the per-trace cap counts these). */
  recorded: number;
  /**
   * 0 while live (root open, or root ended and children still open within linger). After the
   * first export, the number of the next fragment (fragments count from 0, so at least 1): positive
   * when the tail policy kept the trace (late spans go out as fragments), negative when it dropped
   * it (late spans are counted as such). One field for both: a trace is kept in memory per open
   * request, and every field is 8 bytes of every open request (bench/micro.js heap per open span).
   */
  exported: number;
  /** The live list, in open order (see TraceStore): neighbours while the trace is live. */
  prev: LocalTrace | undefined;
  next: LocalTrace | undefined;
}

/** The empty span list of a local trace (see LocalTrace.spans); frozen, so nothing writes it. */
const NONE: RecordingSpan[] = Object.freeze([]) as unknown as RecordingSpan[];

/** Appends a late span to `t.spans` (after the first export), making the list on its first one. */
function pushSpan(t: LocalTrace, span: RecordingSpan): void {
  if (t.spans === NONE) t.spans = [span];
  else t.spans.push(span);
}

export class TraceStore implements SpanOwner {
  /**
   * Traces not yet (first-)exported, in open order: a list through the traces themselves (no hash
   * table to insert into and delete from per request); the TTL sweep walks it from the oldest.
   */
  private oldest: LocalTrace | undefined = undefined;
  private newest: LocalTrace | undefined = undefined;
  private liveTraces = 0;
  private opened = 0;
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;
  /**
   * The linger timers of the traces waiting on one (an ended root with open children, or late
   * spans of an exported trace): few at a time, so here rather than a field of every trace.
   */
  private readonly timers = new Map<LocalTrace, NodeJS.Timeout>();

  constructor(
    private readonly limits: StoreLimits,
    private readonly resource: Attributes,
    private readonly out: CompletedTraces,
    /** The tracer's span limits, which every span of this store reads (SpanOwner). */
    readonly spanLimits: ResolvedSpanLimits,
  ) {}

  /** Local traces not yet exported. */
  get liveCount(): number {
    return this.liveTraces;
  }

  /** Local traces opened so far (`startedTraces`). */
  get openedCount(): number {
    return this.opened;
  }

  /**
   * Opens a local trace for a new local root, with room for the root: undefined (counted) after
   * `close()` or past `maxLiveTraces`. The root is then registered with `add`.
   */
  openTrace(): LocalTrace | undefined {
    if (this.closed) {
      this.out.drop('shutdown');
      return undefined;
    }
    if (this.liveTraces >= this.limits.maxLiveTraces) {
      this.out.drop('live_traces_cap');
      return undefined;
    }
    if (this.limits.maxSpansPerTrace < 1) {
      this.out.drop('spans_per_trace_cap');
      return undefined;
    }
    const t: LocalTrace = { root: undefined, spans: NONE, open: 1, recorded: 1, exported: 0, prev: this.newest, next: undefined };
    if (this.newest === undefined) this.oldest = t;
    else this.newest.next = t;
    this.newest = t;
    this.liveTraces++;
    this.opened++;
    if (this.sweeper === undefined) this.startSweeper();
    return t;
  }

  /** The local trace of `span` when it is one of this store's, for a child to join; else undefined. */
  traceOfSpan(span: RecordingSpan): LocalTrace | undefined {
    return ownerOf(span) === this ? (traceOf(span) as LocalTrace) : undefined;
  }

  /** Reserves room for one more span in `t`; false (counted) past `maxSpansPerTrace`. */
  admit(t: LocalTrace): boolean {
    if (t.recorded >= this.limits.maxSpansPerTrace) {
      this.out.drop('spans_per_trace_cap');
      return false;
    }
    t.recorded++;
    t.open++;
    return true;
  }

  /** Registers a span just made in `t` (after `openTrace` for the root, `admit` for a child). */
  add(t: LocalTrace, span: RecordingSpan): void {
    if (t.root === undefined) {
      // The root: listed (first) only when the trace is exported or gets a child.
      t.root = span;
      return;
    }
    if (t.exported === 0) {
      if (t.spans === NONE) t.spans = [t.root, span];
      else t.spans.push(span);
    }
    // After the first export a span is only collected when it ends (see spanEnded).
  }

  /** A span of this store ended (SpanOwner). */
  spanEnded(span: RecordingSpan): void {
    const t = traceOf(span) as LocalTrace;
    t.open--;
    if (t.exported === 0) {
      if (span === t.root) {
        if (t.open === 0) this.complete(t, false);
        else this.startTimer(t);
      } else if (t.open === 0 && (t.root as RecordingSpan).ended) {
        this.complete(t, false);
      }
    } else {
      pushSpan(t, span);
      if (t.open === 0) this.flushLate(t);
      else this.startTimer(t);
    }
  }

  /** `lingerMs` from now: a live trace is exported incomplete, an exported one's late spans go out. */
  private startTimer(t: LocalTrace): void {
    if (this.timers.has(t)) return;
    const timer = setTimeout(() => {
      this.timers.delete(t);
      if (t.exported === 0) this.complete(t, true);
      else this.flushLate(t);
    }, this.limits.lingerMs);
    timer.unref();
    this.timers.set(t, timer);
  }

  private clearTimer(t: LocalTrace): void {
    // Most traces never had a timer: no lookup while none is pending.
    if (this.timers.size === 0) return;
    const timer = this.timers.get(t);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.timers.delete(t);
    }
  }

  /** First export of a local trace: complete, or incomplete (linger passed / TTL / shutdown). */
  private complete(t: LocalTrace, incomplete: boolean): void {
    this.clearTimer(t);
    this.unlink(t);
    // The span list becomes the exported list in place: an ended span is its own SpanData, an
    // open one is replaced by a snapshot (it goes out again, ended, in a later fragment).
    const root = t.root as RecordingSpan;
    const data: SpanData[] = t.spans === NONE ? [root] : t.spans;
    t.spans = NONE;
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
    // Exported from here on, whether kept or not (the span list above is already handed over);
    // late spans go out from fragment 1.
    t.exported = 1;
    const kept = this.out.first({
      traceId: root.traceId,
      rootSpanId: root.spanId,
      resource: this.resource,
      spans: data,
      incomplete: incomplete || open,
      fragment: 0,
    });
    if (!kept) t.exported = -1;
  }

  /** A follow-up fragment with the spans that ended after the trace was exported. */
  private flushLate(t: LocalTrace): void {
    this.clearTimer(t);
    if (t.spans.length === 0) return;
    const spans = t.spans.sort((a, b) => a.startTime - b.startTime);
    t.spans = NONE;
    const root = t.root as RecordingSpan;
    const next = t.exported;
    const kept = next > 0;
    t.exported = kept ? next + 1 : next - 1;
    this.out.late(
      {
        traceId: root.traceId,
        rootSpanId: root.spanId,
        resource: this.resource,
        spans,
        incomplete: t.open > 0,
        fragment: kept ? next : -next,
      },
      kept,
    );
  }

  /** Takes `t` out of the live list (it is being exported). */
  private unlink(t: LocalTrace): void {
    const { prev, next } = t;
    if (prev === undefined) this.oldest = next;
    else prev.next = next;
    if (next === undefined) this.newest = prev;
    else next.prev = prev;
    t.prev = undefined;
    t.next = undefined;
    this.liveTraces--;
  }

  /** Exports as partial every trace open longer than `traceTtlMs` (oldest first). */
  sweep(at = Date.now()): void {
    const ttl = this.limits.traceTtlMs;
    for (let t = this.oldest; t !== undefined; t = this.oldest) {
      // The TTL counts from the root's start (a trace is opened for its root, at once).
      if (at - (t.root as RecordingSpan).startTime < ttl) break;
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
    while (this.oldest !== undefined) this.complete(this.oldest, true);
  }
}
