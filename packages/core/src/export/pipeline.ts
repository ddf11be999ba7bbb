import type { Exporter, FinishedTrace, TracerStats } from '../types';
import { suppressTracing } from '../context/storage';
import { logThrottled } from '../diag/warn';
import { MAX_TIMER_MS } from '../config/defaults';

export interface ResolvedBatch {
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMillis: number;
  exportTimeoutMillis: number;
}

export interface ExporterCounters {
  exported: number;
  failed: number;
  timeouts: number;
  queued: number;
  dropped: number;
}

const TIMED_OUT = Symbol('timed out');

/**
 * One exporter with its own bounded queue and at most one export in flight, so a throwing,
 * rejecting or hanging exporter only ever delays itself (OpenTelemetry BatchSpanProcessorBase,
 * one per exporter). Exports run off the request path, with tracing suppressed.
 */
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

  constructor(
    readonly exporter: Exporter,
    private readonly opts: ResolvedBatch,
    private readonly onDrop: (reason: string) => void,
  ) {
    const own = exporter.scheduledDelayMillis;
    this.delayMs = typeof own === 'number' && own >= 0 && own <= MAX_TIMER_MS ? own : opts.scheduledDelayMillis;
  }

  enqueue(trace: FinishedTrace): void {
    const n = trace.spans.length;
    // A trace larger than the whole queue still goes through when the queue is empty.
    if (this.queuedSpans + n > this.opts.maxQueueSize && this.queue.length > 0) {
      this.counters.dropped++;
      this.onDrop('queue_full');
      return;
    }
    this.queue.push(trace);
    this.queuedSpans += n;
    this.counters.queued = this.queue.length;
    if (this.queuedSpans >= this.opts.maxExportBatchSize || this.delayMs === 0) this.scheduleNow();
    else if (this.timer === undefined && this.kick === undefined) this.arm();
  }

  /** Pumps once the batch delay has passed. */
  private arm(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, this.delayMs);
    this.timer.unref();
  }

  private scheduleNow(): void {
    if (this.kick !== undefined || this.inFlight) return;
    // setImmediate, not a direct call: the exporter must never run on the request's stack.
    this.kick = setImmediate(() => {
      this.kick = undefined;
      this.pump();
    });
    this.kick.unref();
  }

  /** Starts the next batch unless one is in flight; re-arms itself while work remains. */
  private pump(): void {
    if (this.inFlight || this.queue.length === 0) return;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.inFlight = this.exportBatch().finally(() => {
      this.inFlight = undefined;
      if (this.queuedSpans >= this.opts.maxExportBatchSize || (this.delayMs === 0 && this.queue.length > 0)) this.scheduleNow();
      else if (this.queue.length > 0 && this.timer === undefined) this.arm();
    });
  }

  private async exportBatch(): Promise<void> {
    // Whole traces, up to maxExportBatchSize spans (at least one trace, however large).
    let take = 0;
    let spans = 0;
    while (take < this.queue.length) {
      const n = this.queue[take].spans.length;
      if (take > 0 && spans + n > this.opts.maxExportBatchSize) break;
      spans += n;
      take++;
    }
    const batch = this.queue.splice(0, take);
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
        logThrottled(`export-timeout:${name}`, `exporter "${name}" did not finish within ${this.opts.exportTimeoutMillis} ms; ${batch.length} trace(s) counted as failed`);
      } else {
        this.counters.exported += batch.length;
      }
    } catch (err) {
      this.counters.failed += batch.length;
      logThrottled(`export-error:${name}`, `exporter "${name}" failed: ${err instanceof Error ? err.message : String(err)}; ${batch.length} trace(s) counted as failed`);
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
      logThrottled(`export-stats:${this.exporter.name}`, `exporter "${this.exporter.name}" stats() failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    return out;
  }

  async callOptional(method: 'forceFlush' | 'shutdown'): Promise<void> {
    const fn = this.exporter[method];
    if (typeof fn !== 'function') return;
    try {
      await suppressTracing(() => Promise.resolve().then(() => fn.call(this.exporter)));
    } catch (err) {
      logThrottled(`export-${method}:${this.exporter.name}`, `exporter "${this.exporter.name}" ${method}() failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/** Fans finished traces out to every exporter's worker. */
export class ExportPipeline {
  private readonly workers: ExporterWorker[];

  constructor(exporters: Exporter[], opts: ResolvedBatch, onDrop: (reason: string) => void) {
    this.workers = exporters.map((e) => new ExporterWorker(e, opts, onDrop));
  }

  get size(): number {
    return this.workers.length;
  }

  submit(trace: FinishedTrace): void {
    for (let i = 0; i < this.workers.length; i++) this.workers[i].enqueue(trace);
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.flush()));
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.workers.map(async (w) => {
      await w.flush();
      await w.callOptional('shutdown');
    }));
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
