/**
 * Chunks → complete lines, for the SSE and NDJSON parsers. A chunk is text (a relay that writes
 * strings: already decoded, so it is split as it is) or bytes, decoded as UTF-8 by a streaming
 * decoder that holds back a character cut by the chunk's end until the rest of it arrives, so any
 * re-chunking of the same bytes gives the same text (malformed bytes become U+FFFD, as decoding
 * the whole body would give). Line ends are found with `indexOf` (native), and a complete line is
 * handed over as a view `(text, start, end)` of the text it lies in, so a line inside one chunk is
 * never copied; only the unfinished tail of a chunk is kept, and joined to the rest of its line
 * when that comes. A line longer than `maxLineBytes` (UTF-8 bytes) is dropped (counted) instead of
 * growing memory without bound.
 *
 * Why decode bytes a chunk at a time rather than a line at a time: a call into Node's decoder costs
 * about the same for a 200-byte chunk as for a 200-byte line, and finding and checking lines byte
 * by byte in JavaScript costs several times more than the string's native `indexOf`.
 */
// Imported: the global `Buffer` is a getter, a measurable cost per chunk.
import { Buffer, isAscii } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';

/** Receives one complete line `text[start, end)`, without its line end. */
export type LineHandler = (text: string, start: number, end: number) => void;

const LF = 0x0a;
/** Byte chunks from this size on are decoded as described at `writeLarge`. */
const LARGE = 1024;

/**
 * Node's streaming UTF-8 decoder. `lastNeed` (bytes still missing for a character it holds back)
 * has been on it since its JavaScript days; @types/node leaves it out.
 */
type Utf8Decoder = StringDecoder & { readonly lastNeed: number };

type WellFormedString = { isWellFormed(): boolean; toWellFormed(): string };

/**
 * The text a writer's string becomes on the wire: `Buffer.from` turns a lone surrogate (half of
 * an emoji cut by the writer) into U+FFFD, so the tap sees what the client gets. Close to free for
 * Latin-1-only strings, which cannot hold a surrogate; other strings are scanned (ES2024, in Node
 * since 20).
 */
export function wellFormed(s: string): string {
  const w = s as unknown as WellFormedString;
  return w.isWellFormed() ? s : w.toWellFormed();
}

/**
 * `s` as a string of its own. V8 makes a substring of 13 or more characters a view that keeps the
 * whole string it was cut from alive; joining one more character and cutting it off again makes
 * V8 copy it first. For text kept long after its chunk (a learnt prefix, an unfinished line).
 */
export function detach(s: string): string {
  return s.length < 13 ? s : (s + ' ').slice(0, -1);
}

/** UTF-8 size of `text[start, end)` (a lone surrogate counts as U+FFFD, 3 bytes, as `Buffer.from` encodes it). */
export function utf8Length(text: string, start = 0, end = text.length): number {
  if (end - start > 32) return Buffer.byteLength(start === 0 && end === text.length ? text : text.slice(start, end), 'utf8');
  let n = end - start;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      n += 1;
    } else if ((c & 0xfc00) === 0xd800 && i + 1 < end && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // a surrogate pair: 4 bytes for 2 units
      i++;
    } else {
      n += 2;
    }
  }
  return n;
}

/**
 * Whether `text[start, end)` takes more than `max` bytes in UTF-8. A UTF-16 unit takes 1 to 3
 * bytes, so the length decides alone unless it lies between max/3 and max (lines of hundreds of
 * kilobytes); only those are measured.
 */
export function longerThan(text: string, start: number, end: number, max: number): boolean {
  const n = end - start;
  if (n * 3 <= max) return false;
  if (n > max) return true;
  return utf8Length(text, start, end) > max;
}

export class LineSplitter {
  /** Lines dropped because they were longer than `maxLineBytes`. */
  overflowed = 0;
  /** The unfinished last line: text received since the last line end. */
  private partial = '';
  /** The current line already passed `maxLineBytes`: skip to its end. */
  private overflow = false;
  /** The previous chunk ended with CR: an LF starting the next one belongs to that line end. */
  private skipLF = false;
  /** Decodes byte chunks; made on the first one (a stream of strings never needs it). */
  private utf8: Utf8Decoder | undefined = undefined;
  /**
   * Called where a line starts with nothing held (a chunk's start, after a blank line): may consume
   * whole lines from `pos` and returns where it stopped (`pos` when it took none). `cr` is where
   * the next CR is from `pos` on (-1: none; always -1 when CR does not end lines). The SSE parser
   * takes simple events whole this way (SSEStreamParser#takeSimpleEvents).
   */
  skip: ((text: string, pos: number, cr: number) => number) | undefined = undefined;

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

  /** Text held for an unfinished line (characters; bytes for ASCII). */
  get retainedBytes(): number {
    return this.partial.length;
  }

  /** Whether text or bytes of an unfinished line are waiting for its end. */
  get hasPartialLine(): boolean {
    return this.partial.length > 0 || this.overflow || (this.utf8 !== undefined && this.utf8.lastNeed > 0);
  }

