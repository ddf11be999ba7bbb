// W3C Baggage, the `baggage` header: https://www.w3.org/TR/baggage/ (w3c/baggage,
// baggage/HTTP_HEADER_FORMAT.md). Application key/value pairs that travel with a request.
//
//   baggage-string = list-member 0*179( OWS "," OWS list-member )
//   list-member    = key OWS "=" OWS value *( OWS ";" OWS property )
//   property       = key OWS "=" OWS value / key OWS
//   key            = token (RFC 7230 §3.2.6)
//   value          = *baggage-octet, percent-encoded beyond it

/** One baggage entry: its value (percent-decoded) and the properties that followed it, if any. */
export interface BaggageEntry {
  value: string;
  /** `;k=v` and `;k` properties in order; their values are percent-decoded like entry values. */
  properties?: BaggageProperty[];
}

/** A property of a baggage entry (`;key=value`, or `;key` alone). */
export interface BaggageProperty {
  key: string;
  value?: string;
}

/** Baggage: entries by key, in header order. Treat it as immutable; `withBaggage` makes new ones. */
export type Baggage = ReadonlyMap<string, BaggageEntry>;

/** The ABNF's limit, `list-member 0*179(...)`: 180 members. */
export const MAX_BAGGAGE_MEMBERS = 180;
/** The combined `baggage-string` size every platform must be able to propagate (#limits). */
export const MAX_BAGGAGE_BYTES = 8192;

const SPACE = 0x20;
const TAB = 0x09;
const PERCENT = 0x25;

function isOws(c: number): boolean {
  return c === SPACE || c === TAB;
}

// token = 1*tchar; tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" /
// "`" / "|" / "~" / DIGIT / ALPHA (RFC 7230 §3.2.6). A table built once: one lookup per character.
const TCHAR = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;
for (const ch of "!#$%&'*+-.^_`|~") TCHAR[ch.charCodeAt(0)] = 1;

// baggage-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E: printable ASCII except space,
// DQUOTE, comma, semicolon and backslash.
const OCTET = new Uint8Array(128);
for (let c = 0x21; c <= 0x7e; c++) OCTET[c] = 1;
OCTET[0x22] = 0;
OCTET[0x2c] = 0;
OCTET[0x3b] = 0;
OCTET[0x5c] = 0;

function isToken(s: string, start: number, end: number): boolean {
  if (end <= start) return false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TCHAR[c] === 0) return false;
  }
  return true;
}

/** True for a string that is a valid baggage key (an RFC 7230 token). */
export function isValidBaggageKey(key: unknown): key is string {
  return typeof key === 'string' && isToken(key, 0, key.length);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * The value over `s[start, end)`, percent-decoded, or `undefined` when a character is not a
 * baggage-octet or a `%` does not start an escape. Decoded octets that are not UTF-8 become U+FFFD,
 * as #value requires ("MUST be replaced with the replacement code point").
 */
function decodeValue(s: string, start: number, end: number): string | undefined {
  let escapes = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || OCTET[c] === 0) return undefined;
    if (c === PERCENT) escapes++;
  }
  if (escapes === 0) return s.slice(start, end);
  const bytes = Buffer.allocUnsafe(end - start - escapes * 2);
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c !== PERCENT) {
      bytes[n++] = c;
      continue;
    }
    const hi = i + 2 < end ? hexValue(s.charCodeAt(i + 1)) : -1;
    const lo = hi >= 0 ? hexValue(s.charCodeAt(i + 2)) : -1;
    // "The percent code point (U+0025) MUST be percent-encoded": a bare % is malformed.
    if (lo < 0) return undefined;
    bytes[n++] = hi * 16 + lo;
    i += 2;
  }
  return bytes.toString('utf8', 0, n);
}

const INVALID = 0;
const VALID = 1;
const CANONICAL = 2;

/**
 * One `list-member` over `s[a, b)` (already trimmed) into `out`: INVALID when any part of it is
 * invalid, CANONICAL when it is written exactly as formatBaggage would write it (no OWS, no escapes,
 * no empty property), VALID otherwise. Index arithmetic only: no slices but the key and value kept.
 */
