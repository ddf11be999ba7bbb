/**
 * Newline-delimited JSON (`application/x-ndjson`, `application/jsonl`): chunks in → lines out.
 * Lines end with LF or CRLF; blank (whitespace-only) lines are skipped; a leading BOM is removed;
 * bytes are decoded as UTF-8 so that any re-chunking of the same bytes gives the same lines (see
 * lines.ts). Unlike SSE, a last line without its newline still counts at `end()`.
 */
import { LineSplitter } from './lines';
import type { LineHandler } from './lines';
import { DEFAULT_MAX_EVENT_BYTES } from './sse';

export interface NDJSONParserOptions {
  /** Longest line kept (default 1 MiB); a longer one is counted in `lines` and `oversizedLines` only. */
  maxLineBytes?: number;
}

export interface NDJSONParser {
  /** Feeds bytes (chunk boundaries may fall anywhere, even inside a character) or text. */
  write(chunk: Uint8Array | string): void;
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

/** The parser, handing each line over as a view `text[start, end)`; `createNDJSONParser` wraps it. */
export class NDJSONStreamParser implements NDJSONParser {
  lines = 0;
  oversizedLines = 0;
  private readonly splitter: LineSplitter;
  private first = true;

  constructor(
    private readonly onLine: LineHandler,
    options: NDJSONParserOptions = {},
  ) {
    this.splitter = new LineSplitter(this.line, this.overflow, false, options.maxLineBytes ?? DEFAULT_MAX_EVENT_BYTES);
  }

  get pending(): boolean {
    return this.splitter.hasPartialLine;
  }

  get retainedBytes(): number {
    return this.splitter.retainedBytes;
  }

  write(chunk: Uint8Array | string): void {
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

  private readonly line = (text: string, start: number, end: number): void => {
    let s = start;
    let e = end;
    if (this.first) {
      this.first = false;
      if (s < e && text.charCodeAt(s) === 0xfeff) s++;
    }
    if (e > s && text.charCodeAt(e - 1) === 0x0d) e--;
    // Skip leading blanks only to find out whether the line is blank; the line itself is kept whole.
    let i = s;
    while (i < e) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0d) break;
      i++;
    }
    if (i === e) return;
    this.lines++;
    this.onLine(text, s, e);
  };
}

/** A streaming NDJSON line parser calling `onLine` for each non-blank line. Never throws on bad input. */
export function createNDJSONParser(onLine: (line: string) => void, options: NDJSONParserOptions = {}): NDJSONParser {
  return new NDJSONStreamParser((text, start, end) => onLine(text.slice(start, end)), options);
}
