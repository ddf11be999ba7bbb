/**
 * Newline-delimited JSON (`application/x-ndjson`, `application/jsonl`): bytes in → lines out.
 * Lines end with LF or CRLF; blank (whitespace-only) lines are skipped; a leading UTF-8 BOM is
 * removed; each line is decoded from UTF-8 once it is complete, so any re-chunking of the same bytes
 * gives the same lines. Unlike SSE, a last line without its newline still counts at `end()`.
 */
import { LineSplitter, utf8 } from './lines';
import { DEFAULT_MAX_EVENT_BYTES } from './sse';

export interface NDJSONParserOptions {
  /** Longest line kept (default 1 MiB); a longer one is counted in `lines` and `oversizedLines` only. */
  maxLineBytes?: number;
}

export interface NDJSONParser {
  write(chunk: Buffer): void;
  /** End of stream: a last line without its newline is handed over. */
  end(): void;
  /** The stream was cut: a last unfinished line is dropped. */
  abort(): void;
  /** Non-blank lines seen, oversized ones included. */
  readonly lines: number;
  readonly oversizedLines: number;
  readonly pending: boolean;
  readonly retainedBytes: number;
}

class Parser implements NDJSONParser {
  lines = 0;
  oversizedLines = 0;
  private readonly splitter: LineSplitter;
  private first = true;

  constructor(private readonly onLine: (line: string) => void, options: NDJSONParserOptions) {
    this.splitter = new LineSplitter(this.line, this.overflow, false, options.maxLineBytes ?? DEFAULT_MAX_EVENT_BYTES);
  }

  get pending(): boolean {
    return this.splitter.hasPartialLine;
  }

  get retainedBytes(): number {
    return this.splitter.retainedBytes;
  }

  write(chunk: Buffer): void {
    this.splitter.write(chunk);
  }

  end(): void {
    this.splitter.flush();
  }

  abort(): void {
    this.splitter.discard();
  }

  private readonly overflow = (): void => {
    this.first = false;
    this.lines++;
    this.oversizedLines++;
  };

  private readonly line = (buf: Buffer, start: number, end: number): void => {
    let s = start;
    let e = end;
    if (this.first) {
      this.first = false;
      if (e - s >= 3 && buf[s] === 0xef && buf[s + 1] === 0xbb && buf[s + 2] === 0xbf) s += 3;
    }
    if (e > s && buf[e - 1] === 0x0d) e--;
    // Skip leading blanks only to find out whether the line is blank; the line itself is kept whole.
    let i = s;
    while (i < e && (buf[i] === 0x20 || buf[i] === 0x09 || buf[i] === 0x0d)) i++;
    if (i === e) return;
    this.lines++;
    this.onLine(utf8(buf, s, e));
  };
}

/** A streaming NDJSON line parser calling `onLine` for each non-blank line. Never throws on bad input. */
export function createNDJSONParser(onLine: (line: string) => void, options: NDJSONParserOptions = {}): NDJSONParser {
  return new Parser(onLine, options);
}
