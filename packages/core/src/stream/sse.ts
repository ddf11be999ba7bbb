/**
 * Server-sent events, bytes in → events out, per the WHATWG HTML "Parsing an event stream"
 * algorithm (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
 * LF, CR and CRLF line ends (also a CRLF split across two chunks), a leading UTF-8 BOM, comment
 * lines (`:`), `event`, `data` (several joined with `\n`), `id` (ignored if it contains U+0000),
 * `retry` (digits only), one optional space after the colon, dispatch on a blank line, no dispatch
 * for an event without data, and a last event without its blank line discarded at the end.
 * Field names are matched on the bytes; values are decoded from UTF-8 once per complete line.
 */
import { LineSplitter, utf8 } from './lines';

/** One dispatched event. */
export interface SSEEvent {
  /** The `event:` field, `message` when absent (as `EventSource` reports it). */
  type: string;
  /** The `data:` lines joined with `\n`. */
  data: string;
  /** The last event ID at dispatch time (it persists across events, per the spec). */
  id: string;
}

export interface SSEParserOptions {
  /**
   * Longest line, and most `data` bytes per event, that are kept (default 1 MiB). A longer event is
   * counted (`events`, `oversizedEvents`) but not dispatched, so memory stays bounded.
   */
  maxEventBytes?: number;
}

export interface SSEParser {
  /** Feeds bytes; chunk boundaries may fall anywhere, even inside a character. */
  write(chunk: Buffer): void;
  /** End of stream: an unfinished event is discarded, as the spec says. */
  end(): void;
  /** Events dispatched so far, plus oversized ones that were dropped. */
  readonly events: number;
  /** Events dropped because they exceeded `maxEventBytes`. */
  readonly oversizedEvents: number;
  /** The `retry:` value last received (ms), if any. */
  readonly retry: number | undefined;
  /** Whether an event or a line was left unfinished (bytes received since the last dispatch). */
  readonly pending: boolean;
  /** Bytes held for an unfinished line. */
  readonly retainedBytes: number;
}

export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;

const COLON = 0x3a;
const SPACE = 0x20;
const EVENT = [0x65, 0x76, 0x65, 0x6e, 0x74];
const DATA = [0x64, 0x61, 0x74, 0x61];
const ID = [0x69, 0x64];
const RETRY = [0x72, 0x65, 0x74, 0x72, 0x79];

function isName(buf: Buffer, start: number, name: number[]): boolean {
  for (let i = 0; i < name.length; i++) if (buf[start + i] !== name[i]) return false;
  return true;
}

class Parser implements SSEParser {
  events = 0;
  oversizedEvents = 0;
  retry: number | undefined = undefined;
  private readonly lines: LineSplitter;
  private readonly max: number;
  private first = true;
  private data: string | undefined = undefined;
  private dataBytes = 0;
  private eventType: string | undefined = undefined;
  private lastEventId = '';
  /** The current event had an oversized line or too much data: count it, do not dispatch it. */
  private broken = false;
  /** A field line was seen since the last blank line. */
  private started = false;

  constructor(private readonly onEvent: (event: SSEEvent) => void, options: SSEParserOptions) {
    this.max = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
    this.lines = new LineSplitter(this.line, this.overflow, true, this.max);
  }

  get pending(): boolean {
    return this.started || this.lines.hasPartialLine;
  }

  get retainedBytes(): number {
    return this.lines.retainedBytes;
  }

  write(chunk: Buffer): void {
    this.lines.write(chunk);
  }

  end(): void {
    this.lines.discard();
    this.reset();
  }

  private readonly overflow = (): void => {
    this.first = false;
    this.broken = true;
    this.started = true;
    this.data = undefined;
  };

  private readonly line = (buf: Buffer, start: number, end: number): void => {
    let s = start;
    if (this.first) {
      this.first = false;
      if (end - s >= 3 && buf[s] === 0xef && buf[s + 1] === 0xbb && buf[s + 2] === 0xbf) s += 3;
    }
    if (s === end) {
      this.dispatch();
      return;
    }
    const c0 = buf[s];
    if (c0 === COLON) return; // comment (keep-alive)
    this.started = true;
    // Fast path for the line that matters: `data:`.
    if (c0 === 0x64 && end - s >= 4 && buf[s + 1] === 0x61 && buf[s + 2] === 0x74 && buf[s + 3] === 0x61) {
      if (end - s === 4) {
        this.appendData(buf, end, end);
        return;
      }
      if (buf[s + 4] === COLON) {
        let v = s + 5;
        if (v < end && buf[v] === SPACE) v++;
        this.appendData(buf, v, end);
        return;
      }
    }
    // Other fields: the known names are at most 5 bytes, so the colon is within the first 6.
    let colon = -1;
    const limit = Math.min(end, s + 6);
    for (let i = s; i < limit; i++) {
      if (buf[i] === COLON) {
        colon = i;
        break;
      }
    }
    const nameEnd = colon === -1 ? end : colon;
    const nameLen = nameEnd - s;
    if (colon === -1 && nameLen > 5) return; // an unknown field without a value
    let v = colon === -1 ? end : colon + 1;
    if (v < end && buf[v] === SPACE) v++;
    if (nameLen === 5 && isName(buf, s, EVENT)) {
      this.eventType = utf8(buf, v, end);
    } else if (nameLen === 4 && isName(buf, s, DATA)) {
      this.appendData(buf, v, end);
    } else if (nameLen === 2 && isName(buf, s, ID)) {
      if (!hasNul(buf, v, end)) this.lastEventId = utf8(buf, v, end);
    } else if (nameLen === 5 && isName(buf, s, RETRY)) {
      if (v < end && allDigits(buf, v, end)) this.retry = Number(utf8(buf, v, end));
    }
  };

  private appendData(buf: Buffer, start: number, end: number): void {
    if (this.broken) return;
    this.dataBytes += end - start + 1;
    if (this.dataBytes > this.max) {
      this.broken = true;
      this.data = undefined;
      return;
    }
    const value = start === end ? '' : utf8(buf, start, end);
    this.data = this.data === undefined ? value : this.data + '\n' + value;
  }

  private dispatch(): void {
    if (this.broken) {
      this.events++;
      this.oversizedEvents++;
      this.reset();
      return;
    }
    const data = this.data;
    if (data === undefined) {
      // No data field: nothing is dispatched, the event type is forgotten.
      this.reset();
      return;
    }
    const event: SSEEvent = { type: this.eventType || 'message', data, id: this.lastEventId };
    this.reset();
    this.events++;
    this.onEvent(event);
  }

  private reset(): void {
    this.data = undefined;
    this.dataBytes = 0;
    this.eventType = undefined;
    this.broken = false;
    this.started = false;
  }
}

function hasNul(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] === 0) return true;
  return false;
}

function allDigits(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** A streaming SSE parser calling `onEvent` for each dispatched event. Never throws on bad input. */
export function createSSEParser(onEvent: (event: SSEEvent) => void, options: SSEParserOptions = {}): SSEParser {
  return new Parser(onEvent, options);
}