function parseMember(s: string, a: number, b: number, out: Map<string, BaggageEntry>): number {
  let semi = s.indexOf(';', a);
  if (semi === -1 || semi > b) semi = b;
  const eq = s.indexOf('=', a);
  if (eq === -1 || eq >= semi) return INVALID;
  let kb = eq;
  while (kb > a && isOws(s.charCodeAt(kb - 1))) kb--;
  if (!isToken(s, a, kb)) return INVALID;
  let va = eq + 1;
  let vb = semi;
  while (va < vb && isOws(s.charCodeAt(va))) va++;
  while (vb > va && isOws(s.charCodeAt(vb - 1))) vb--;
  const value = decodeValue(s, va, vb);
  if (value === undefined) return INVALID;
  // Escapes always shorten the text: an unchanged length means none were decoded.
  let canonical = kb === eq && va === eq + 1 && vb === semi && value.length === vb - va;
  const entry: BaggageEntry = { value };
  let pos = semi;
  while (pos < b) {
    let next = s.indexOf(';', pos + 1);
    if (next === -1 || next > b) next = b;
    const start = pos + 1;
    let pa = start;
    let pb = next;
    pos = next;
    while (pa < pb && isOws(s.charCodeAt(pa))) pa++;
    while (pb > pa && isOws(s.charCodeAt(pb - 1))) pb--;
    if (pa !== start || pb !== next) canonical = false;
    // An empty property (`k=v;`, `;;`) carries nothing: skipped, not a reason to drop the entry.
    if (pa === pb) {
      canonical = false;
      continue;
    }
    const peq = s.indexOf('=', pa);
    let property: BaggageProperty;
    if (peq === -1 || peq >= pb) {
      if (!isToken(s, pa, pb)) return INVALID;
      property = { key: s.slice(pa, pb) };
    } else {
      let pkb = peq;
      while (pkb > pa && isOws(s.charCodeAt(pkb - 1))) pkb--;
      if (!isToken(s, pa, pkb)) return INVALID;
      let pva = peq + 1;
      while (pva < pb && isOws(s.charCodeAt(pva))) pva++;
      const pv = decodeValue(s, pva, pb);
      if (pv === undefined) return INVALID;
      if (pkb !== peq || pva !== peq + 1 || pv.length !== pb - pva) canonical = false;
      property = { key: s.slice(pa, pkb), value: pv };
    }
    (entry.properties ??= []).push(property);
  }
  out.set(s.slice(a, kb), entry);
  return canonical ? CANONICAL : VALID;
}

/**
 * The header text of baggage parsed from a header already in the form formatBaggage writes: a
 * service passing its caller's baggage on unchanged (the common case) writes it without
 * re-encoding. Parsed maps are never changed afterwards (withBaggage makes new ones).
 */
const FORMATTED = new WeakMap<Baggage, string>();

function combine(value: string | string[] | undefined | null): string | undefined {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value) || value.length === 0) return undefined;
  for (let i = 0; i < value.length; i++) if (typeof value[i] !== 'string') return undefined;
  return value.length === 1 ? value[0] : value.join(',');
}

/**
 * Parse a `baggage` header value (or several, combined as one list). Invalid members are dropped
 * one by one, the rest kept; members past 180, or past 8192 bytes counted as received, are dropped
 * whole (#limits: never part of a member). A key given twice keeps its first position and its last
 * value. Returns `undefined` when the header is absent or nothing valid is left. Never throws.
 */
