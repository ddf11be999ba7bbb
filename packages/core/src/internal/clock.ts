import { performance } from 'node:perf_hooks';

/**
 * High-resolution time anchored to wall time: epoch milliseconds with the sub-millisecond
 * fraction of the monotonic clock. Durations between two `now()` calls never go backwards even if
 * the wall clock is adjusted, because both come from the same monotonic source.
 */
const origin = performance.timeOrigin;

export function now(): number {
  return origin + performance.now();
}

/** Epoch ms from a user-supplied time (number of epoch ms, or Date); falls back to now(). */
export function toEpochMs(t: number | Date | undefined): number {
  if (t === undefined) return now();
  if (typeof t === 'number') return Number.isFinite(t) ? t : now();
  if (t instanceof Date) {
    const v = t.getTime();
    return Number.isFinite(v) ? v : now();
  }
  return now();
}
