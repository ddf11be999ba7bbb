/**
 * Bytes → complete lines, for the SSE and NDJSON parsers. Line ends are found with
 * `Buffer.indexOf` (native memchr), never a per-byte JS loop. A line is handed over as
 * `(buffer, start, end)` only once complete, so it is decoded from bytes in one piece: a chunk
 * boundary inside a multi-byte UTF-8 character cannot split it, and any re-chunking of the same bytes
 * gives the same lines. Only the unfinished tail of a chunk is copied, into one reusable buffer;
 * a line longer than `maxLineBytes` is dropped (counted) instead of growing memory without bound.
 */

type Utf8Slicer = (this: Buffer, start: number, end: number) => string;
// Buffer's own UTF-8 decoder, without `toString`'s encoding lookup and argument checks (a measurable
// share of the per-line cost); `toString` where a runtime lacks it.
const utf8Slice = (Buffer.prototype as unknown as { utf8Slice?: Utf8Slicer }).utf8Slice;

/** Decodes `buf[start, end)` as UTF-8 (malformed bytes become U+FFFD). */
export const utf8: (buf: Buffer, start: number, end: number) => string =
  typeof utf8Slice === 'function'
    ? (buf, start, end) => utf8Slice.call(buf, start, end)
    : (buf, start, end) => buf.toString('utf8', start, end);

/** Receives one complete line, without its line end. The buffer is only valid during the call. */
export type LineHandler = (buf: Buffer, start: number, end: number) => void;

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = Buffer.alloc(0);
const MIN_STASH = 1024;
// A stash grown past this is released after use, so one long line does not pin memory.
const KEEP_STASH = 64 * 1024;

export class LineSplitter {
  /** Lines dropped because they were longer than `maxLineBytes`. */
  overflowed = 0;
  private stash: Buffer = EMPTY;
  private stashLen = 0;
  /** The current line already passed `maxLineBytes`: skip to its end. */
  private overflow = false;
  /** The previous chunk ended with CR: an LF starting the next one belongs to that line end. */
  private skipLF = false;

  /**
   * @param onLine called for each complete line
   * @param onOverflow called instead of `onLine` for a line that was too long
   * @param crIsLineEnd SSE: a lone CR ends a line too (NDJSON: only LF; the handler strips a CR before it)
   * @param maxLineBytes longest line kept
   */
  constructor(
    private readonly onLine: LineHandler,
    private readonly onOverflow: () => void,
    private readonly crIsLineEnd: boolean,
    private readonly maxLineBytes: number,
  ) {}

  /** Bytes held for an unfinished line (the reusable buffer's size). */
  get retainedBytes(): number {
    return this.stash.length;
  }

  /** Whether bytes of an unfinished line are waiting for its end. */
  get hasPartialLine(): boolean {
    return this.stashLen > 0 || this.overflow;
  }

  write(buf: Buffer): void {
    const len = buf.length;
    let pos = 0;
    if (this.skipLF) {
      this.skipLF = false;
      if (len > 0 && buf[0] === LF) pos = 1;
    }
    // Where the next CR is, searched again only once passed: streams without CR pay one search.
    let cr = this.crIsLineEnd ? buf.indexOf(CR, pos) : -1;
    while (pos < len) {
      const lf = buf.indexOf(LF, pos);
      if (cr !== -1 && cr < pos) cr = buf.indexOf(CR, pos);
      let end: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        end = cr;
        if (cr + 1 < len) {
          next = buf[cr + 1] === LF ? cr + 2 : cr + 1;
        } else {
          next = len;
          this.skipLF = true;
        }
      } else if (lf !== -1) {
        end = lf;
        next = lf + 1;
      } else {
        this.keep(buf, pos, len);
        return;
      }
      if (this.stashLen > 0 || this.overflow) this.completeStashed(buf, pos, end);
      else if (end - pos > this.maxLineBytes) this.drop();
      else this.onLine(buf, pos, end);
      pos = next;
    }
  }

  /** Hands over the unterminated last line, if any (NDJSON at end of stream). */
  flush(): void {
    if (this.overflow) {
      this.drop();
    } else if (this.stashLen > 0) {
      const n = this.stashLen;
      this.stashLen = 0;
      this.onLine(this.stash, 0, n);
    }
    this.release();
  }

  /** Forgets the unterminated last line (SSE at end of stream; any format when cut). */
  discard(): void {
    this.stashLen = 0;
    this.overflow = false;
    this.skipLF = false;
    this.release();
  }

  private drop(): void {
    this.overflow = false;
    this.stashLen = 0;
    this.overflowed++;
    this.onOverflow();
  }

  private completeStashed(buf: Buffer, start: number, end: number): void {
    if (this.overflow) {
      this.drop();
      return;
    }
    const total = this.stashLen + (end - start);
    if (total > this.maxLineBytes) {
      this.drop();
      this.release();
      return;
    }
    this.reserve(total);
    buf.copy(this.stash, this.stashLen, start, end);
    this.stashLen = 0;
    this.onLine(this.stash, 0, total);
    if (this.stash.length > KEEP_STASH) this.release();
  }

  private keep(buf: Buffer, start: number, end: number): void {
    if (this.overflow) return;
    const total = this.stashLen + (end - start);
    if (total > this.maxLineBytes) {
      this.overflow = true;
      this.stashLen = 0;
      this.release();
      return;
    }
    this.reserve(total);
    buf.copy(this.stash, this.stashLen, start, end);
    this.stashLen = total;
  }

  private reserve(size: number): void {
    if (size <= this.stash.length) return;
    let cap = Math.max(MIN_STASH, this.stash.length * 2);
    while (cap < size) cap *= 2;
    const grown = Buffer.allocUnsafe(Math.min(cap, Math.max(size, this.maxLineBytes)));
    if (this.stashLen > 0) this.stash.copy(grown, 0, 0, this.stashLen);
    this.stash = grown;
  }

  private release(): void {
    if (this.stashLen === 0) this.stash = EMPTY;
  }
}
