/**
 * Guards around the user's callbacks (predicates, samplers, tail policies, hooks): whatever they
 * do, nothing reaches the request that called them (docs/design.md "Safety defaults"). One place
 * for what used to be written out per option.
 */
import { warnOnce, writeWarning } from '../diag/warn';

/** `Error: message` for a thrown value, safely (a throwing getter or toString gives a placeholder). */
export function errorText(err: unknown): string {
  try {
    return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  } catch {
    return 'unprintable error';
  }
}

/** The message of a thrown value (`message` of an Error, else the value as text), safely. */
export function errorMessage(err: unknown): string {
  try {
    return err instanceof Error ? err.message : String(err);
  } catch {
    return 'unprintable error';
  }
}

/**
 * `fn` wrapped so that it never throws: a throw answers `onThrow` and is reported once per wrapped
 * function as `<what> threw (<error>); <consequence>. Reported once.` `accept` turns what `fn`
 * returned into the answer (a predicate: only `true` counts).
 */
export function guardCallback<A, R, T>(fn: (arg: A) => R, what: string, accept: (value: R) => T, onThrow: T, consequence: string): (arg: A) => T {
  let reported = false;
  return (arg) => {
    try {
      return accept(fn(arg));
    } catch (err) {
      if (!reported) {
        reported = true;
        writeWarning(`${what} threw (${errorText(err)}); ${consequence}. Reported once.`);
      }
      return onThrow;
    }
  };
}

/** Only `true` is true: a predicate that returns anything else answers false. */
export const isTrue = (value: unknown): boolean => value === true;

/**
 * A user predicate that can never throw into a request: only `true` is true, and a throw answers
 * `onThrow` (reported once, naming `option`).
 */
export function guardPredicate<A>(fn: (arg: A) => unknown, option: string, onThrow: boolean): (arg: A) => boolean {
  return guardCallback(fn, `the ${option} function`, isTrue, onThrow, `treated as ${onThrow}`);
}

/**
 * Runs a user hook (`onRequest`, `onResponse`...) once: a throw is logged once per `key` and
 * ignored, so the request goes on.
 */
export function callHook(key: string, name: string, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    warnOnce(key, `${name} hook threw (${errorMessage(err)}); ignored (logged once)`);
  }
}