export function parseBaggage(value: string | string[] | undefined | null): Map<string, BaggageEntry> | undefined {
  const s = combine(value);
  if (s === undefined) return undefined;
  const out = new Map<string, BaggageEntry>();
  let members = 0;
  let bytes = 0;
  const n = s.length;
  let pos = 0;
  // Exactly what formatBaggage would write: no OWS, no empty, invalid or dropped members, no
  // escapes, no repeated key.
  let canonical = true;
  while (pos < n) {
    let end = s.indexOf(',', pos);
    if (end === -1) end = n;
    const start = pos;
    let a = pos;
    let b = end;
    pos = end + 1;
    while (a < b && isOws(s.charCodeAt(a))) a++;
    while (b > a && isOws(s.charCodeAt(b - 1))) b--;
    if (a !== start || b !== end) canonical = false;
    if (a === b) continue;
    // Counted as received (plus its comma): the limits apply to the combined header (#limits).
    bytes += b - a + (members > 0 ? 1 : 0);
    if (members === MAX_BAGGAGE_MEMBERS || bytes > MAX_BAGGAGE_BYTES) {
      canonical = false;
      break;
    }
    const result = parseMember(s, a, b, out);
    if (result !== CANONICAL) canonical = false;
    if (result !== INVALID) members++;
  }
  if (out.size === 0) return undefined;
  // A repeated key leaves fewer entries than members.
  if (canonical && out.size === members && s.charCodeAt(n - 1) !== 0x2c) FORMATTED.set(out, s);
  return out;
}

/** Percent-encodes what is not a baggage-octet (and `%` itself); UTF-8 for non-ASCII (#value). */
function encodeValue(v: string): string | undefined {
  let plain = true;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c >= 128 || OCTET[c] === 0 || c === PERCENT) {
      plain = false;
      break;
    }
  }
  if (plain) return v;
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 128 && OCTET[c] === 1 && c !== PERCENT) {
      out += v[i];
      continue;
    }
    if (c < 128) {
      out += '%' + (c < 16 ? '0' : '') + c.toString(16).toUpperCase();
      continue;
    }
    // A surrogate pair is one code point; a lone surrogate cannot be UTF-8: the entry is dropped.
    const hiSurrogate = c >= 0xd800 && c <= 0xdbff;
    const ch = hiSurrogate ? v.slice(i, i + 2) : v[i];
    try {
      out += encodeURIComponent(ch);
    } catch {
      return undefined;
    }
    if (hiSurrogate) i++;
  }
  return out;
}

/** `key=value;p1=v1;p2` for one entry, or undefined when it cannot be written. */
function formatMember(key: string, entry: BaggageEntry): string | undefined {
  if (!isValidBaggageKey(key) || entry === null || typeof entry !== 'object' || typeof entry.value !== 'string') return undefined;
  const value = encodeValue(entry.value);
  if (value === undefined) return undefined;
  let out = key + '=' + value;
  const props = entry.properties;
  if (Array.isArray(props)) {
    for (const p of props) {
      if (p === null || typeof p !== 'object' || !isValidBaggageKey(p.key)) return undefined;
      if (p.value === undefined) {
        out += ';' + p.key;
      } else {
        const pv = typeof p.value === 'string' ? encodeValue(p.value) : undefined;
        if (pv === undefined) return undefined;
        out += ';' + p.key + '=' + pv;
      }
    }
  }
  return out;
}

/**
 * Format baggage as a `baggage` header value. Entries that cannot be written (a key that is not a
 * token, a value with a lone surrogate) are skipped; whole members are kept, in order, while the
 * list stays within 180 members and 8192 bytes (#limits). `''` when nothing is left.
 */
export function formatBaggage(baggage: Baggage | Iterable<readonly [string, BaggageEntry]>): string {
  let out = '';
  let members = 0;
  const add = (entry: BaggageEntry, key: string): void => {
    if (members === MAX_BAGGAGE_MEMBERS) return;
    const member = formatMember(key, entry);
    if (member === undefined) return;
    // Encoded values are ASCII: string length is the byte count.
    if (out.length + (members > 0 ? 1 : 0) + member.length > MAX_BAGGAGE_BYTES) return;
    out += members > 0 ? ',' + member : member;
    members++;
  };
  if (baggage instanceof Map) {
    const cached = FORMATTED.get(baggage);
    if (cached !== undefined) return cached;
    baggage.forEach(add);
  }
  else for (const [key, entry] of baggage) add(entry, key);
  return out;
}
