/**
 * The trace processor: the step between the trace store and the exporters. Each trace the store
 * completes comes here: the tail policy keeps or drops it (its late fragments follow that
 * decision), then it is queued for every exporter. The counters of what became of each trace live
 * here, by outcome: dropped by reason, submitted to the exporters, delivered (`exportedTraces`:
 * at least one exporter's `export()` resolved for it), and of those the incomplete and partial
 * ones. Nothing is dropped silently (docs/design.md "The path of one request", steps 5 and 6).
 */
import type { Exporter, FinishedTrace, TracerStats } from '../types';
import type { TailFn } from '../sampling/tail';
import type { CompletedTraces } from '../store/store';
import { ExportPipeline } from '../export/pipeline';
import type { ResolvedBatch } from '../export/pipeline';
import { writeWarning } from '../diag/warn';

export interface TraceProcessorOptions {
  exporters: Exporter[];
  batch: ResolvedBatch;
  /** The compiled tail policy; undefined keeps every trace. */
  tail?: TailFn;
  /** Names the tracer in warnings (its `service.name`). */
  name: string;
}

/** The processor's share of `tracer.stats()`. */
export type ProcessorStats = Pick<TracerStats, 'submittedTraces' | 'exportedTraces' | 'exportedSpans' | 'incompleteTraces' | 'partialTraces' | 'dropped' | 'exportErrors' | 'exporters'>;

let processors = 0;

/** Whether a first export went out before its root ended (TTL, shutdown): partial, not only incomplete. */
function rootOpen(trace: FinishedTrace): boolean {
  const spans = trace.spans;
  for (let i = 0; i < spans.length; i++) if (spans[i].spanId === trace.rootSpanId) return !spans[i].ended;
  return false;
}

export class TraceProcessor implements CompletedTraces {
  private readonly pipeline: ExportPipeline;
  private readonly tail: TailFn | undefined;
  private readonly hasExporters: boolean;
  private readonly name: string;
  private readonly dropped: Record<string, number> = Object.create(null);
  private submitted = 0;
  private exported = 0;
  private exportedSpans = 0;
  private incomplete = 0;
  private partial = 0;
  private closed = false;

  constructor(options: TraceProcessorOptions) {
    this.tail = options.tail;
    this.hasExporters = options.exporters.length > 0;
    this.name = options.name;
    // Log lines of this processor's exporters are throttled apart from another tracer's.
    const key = `tracer${++processors}`;
    this.pipeline = new ExportPipeline(options.exporters, options.batch, { drop: (reason) => this.drop(reason), delivered: (trace) => this.delivered(trace) }, key);
  }

  first(trace: FinishedTrace): boolean {
    if (this.tail !== undefined && !this.tail(trace)) {
      this.drop('tail');
      return false;
    }
    this.submit(trace);
    return true;
  }

  late(trace: FinishedTrace, kept: boolean): void {
    if (!kept) {
      this.drop('tail');
      return;
    }
    // After shutdown the exporters are gone: counted, not queued.
    if (this.closed) {
      this.drop('after_shutdown');
      return;
    }
    this.submit(trace);
  }

  drop(reason: string, n = 1): void {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + n;
  }

  private submit(trace: FinishedTrace): void {
    // Without any exporter a finished trace goes nowhere: counted as such, never as exported.
    if (!this.hasExporters) {
      this.drop('no_exporter');
      return;
    }
    this.submitted++;
    this.pipeline.submit(trace);
  }

  /** One exporter delivered `trace` (told once per trace, whichever exporter was first). */
  private delivered(trace: FinishedTrace): void {
    this.exported++;
    this.exportedSpans += trace.spans.length;
    if (trace.incomplete) {
      if (trace.fragment === 0 && rootOpen(trace)) this.partial++;
      else this.incomplete++;
    }
  }

  forceFlush(): Promise<void> {
    return this.pipeline.forceFlush();
  }

  /**
   * Delivers everything queued and shuts the exporters down, within `timeoutMs`. Past it, one
   * warning naming this tracer and the exporters still busy (each tracer's own: a second tracer's
   * timeout is not hidden behind the first's). Late fragments after this are counted as
   * `after_shutdown`.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    try {
      const deadline = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
        timer.unref();
      });
      const result = await Promise.race([this.pipeline.shutdown(), deadline]);
      if (result === 'timeout') {
        const busy = this.pipeline.unfinished().map((n) => JSON.stringify(n));
        writeWarning(`shutdown of the tracer of "${this.name}" did not complete within ${timeoutMs} ms${busy.length > 0 ? `; still exporting: ${busy.join(', ')}` : ''}`);
      }
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  stats(): ProcessorStats {
    const exporters = this.pipeline.counters();
    let exportErrors = 0;
    for (const k in exporters) exportErrors += exporters[k].failed;
    return {
      submittedTraces: this.submitted,
      exportedTraces: this.exported,
      exportedSpans: this.exportedSpans,
      incompleteTraces: this.incomplete,
      partialTraces: this.partial,
      dropped: { ...this.dropped },
      exportErrors,
      exporters,
    };
  }
}
