import type { FinishedTrace, SpanData, TailPolicy } from '../types';
import { isPlainObject, optionError, rejectUnknownKeys } from '../internal/validate';
import { guardCallback } from '../internal/guard';
import { traceIdBelowRatio } from './head';

/** A compiled tail policy: true keeps the trace. */
export type TailFn = (trace: FinishedTrace) => boolean;

const TAIL_KEYS: ReadonlySet<string> = new Set(['keepErrors', 'slowerThanMs', 'ratio']);

/**
 * Compile the `tail` option once at setup. `undefined` gives `undefined`: keep everything, no
 * per-trace work. Object form: keep traces with an error span (`keepErrors`, default true), traces
 * whose root lasted at least `slowerThanMs`, and a `ratio` (default 1) of the rest, chosen by trace
 * id with the same rule as head sampling. Function form: only `false` drops; a throw keeps the
 * trace and is reported once. Late fragments (`fragment > 0`) are always kept: their first part
 * already went through the policy, and judging a fragment on its few late spans alone would split
 * the trace.
 * Throws a TypeError naming the option (`tail.ratio`, ...) when the policy is invalid.
 */
export function compileTailPolicy(tail: TailPolicy | undefined): TailFn | undefined {
  if (tail === undefined) return undefined;
  if (typeof tail === 'function') return guardTail(tail);
  if (!isPlainObject(tail)) {
    throw optionError('tail', 'an object ({ keepErrors, slowerThanMs, ratio }) or a function', tail);
  }
  rejectUnknownKeys(tail, TAIL_KEYS, 'tail.');
  const { keepErrors = true, slowerThanMs, ratio = 1 } = tail;
  if (typeof keepErrors !== 'boolean') throw optionError('tail.keepErrors', 'a boolean', keepErrors);
  if (slowerThanMs !== undefined && !(typeof slowerThanMs === 'number' && slowerThanMs >= 0 && Number.isFinite(slowerThanMs))) {
    throw optionError('tail.slowerThanMs', 'a non-negative finite number', slowerThanMs);
  }
  if (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1)) {
    throw optionError('tail.ratio', 'a number between 0 and 1', ratio);
  }

  return (t) => {
    if (t.fragment > 0) return true;
    if (keepErrors && hasError(t.spans)) return true;
    if (slowerThanMs !== undefined) {
      const root = rootSpan(t);
      if (root !== undefined && root.endTime - root.startTime >= slowerThanMs) return true;
    }
    return traceIdBelowRatio(t.traceId, ratio);
  };
}

function hasError(spans: SpanData[]): boolean {
  for (const s of spans) if (s.status.code === 'error') return true;
  return false;
}

/** The local root span, or the earliest span when the root is not in this export. */
function rootSpan(t: FinishedTrace): SpanData | undefined {
  let earliest: SpanData | undefined;
  for (const s of t.spans) {
    if (s.spanId === t.rootSpanId) return s;
    if (earliest === undefined || s.startTime < earliest.startTime) earliest = s;
  }
  return earliest;
}

function guardTail(fn: (trace: FinishedTrace) => boolean): TailFn {
  // Only `false` drops; a throw keeps the trace.
  const judge = guardCallback(fn, 'the tail policy function', (kept) => kept !== false, true, 'the trace is kept');
  return (t) => t.fragment > 0 || judge(t);
}
