/**
 * The export pipeline: one bounded queue per exporter, batches, at most one export in flight per
 * exporter, timeouts, tracing suppressed (OpenTelemetry BatchSpanProcessorBase, one per exporter).
 * A throwing, rejecting or hanging exporter only ever delays itself. The trace processor feeds it
 * and is told what was delivered.
 */
import type { Exporter, FinishedTrace, TracerStats } from '../types';
import { suppressTracing } from '../context/storage';
import { logThrottled } from '../diag/warn';
import { errorMessage } from '../internal/guard';
import { MAX_TIMER_MS } from '../config/defaults';

export interface ResolvedBatch {
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMillis: number;
  exportTimeoutMillis: number;
}

/** One exporter's counters, by outcome (traces). */
export interface ExporterCounters {
  /** Delivered: the exporter's `export()` resolved. */
  exported: number;
  /** Rejected, thrown or timed out. */
  failed: number;
  /** Batches that timed out (their traces are in `failed`). */
  timeouts: number;
  /** Waiting in the queue now. */
  queued: number;
  /** Not queued: the queue was full. */
  dropped: number;
}

/** What the pipeline tells its owner (the trace processor). */
export interface PipelineEvents {
  /** A trace was not queued for one exporter, by reason (`queue_full`). */
  drop(reason: string): void;
  /** A trace was delivered, the first time one exporter delivered it. */
  delivered(trace: FinishedTrace): void;
}

/**
 * Tells the owner of a trace's first delivery, once however many exporters deliver it. With one
 * exporter every delivery is the first, and the queue holds the traces themselves (no object per
 * trace); with more, the traces told so far are remembered (weakly: a trace one exporter never
 * delivers is not kept for it).
 */
class Deliveries {
  private readonly told: WeakSet<FinishedTrace> | undefined;
  constructor(
    private readonly events: PipelineEvents,
    exporters: number,
  ) {
    this.told = exporters > 1 ? new WeakSet() : undefined;
  }

  delivered(batch: FinishedTrace[]): void {
    const told = this.told;
    for (let i = 0; i < batch.length; i++) {
      const trace = batch[i];
      if (told !== undefined) {
        if (told.has(trace)) continue;
        told.add(trace);
      }
      this.events.delivered(trace);
    }
  }
}

const TIMED_OUT = Symbol('timed out');

class ExporterWorker {
  private queue: FinishedTrace[] = [];
  /** Spans in the queue: the queue and batch limits count spans, as OpenTelemetry's do. */
  private queuedSpans = 0;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private kick: NodeJS.Immediate | undefined;
  readonly counters: ExporterCounters = { exported: 0, failed: 0, timeouts: 0, queued: 0, dropped: 0 };
  /** The exporter's own batch delay when it asks for one (`Exporter.scheduledDelayMillis`). */
  private readonly delayMs: number;
  /** Set once shutdown() has finished with this exporter. */
  closed = false;

  constructor(
    readonly exporter: Exporter,
    private readonly opts: ResolvedBatch,
    private readonly events: PipelineEvents,
    private readonly deliveries: Deliveries,
    /** Scopes this worker's throttled log lines to its tracer: another tracer's are its own. */
    private readonly logKey: string,
  ) {
    const own = exporter.scheduledDelayMillis;
    this.delayMs = typeof own === 'number' && own >= 0 && own <= MAX_TIMER_MS ? own : opts.scheduledDelayMillis;
  }

  enqueue(trace: FinishedTrace): void {
    const n = trace.spans.length;
    // A trace larger than the whole queue still goes through when the queue is empty.
    if (this.queuedSpans + n > this.opts.maxQueueSize && this.queue.length > 0) {
      this.counters.dropped++;
      this.events.drop('queue_full');
      return;
    }
    this.queue.push(trace);
    this.queuedSpans += n;
    this.counters.queued = this.queue.length;
    this.schedule();
  }

