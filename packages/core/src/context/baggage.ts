import type { Baggage, BaggageEntry } from '../propagation/baggage';
import { isValidBaggageKey } from '../propagation/baggage';
import { currentBaggage, runWithBaggage } from './storage';
import { warnOnce } from '../diag/warn';

/** What `withBaggage` takes: values (or full entries) by key; `null`/`undefined` removes a key. */
export type BaggageInput = Baggage | Record<string, string | BaggageEntry | null | undefined>;

const EMPTY: Baggage = new Map();

/**
 * The baggage of the active context: the incoming request's W3C `baggage`, plus what `withBaggage`
 * set around this code. A copy: changing it changes nothing; use `withBaggage`.
 * Baggage is not recorded on spans (unless listed in the `baggage` propagator's `attributes`).
 */
export function getBaggage(): Map<string, BaggageEntry> {
  const b = currentBaggage();
  return b === undefined ? new Map() : new Map(b);
}

function entryOf(key: string, v: unknown): BaggageEntry | null | undefined {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return { value: v };
  if (typeof v === 'object' && typeof (v as BaggageEntry).value === 'string') {
    const e = v as BaggageEntry;
    return e.properties === undefined ? { value: e.value } : { value: e.value, properties: e.properties.slice() };
  }
  warnOnce(`withBaggage:value:${key}`, `withBaggage: the value of "${key}" is neither a string nor { value }; it is ignored`);
  return undefined;
}

/**
 * Runs `fn` with `entries` merged over the active baggage: `tracedFetch` (and `injectContext`)
 * send it on as the `baggage` header, and `getBaggage()` sees it inside `fn`. A `null` or
 * `undefined` value removes that key. A key that is not an HTTP token, or a value that is not a
 * string, is ignored with a warning (once); this never throws for bad entries, and returns what
 * `fn` returns (its errors untouched).
 */
export function withBaggage<T>(entries: BaggageInput, fn: () => T): T {
  let next: Map<string, BaggageEntry> | undefined;
  try {
    next = new Map(currentBaggage() ?? EMPTY);
    const pairs: Iterable<[string, unknown]> =
      entries instanceof Map ? (entries as Map<string, unknown>).entries() : entries !== null && typeof entries === 'object' ? Object.entries(entries) : [];
    for (const [key, value] of pairs) {
      if (!isValidBaggageKey(key)) {
        warnOnce(`withBaggage:key:${key}`, `withBaggage: ${JSON.stringify(key)} is not a valid baggage key (an HTTP token); it is ignored`);
        continue;
      }
      const entry = entryOf(key, value);
      if (entry === null) next.delete(key);
      else if (entry !== undefined) next.set(key, entry);
    }
  } catch (err) {
    warnOnce('withBaggage:internal', `withBaggage failed (${err instanceof Error ? err.message : String(err)}); the baggage is left as it was`);
    next = undefined;
  }
  return next === undefined ? fn() : runWithBaggage(next, fn);
}
