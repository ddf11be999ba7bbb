import type { Exporter, FinishedTrace, SpanData } from '../types';

interface Waiter {
  count: number;
  resolve: (traces: FinishedTrace[]) => void;
  timer?: NodeJS.Timeout;
}

// setTimeout treats delays above 2^31-1 ms as 1 ms; clamp so a long timeout stays long.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Keeps every exported trace in memory, for tests and local inspection. */
export class InMemoryExporter implements Exporter {
  readonly name = 'memory';
  private stored: FinishedTrace[] = [];
  private waiters: Waiter[] = [];

  /** Stores the traces and wakes any `waitFor` whose count is now reached. */
  export(traces: FinishedTrace[]): Promise<void> {
    for (const trace of traces) this.stored.push(trace);
    if (this.waiters.length > 0) this.settleWaiters();
    return Promise.resolve();
  }

  /** A copy of the stored traces, in arrival order. */
  traces(): FinishedTrace[] {
    return this.stored.slice();
  }

  /** All spans of all stored traces, flattened, in arrival order. */
  spans(): SpanData[] {
    const out: SpanData[] = [];
    for (const trace of this.stored) for (const span of trace.spans) out.push(span);
    return out;
  }

  /**
   * Resolves with the stored traces once at least `count` have arrived (at once if they already
   * have); rejects after `timeoutMs` (`Infinity`: never).
   */
  waitFor(count: number, timeoutMs = 5000): Promise<FinishedTrace[]> {
    if (typeof count !== 'number' || !(count >= 0)) {
      return Promise.reject(new TypeError(`InMemoryExporter.waitFor: count must be a number >= 0, got ${String(count)}`));
    }
    if (this.stored.length >= count) return Promise.resolve(this.traces());
    return new Promise<FinishedTrace[]>((resolve, reject) => {
      const waiter: Waiter = { count, resolve };
      this.waiters.push(waiter);
      if (timeoutMs === Infinity) return;
      const delay = Math.min(Math.max(0, Number(timeoutMs) || 0), MAX_TIMER_MS);
      waiter.timer = setTimeout(() => {
        this.removeWaiter(waiter);
        reject(new Error(`InMemoryExporter.waitFor: got ${this.stored.length} of ${count} traces after ${timeoutMs} ms`));
      }, delay);
      // A test that forgets to await must not keep the process alive.
      waiter.timer.unref();
    });
  }

  /** Forgets the stored traces. Pending `waitFor` calls keep waiting, now counting from zero. */
  reset(): void {
    this.stored = [];
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  private settleWaiters(): void {
    const n = this.stored.length;
    const due = this.waiters.filter((w) => n >= w.count);
    if (due.length === 0) return;
    this.waiters = this.waiters.filter((w) => n < w.count);
    for (const w of due) {
      if (w.timer) clearTimeout(w.timer);
      w.resolve(this.traces());
    }
  }

  private removeWaiter(waiter: Waiter): void {
    const i = this.waiters.indexOf(waiter);
    if (i !== -1) this.waiters.splice(i, 1);
  }
}