  /**
   * Arranges the next batch: at once (on the next turn, never on the request's stack) when a full
   * batch waits or the exporter wants no delay, else once the batch delay has passed since the
   * oldest trace not yet scheduled came (an export in flight does not hold that timer back; its
   * end schedules again).
   */
  private schedule(): void {
    if (this.kick !== undefined || this.queue.length === 0) return;
    if (this.queuedSpans >= this.opts.maxExportBatchSize || this.delayMs === 0) {
      if (this.inFlight) return;
      if (this.timer !== undefined) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
      this.kick = setImmediate(() => {
        this.kick = undefined;
        this.pump();
      });
      this.kick.unref();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, this.delayMs);
      this.timer.unref();
    }
  }

  /** Starts the next batch unless one is in flight. */
  private pump(): void {
    if (this.inFlight || this.queue.length === 0) return;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.inFlight = this.exportBatch().finally(() => {
      this.inFlight = undefined;
      // A full batch waiting goes out at once, as OpenTelemetry's BatchSpanProcessor does: a
      // burst that queued several batches while this one was out drains batch after batch, not
      // one per turn of the event loop (at one per turn, 1024 spans ended per turn filled the
      // queue and were dropped as queue_full). Never on a request's stack: this runs when the
      // export before it settled.
      if (this.kick === undefined && this.queuedSpans >= this.opts.maxExportBatchSize) this.pump();
      else this.schedule();
    });
  }

  private async exportBatch(): Promise<void> {
    // Whole traces, up to maxExportBatchSize spans (at least one trace, however large).
    let take = 0;
    let spans = 0;
    const queue = this.queue;
    while (take < queue.length) {
      const n = queue[take].spans.length;
      if (take > 0 && spans + n > this.opts.maxExportBatchSize) break;
      spans += n;
      take++;
    }
    // The whole queue (the usual case) becomes the batch as it is, without a copy.
    let batch: FinishedTrace[];
    if (take === queue.length) {
      batch = queue;
      this.queue = [];
    } else batch = queue.splice(0, take);
    this.queuedSpans -= spans;
    this.counters.queued = this.queue.length;
    const name = this.exporter.name;
    let timeout: NodeJS.Timeout | undefined;
    try {
      const attempt = suppressTracing(() => Promise.resolve().then(() => this.exporter.export(batch)));
      const limit = new Promise<typeof TIMED_OUT>((resolve) => {
        timeout = setTimeout(() => resolve(TIMED_OUT), this.opts.exportTimeoutMillis);
        timeout.unref();
      });
      // A late rejection of a timed-out attempt must not become an unhandled rejection.
      attempt.catch(() => undefined);
      const result = await Promise.race([attempt, limit]);
      if (result === TIMED_OUT) {
        this.counters.timeouts++;
        this.counters.failed += batch.length;
        logThrottled(`${this.logKey}:export-timeout:${name}`, `exporter "${name}" did not finish within ${this.opts.exportTimeoutMillis} ms; ${batch.length} trace(s) counted as failed`);
      } else {
        this.counters.exported += batch.length;
        this.deliveries.delivered(batch);
      }
    } catch (err) {
      this.counters.failed += batch.length;
      logThrottled(`${this.logKey}:export-error:${name}`, `exporter "${name}" failed: ${errorMessage(err)}; ${batch.length} trace(s) counted as failed`);
    } finally {
      if (timeout !== undefined) clearTimeout(timeout);
    }
  }

  /** Exports everything queued, batch after batch, then waits for the last one. */
  async flush(): Promise<void> {
    if (this.kick !== undefined) {
      clearImmediate(this.kick);
      this.kick = undefined;
    }
    for (;;) {
      if (this.inFlight) await this.inFlight;
      else if (this.queue.length > 0) this.pump();
      else break;
    }
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    await this.callOptional('forceFlush');
  }

  /** The exporter's own counters (`Exporter.stats()`), if any: finite numbers >= 0 only. */
  ownStats(): Record<string, number> {
    const out: Record<string, number> = {};
    const fn = this.exporter.stats;
    if (typeof fn !== 'function') return out;
    try {
      const s: unknown = fn.call(this.exporter);
      if (s && typeof s === 'object') {
        for (const k of Object.keys(s)) {
          const v = (s as Record<string, unknown>)[k];
          if (typeof v === 'number' && v >= 0 && Number.isFinite(v) && k !== '__proto__') out[k] = v;
        }
      }
    } catch (err) {
      logThrottled(`${this.logKey}:export-stats:${this.exporter.name}`, `exporter "${this.exporter.name}" stats() failed: ${errorMessage(err)}`);
    }
    return out;
  }

  async callOptional(method: 'forceFlush' | 'shutdown'): Promise<void> {
    const fn = this.exporter[method];
    if (typeof fn !== 'function') return;
    try {
      await suppressTracing(() => Promise.resolve().then(() => fn.call(this.exporter)));
    } catch (err) {
      logThrottled(`${this.logKey}:export-${method}:${this.exporter.name}`, `exporter "${this.exporter.name}" ${method}() failed: ${errorMessage(err)}`);
    }
  }
}

/** Fans finished traces out to every exporter's worker. */
export class ExportPipeline {
  private readonly workers: ExporterWorker[];

  constructor(exporters: Exporter[], opts: ResolvedBatch, events: PipelineEvents, logKey: string) {
    const deliveries = new Deliveries(events, exporters.length);
    this.workers = exporters.map((e) => new ExporterWorker(e, opts, events, deliveries, logKey));
  }

  submit(trace: FinishedTrace): void {
    for (let i = 0; i < this.workers.length; i++) this.workers[i].enqueue(trace);
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.flush()));
  }

  async shutdown(): Promise<void> {
    await Promise.all(
      this.workers.map(async (w) => {
        await w.flush();
        await w.callOptional('shutdown');
        w.closed = true;
      }),
    );
  }

  /** Names of the exporters a shutdown has not finished with yet. */
  unfinished(): string[] {
    return this.workers.filter((w) => !w.closed).map((w) => w.exporter.name);
  }

  /** Per exporter: the pipeline's counters over the exporter's own `stats()`. */
  counters(): TracerStats['exporters'] {
    const out: TracerStats['exporters'] = {};
    for (const w of this.workers) {
      let key = w.exporter.name;
      for (let i = 2; key in out; i++) key = `${w.exporter.name}#${i}`;
      out[key] = { ...w.ownStats(), ...w.counters };
    }
    return out;
  }
}
