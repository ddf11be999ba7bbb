// W3C Trace Context Level 2, `tracestate`: https://www.w3.org/TR/trace-context-2/#tracestate-header
// Hand-scanned over the combined header value, so parsing allocates only the keys and values it
// returns.

/** At most 32 list-members (#list). */
export const MAX_TRACESTATE_MEMBERS = 32;
/** simple-key: lcalpha 0*255(...) (#key). */
const MAX_SIMPLE_KEY = 256;
/** tenant-id: (lcalpha / DIGIT) 0*240(...) (#key). */
const MAX_TENANT_ID = 241;
/** system-id: lcalpha 0*13(...) (#key). */
const MAX_SYSTEM_ID = 14;
/** value: 0*255(chr) nblk-chr (#value). */
const MAX_VALUE = 256;

const COMMA = 0x2c;
const EQUALS = 0x3d;
const AT = 0x40;
const SPACE = 0x20;
const TAB = 0x09;

function isOws(c: number): boolean {
  return c === SPACE || c === TAB;
}

function isLcAlpha(c: number): boolean {
  return c >= 0x61 && c <= 0x7a;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** lcalpha / DIGIT / "_" / "-" / "*" / "/" — the characters after the first of every key part. */
function isKeyChar(c: number): boolean {
  return isLcAlpha(c) || isDigit(c) || c === 0x5f || c === 0x2d || c === 0x2a || c === 0x2f;
}

/**
 * `key = simple-key / multi-tenant-key` over `s[start, end)` (#key):
 *   simple-key       = lcalpha 0*255( lcalpha / DIGIT / "_" / "-" / "*" / "/" )
 *   multi-tenant-key = tenant-id "@" system-id
 *   tenant-id        = ( lcalpha / DIGIT ) 0*240( ... )
 *   system-id        = lcalpha 0*13( ... )
 */
function isValidKey(s: string, start: number, end: number): boolean {
  if (end <= start) return false;
  const first = s.charCodeAt(start);
  // Both forms begin with lcalpha or DIGIT (a digit only for a tenant-id); '@' never comes first.
  if (!isLcAlpha(first) && !isDigit(first)) return false;
  let at = -1;
  for (let i = start + 1; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === AT) {
      if (at !== -1) return false; // one '@' only
      at = i;
    } else if (!isKeyChar(c)) {
      return false;
    }
  }
  if (at === -1) return isLcAlpha(first) && end - start <= MAX_SIMPLE_KEY;
  const systemLength = end - at - 1;
  return (
    at - start <= MAX_TENANT_ID &&
    systemLength >= 1 &&
    systemLength <= MAX_SYSTEM_ID &&
    isLcAlpha(s.charCodeAt(at + 1))
  );
}

/**
 * `value = 0*255(chr) nblk-chr` over `s[start, end)` (#value): 1 to 256 printable ASCII characters
 * other than ',' and '=', the last one not a space. ',' cannot occur here (it ends the member).
 */
function isValidValue(s: string, start: number, end: number): boolean {
  const length = end - start;
  if (length < 1 || length > MAX_VALUE) return false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === EQUALS || c === COMMA) return false;
  }
  return s.charCodeAt(end - 1) !== SPACE;
}

/** Combine several header fields into one list (#combined-header-value, RFC 9110 §5.3). */
function combine(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value) || value.length === 0) return null;
  for (let i = 0; i < value.length; i++) if (typeof value[i] !== 'string') return null;
  return value.length === 1 ? (value[0] as string) : value.join(',');
}

/**
 * Parse a `tracestate` header value (or several, combined) into `[key, value]` entries, leftmost
 * first. Returns `null` when the header is absent or any part of it is invalid (the whole list is
 * then dropped); an empty or whitespace-only header gives `[]`. Never throws.
 */
export function parseTracestate(value: string | string[] | undefined | null): Array<[string, string]> | null {
  const s = combine(value);
  if (s === null) return null;
  const entries: Array<[string, string]> = [];
  const n = s.length;
  let pos = 0;
  while (pos <= n) {
    let end = s.indexOf(',', pos);
    if (end === -1) end = n;
    // OWS around list-members is ignored (#list); a trailing space after a value is OWS too,
    // not part of the value (#value).
    let a = pos;
    let b = end;
    while (a < b && isOws(s.charCodeAt(a))) a++;
    while (b > a && isOws(s.charCodeAt(b - 1))) b--;
    pos = end + 1;
    // Empty and whitespace-only members are allowed and skipped: they come from joining several
    // headers, or from senders that add a space after every comma (#tracestate-header-field-values).
    if (a === b) continue;
    const eq = s.indexOf('=', a);
    if (eq === -1 || eq >= b) return null;
    if (!isValidKey(s, a, eq) || !isValidValue(s, eq + 1, b)) return null;
    // 32 members at most (#list); more make the list invalid rather than silently truncated.
    if (entries.length === MAX_TRACESTATE_MEMBERS) return null;
    const key = s.slice(a, eq);
    // One entry per key (#combined-header-value): a duplicate means the list was mangled.
    for (let i = 0; i < entries.length; i++) if (entries[i][0] === key) return null;
    entries.push([key, s.slice(eq + 1, b)]);
  }
  return entries;
}

/**
 * Format entries as a `tracestate` value, `k=v,k2=v2`. Keeps the first 32 valid entries:
 * an entry this module would reject on parsing is skipped, so the header we send is always one we
 * accept (and a stray CR/LF can never reach a header).
 */
export function formatTracestate(entries: ReadonlyArray<readonly [string, string]>): string {
  let out = '';
  let count = 0;
  for (let i = 0; i < entries.length && count < MAX_TRACESTATE_MEMBERS; i++) {
    const entry = entries[i];
    if (!Array.isArray(entry)) continue;
    const [key, value] = entry;
    if (typeof key !== 'string' || typeof value !== 'string') continue;
    if (!isValidKey(key, 0, key.length) || !isValidValue(value, 0, value.length)) continue;
    out += count === 0 ? key + '=' + value : ',' + key + '=' + value;
    count++;
  }
  return out;
}

/**
 * The canonical form of a `tracestate` header (no OWS, no empty members), or `undefined` when it
 * is absent, empty or invalid.
 */
export function normalizeTracestate(value: string | string[] | undefined | null): string | undefined {
  const entries = parseTracestate(value);
  if (entries === null || entries.length === 0) return undefined;
  // Already validated and at most 32: join directly instead of re-checking in formatTracestate.
  let out = entries[0][0] + '=' + entries[0][1];
  for (let i = 1; i < entries.length; i++) out += ',' + entries[i][0] + '=' + entries[i][1];
  return out;
}