  /** Feeds a chunk: text, or bytes that may end (or start) inside a character. */
  write(chunk: string | Uint8Array): void {
    let text: string;
    if (typeof chunk === 'string') {
      text = wellFormed(chunk);
      // A character the previous bytes left unfinished never gets its end.
      if (this.utf8 !== undefined && this.utf8.lastNeed > 0) text = this.utf8.end() + text;
    } else {
      if (this.utf8 === undefined) this.utf8 = new StringDecoder('utf8') as Utf8Decoder;
      if (chunk.length >= LARGE) {
        this.writeLarge(this.utf8, chunk);
        return;
      }
      text = this.utf8.write(chunk);
    }
    this.split(text);
  }

  /**
   * A large byte chunk. V8 decodes ASCII many times faster than other text, and once it meets a
   * non-ASCII byte it stays on its slow path to the end of what it was given. So an ASCII chunk is
   * read as Latin-1 (the same characters, the fastest decoding), and any other one in pieces of
   * about LARGE bytes that end at a line end: an "ü" slows down its piece, not the whole chunk.
   */
  private writeLarge(utf8: Utf8Decoder, chunk: Uint8Array): void {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (utf8.lastNeed === 0 && isAscii(bytes)) {
      this.split(bytes.toString('latin1'));
      return;
    }
    const len = bytes.length;
    let pos = 0;
    while (pos < len) {
      const lf = pos + LARGE < len ? bytes.indexOf(LF, pos + LARGE) : -1;
      const end = lf === -1 ? len : lf + 1;
      this.split(utf8.write(bytes.subarray(pos, end)));
      pos = end;
    }
  }

  /** Hands over the unterminated last line, if any (NDJSON at end of stream). */
  flush(): void {
    if (this.utf8 !== undefined && this.utf8.lastNeed > 0) this.split(this.utf8.end());
    if (this.overflow) {
      this.drop();
    } else if (this.partial.length > 0) {
      const line = this.partial;
      this.partial = '';
      if (longerThan(line, 0, line.length, this.maxLineBytes)) this.drop();
      else this.onLine(line, 0, line.length);
    }
  }

  /** Forgets the unterminated last line (SSE at end of stream; any format when cut). */
  discard(): void {
    this.partial = '';
    this.overflow = false;
    this.skipLF = false;
    this.utf8?.end();
  }

  private split(text: string): void {
    const len = text.length;
    if (len === 0) return;
    let pos = 0;
    if (this.skipLF) {
      this.skipLF = false;
      if (text.charCodeAt(0) === LF) pos = 1;
    }
    // Where the next CR is, searched again only once passed: streams without CR pay one search.
    let cr = this.crIsLineEnd ? text.indexOf('\r', pos) : -1;
    if (this.skip !== undefined && this.partial.length === 0 && !this.overflow) pos = this.skip(text, pos, cr);
    while (pos < len) {
      // A blank line (what ends an SSE event) needs no search.
      if (text.charCodeAt(pos) === LF && this.partial.length === 0 && !this.overflow) {
        this.onLine(text, pos, pos);
        pos++;
        if (this.skip !== undefined) {
          if (cr !== -1 && cr < pos) cr = text.indexOf('\r', pos);
          pos = this.skip(text, pos, cr);
        }
        continue;
      }
      const lf = text.indexOf('\n', pos);
      if (cr !== -1 && cr < pos) cr = text.indexOf('\r', pos);
      let end: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        end = cr;
        if (cr + 1 < len) {
          next = text.charCodeAt(cr + 1) === LF ? cr + 2 : cr + 1;
        } else {
          next = len;
          this.skipLF = true;
        }
      } else if (lf !== -1) {
        end = lf;
        next = lf + 1;
      } else {
        this.keep(text, pos);
        return;
      }
      if (this.partial.length > 0 || this.overflow) this.complete(text, pos, end);
      else if (longerThan(text, pos, end, this.maxLineBytes)) this.drop();
      else this.onLine(text, pos, end);
      pos = next;
    }
  }

  private drop(): void {
    this.overflow = false;
    this.partial = '';
    this.overflowed++;
    this.onOverflow();
  }

  /** The end of the kept line arrived: `text[start, end)` is its rest. */
  private complete(text: string, start: number, end: number): void {
    if (this.overflow) {
      this.drop();
      return;
    }
    const line = start === end ? this.partial : this.partial + text.slice(start, end);
    this.partial = '';
    if (longerThan(line, 0, line.length, this.maxLineBytes)) this.drop();
    else this.onLine(line, 0, line.length);
  }

  /** Keeps `text[start..]`, a line without its end yet. */
  private keep(text: string, start: number): void {
    if (this.overflow) return;
    // Past maxLineBytes characters it is past maxLineBytes bytes: stop keeping it.
    if (this.partial.length + (text.length - start) > this.maxLineBytes) {
      this.overflow = true;
      this.partial = '';
      return;
    }
    // A tail cut from a larger chunk is copied, so the chunk itself is not kept alive.
    const tail = start === 0 ? text : detach(text.slice(start));
    this.partial = this.partial.length === 0 ? tail : this.partial + tail;
  }
}
