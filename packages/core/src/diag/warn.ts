/**
 * Diagnostics on stderr. One line each, prefixed `[tracewire] `, and never more than once per key
 * (or once per interval), so a misconfiguration or a failing exporter cannot flood the logs.
 * Nothing here ever throws: these are called from catch blocks and from the request path.
 */

const PREFIX = '[tracewire] ';
// Keys are chosen by our own code, but some embed user values (an env value, an exporter name):
// cap the bookkeeping so it stays bounded whatever happens.
const MAX_KEYS = 1000;

const warned = new Set<string>();
const throttled = new Map<string, { last: number; suppressed: number }>();

/** Write one `[tracewire] ` line to stderr, unconditionally. Never throws. */
export function writeWarning(message: string): void {
  try {
    process.stderr.write(PREFIX + message + '\n');
  } catch {
    // stderr closed or replaced by something that throws: diagnostics are best effort.
  }
}

/** Write `message` to stderr the first time `key` is seen, and never again for that key. */
export function warnOnce(key: string, message: string): void {
  try {
    if (warned.has(key)) return;
    if (warned.size >= MAX_KEYS) warned.delete(warned.values().next().value as string);
    warned.add(key);
  } catch {
    return;
  }
  writeWarning(message);
}

/**
 * Write `message` at most once per `intervalMs` for `key` (exporter errors and similar repeating
 * failures). The next line written says how many were suppressed in between.
 */
export function logThrottled(key: string, message: string, intervalMs = 60000): void {
  let line: string | undefined;
  try {
    const now = Date.now();
    const entry = throttled.get(key);
    if (entry !== undefined && now - entry.last < intervalMs) {
      entry.suppressed++;
      return;
    }
    const suppressed = entry?.suppressed ?? 0;
    if (entry === undefined && throttled.size >= MAX_KEYS) {
      throttled.delete(throttled.keys().next().value as string);
    }
    throttled.set(key, { last: now, suppressed: 0 });
    line = suppressed > 0 ? `${message} (${suppressed} similar suppressed)` : message;
  } catch {
    return;
  }
  writeWarning(line);
}

/** Forget which warnings were already written (for tests). */
export function resetWarnings(): void {
  warned.clear();
  throttled.clear();
}
