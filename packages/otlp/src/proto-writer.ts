/**
 * A minimal protobuf writer: exactly the wire types OTLP traces use, written in one pass into one
 * growing buffer. A nested message reserves the number of length bytes it will probably need and
 * moves its content by a byte or two when the guess was wrong, so no size pass over the data is
 * needed (https://protobuf.dev/programming-guides/encoding/).
 */

const TWO_32 = 4294967296;

// Hex digit -> value; anything else is 0 (ids are validated before they get here).
const HEX = new Uint8Array(128);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[97 + i] = 10 + i;
  HEX[65 + i] = 10 + i;
}

const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);

/** Bytes a varint of the unsigned 32-bit `n` takes. */
export function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/** The writer. Reused across exports: `finish()` copies out the bytes written and resets it. */
export class ProtoWriter {
  buf: Buffer;
  pos = 0;

  constructor(initialSize = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** Make room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
      this.buf.copy(next, 0, 0, this.pos);
      this.buf = next;
    }
  }

  /**
   * The bytes written so far. The writer hands its buffer over (the body must outlive the next
   * export: it may be retried) and starts a new one of the size the last message needed, which
   * costs an allocation instead of a copy of the whole message.
   */
  finish(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    let next = 64 * 1024;
    while (next < this.pos && next < 4 * 1024 * 1024) next *= 2;
    this.buf = Buffer.allocUnsafe(next);
    this.pos = 0;
    return out;
  }

  /** An unsigned 32-bit varint (a tag, a length, a count, an enum). */
  uint32(n: number): void {
    this.ensure(5);
    const b = this.buf;
    let p = this.pos;
    while (n > 0x7f) {
      b[p++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    b[p++] = n;
    this.pos = p;
  }

  /** A tag: field number and wire type. */
  tag(field: number, wireType: number): void {
    this.uint32((field << 3) | wireType);
  }

  /** An int64 varint of a safe integer; negative values take ten bytes (two's complement). */
  int64(n: number): void {
    if (n >= 0 && n < TWO_32) {
      this.uint32(n >>> 0);
      return;
    }
    let hi = Math.floor(n / TWO_32);
    let lo = n - hi * TWO_32;
    hi = hi >>> 0; // two's complement of the high word for negative n
    lo = lo >>> 0;
    this.ensure(10);
    const b = this.buf;
    let p = this.pos;
    while (hi > 0 || lo > 0x7f) {
      b[p++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    b[p++] = lo;
    this.pos = p;
  }

  /** A fixed32, little endian. */
  fixed32(n: number): void {
    this.ensure(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = n & 0xff;
    b[p + 1] = (n >>> 8) & 0xff;
    b[p + 2] = (n >>> 16) & 0xff;
    b[p + 3] = (n >>> 24) & 0xff;
    this.pos = p + 4;
  }

  /**
   * A fixed64 of unix nanoseconds from epoch milliseconds (fraction kept, rounded to 1 ns), with no
   * bigint and no allocation: the same arithmetic as `unixNanosHalves` in common.ts.
   */
  unixNanos(epochMs: number): void {
    let ms = 0;
    let ns = 0;
    if (epochMs > 0 && epochMs !== Infinity) {
      ms = Math.floor(epochMs);
      ns = Math.round((epochMs - ms) * 1e6);
      if (ns >= 1e6) {
        ms += 1;
        ns -= 1e6;
      }
    }
    const msHi = Math.floor(ms / 65536);
    const a = msHi * 1e6;
    const aHi = Math.floor(a / 65536);
    const c = (a - aHi * 65536) * 65536 + (ms - msHi * 65536) * 1e6 + ns;
    const carry = Math.floor(c / TWO_32);
    this.fixed32(c - carry * TWO_32);
    this.fixed32(aHi + carry);
  }

  /** A fixed64 from its two unsigned 32-bit halves. */
  fixed64(lo: number, hi: number): void {
    this.fixed32(lo);
    this.fixed32(hi);
  }

  /** A double, little endian. */
  double(v: number): void {
    this.ensure(8);
    F64[0] = v;
    const b = this.buf;
    const p = this.pos;
    // Float64Array uses the platform's byte order; every platform Node runs on is little endian.
    for (let i = 0; i < 8; i++) b[p + i] = F64_BYTES[i];
    this.pos = p + 8;
  }

  /** A length-delimited field holding the bytes of a hex id (`bytes` fields trace_id, span_id). */
  hexBytes(field: number, hex: string, byteLength: number): void {
    this.ensure(2 + byteLength);
    const b = this.buf;
    let p = this.pos;
    b[p++] = (field << 3) | 2;
    b[p++] = byteLength;
    for (let i = 0, j = 0; i < byteLength; i++, j += 2) {
      b[p++] = (HEX[hex.charCodeAt(j) & 0x7f] << 4) | HEX[hex.charCodeAt(j + 1) & 0x7f];
    }
    this.pos = p;
  }

  /** A length-delimited string field (field number below 16: one tag byte). */
  string(field: number, s: string): void {
    const n = s.length;
    if (n < 43) {
      // At most 3 bytes per UTF-16 unit: the length fits one byte. ASCII is copied inline.
      this.ensure(2 + 3 * n);
      const b = this.buf;
      const start = this.pos;
      b[start] = (field << 3) | 2;
      let p = start + 2;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) {
          p = start + 2 + b.write(s, start + 2, 'utf8');
          break;
        }
        b[p++] = c;
      }
      b[start + 1] = p - start - 2;
      this.pos = p;
      return;
    }
    this.ensure(1);
    this.buf[this.pos++] = (field << 3) | 2;
    const max = 3 * n;
    const reserve = varintSize(max);
    this.ensure(reserve + max);
    const start = this.pos + reserve;
    const len = this.buf.write(s, start, 'utf8');
    this.pos = start + len;
    this.closeLength(start, reserve, len);
  }

  /**
   * A whole `KeyValue { key, value: AnyValue { string_value } }` in field `field`, when key and value
   * are short ASCII (the common attribute): one bounds check, every length one byte. Returns false,
   * having written nothing, when they are not; the caller then takes the general path.
   */
  keyValueAscii(field: number, key: string, value: string): boolean {
    const kl = key.length;
    const vl = value.length;
    // KeyValue content: 2 + kl (key) + 2 (value header) + 2 + vl (string_value)
    const inner = vl + 2;
    const total = kl + inner + 4;
    if (total > 127) return false;
    this.ensure(total + 2);
    const b = this.buf;
    const start = this.pos;
    let p = start;
    b[p++] = (field << 3) | 2;
    b[p++] = total;
    b[p++] = 0x0a; // key = 1
    b[p++] = kl;
    for (let i = 0; i < kl; i++) {
      const c = key.charCodeAt(i);
      if (c >= 0x80) return false;
      b[p++] = c;
    }
    b[p++] = 0x12; // value = 2
    b[p++] = inner;
    b[p++] = 0x0a; // string_value = 1
    b[p++] = vl;
    for (let i = 0; i < vl; i++) {
      const c = value.charCodeAt(i);
      if (c >= 0x80) return false;
      b[p++] = c;
    }
    this.pos = p;
    return true;
  }

  /**
   * A whole `KeyValue { key, value: AnyValue { int_value } }` for a short ASCII key and an integer in
   * 0..2^28 (counts, status codes, ports, tokens); false, nothing written, otherwise.
   */
  keyValueSmallInt(field: number, key: string, value: number): boolean {
    const kl = key.length;
    if (value < 0 || value >= 0x10000000) return false;
    const vs = varintSize(value);
    const inner = vs + 1;
    const total = kl + inner + 4;
    if (total > 127) return false;
    this.ensure(total + 2);
    const b = this.buf;
    let p = this.pos;
    b[p++] = (field << 3) | 2;
    b[p++] = total;
    b[p++] = 0x0a;
    b[p++] = kl;
    for (let i = 0; i < kl; i++) {
      const c = key.charCodeAt(i);
      if (c >= 0x80) return false;
      b[p++] = c;
    }
    b[p++] = 0x12;
    b[p++] = inner;
    b[p++] = 0x18; // int_value = 3, varint
    let n = value;
    while (n > 0x7f) {
      b[p++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    b[p++] = n;
    this.pos = p;
    return true;
  }

  /**
   * Starts a length-delimited (nested message) field, reserving `reserve` length bytes. Returns the
   * position where its content starts, to hand to `end`.
   */
  begin(field: number, reserve: number): number {
    this.ensure(1 + reserve);
    this.buf[this.pos++] = (field << 3) | 2;
    this.pos += reserve;
    return this.pos;
  }

  /** Ends the field started by `begin`: writes its length, moving the content if it needs to. */
  end(start: number, reserve: number): void {
    this.closeLength(start, reserve, this.pos - start);
  }

  private closeLength(start: number, reserve: number, len: number): void {
    const size = varintSize(len);
    if (size !== reserve) {
      const shift = size - reserve;
      if (shift > 0) this.ensure(shift);
      this.buf.copyWithin(start + shift, start, start + len);
      this.pos += shift;
      start += shift;
    }
    const b = this.buf;
    let p = start - size;
    while (len > 0x7f) {
      b[p++] = (len & 0x7f) | 0x80;
      len >>>= 7;
    }
    b[p] = len;
  }
}
