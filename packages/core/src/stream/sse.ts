/**
 * Server-sent events, chunks in → events out, per the WHATWG HTML "Parsing an event stream"
 * algorithm (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
 * LF, CR and CRLF line ends (also a CRLF split across two chunks), a leading BOM, comment lines
 * (`:`), `event`, `data` (several joined with `\n`), `id` (ignored if it contains U+0000), `retry`
 * (digits only), one optional space after the colon, dispatch on a blank line, no dispatch for an
 * event without data, and a last event without its blank line discarded at the end. Bytes are
 * decoded as UTF-8 (see lines.ts); an event's data is handed over as a view of the text it lies
 * in, and is only copied out when it spans several `data` lines.
 */
import { LineSplitter, longerThan } from './lines';

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
  /**
   * Take events that are exactly `data: <text>` LF LF in one step instead of line by line (default
   * true; the same events either way, see `SSEStreamParser#takeSimpleEvents`). False only to test that.
   */
  fastPath?: boolean;
}

export interface SSEParser {
  /** Feeds bytes (chunk boundaries may fall anywhere, even inside a character) or text. */
  write(chunk: Uint8Array | string): void;
  /** End of stream: an unfinished event is discarded, as the spec says. */
  end(): void;
  /** Events dispatched so far, plus oversized ones that were dropped. */
  readonly events: number;
  /** Events dropped because they exceeded `maxEventBytes`. */
  readonly oversizedEvents: number;
  /** The `retry:` value last received (ms), if any. */
  readonly retry: number | undefined;
  /** Whether an event or a line was left unfinished (input received since the last dispatch). */
  readonly pending: boolean;
  /** Text held for an unfinished line. */
  readonly retainedBytes: number;
}

/**
 * Receives a dispatched event with its data as `text[start, end)`: a view of the chunk it arrived
 * in, valid for as long as the caller keeps `text` (strings do not change).
 */
export type SSEEventHandler = (type: string, text: string, start: number, end: number, id: string) => void;

export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;

const COLON = 0x3a;
const LF = 0x0a;
const SPACE = 0x20;
const BOM = 0xfeff;
const EVENT = [0x65, 0x76, 0x65, 0x6e, 0x74];
const DATA = [0x64, 0x61, 0x74, 0x61];
const ID = [0x69, 0x64];
const RETRY = [0x72, 0x65, 0x74, 0x72, 0x79];

function isName(text: string, start: number, name: number[]): boolean {
  for (let i = 0; i < name.length; i++) if (text.charCodeAt(start + i) !== name[i]) return false;
  return true;
}

/**
 * Takes runs of simple events at once for the parser's owner (the accumulator's decoder): called
 * where SSEStreamParser#takeSimpleEvents would take the next event, with the same text, position
 * and size limit per run; returns how many events it took from `pos` (0: none) and sets `end` to
 * where they end. Each taken event must be one takeSimpleEvents would take (`data: <text>` LF LF,
 * no CR), and the owner handles them as it would handle each dispatched one.
 */
export interface SSERunTaker {
  take(text: string, pos: number, limit: number): number;
  readonly end: number;
}

/** The parser; `createSSEParser` wraps it for callers that want event objects. */
export class SSEStreamParser implements SSEParser {
  events = 0;
  oversizedEvents = 0;
  retry: number | undefined = undefined;
  private readonly lines: LineSplitter;
  private readonly max: number;
  private first = true;
  /** The current event's data is `dataText[dataStart, dataEnd)`; undefined: no data field yet. */
  private dataText: string | undefined = undefined;
  private dataStart = 0;
  private dataEnd = 0;
  /** UTF-16 units of the data lines plus one per line: a lower bound of their bytes plus one per line. */
  private dataUnits = 0;
  private eventType: string | undefined = undefined;
  private lastEventId = '';
  /** The current event had an oversized line or too much data: count it, do not dispatch it. */
  private broken = false;
  /** A field line was seen since the last blank line. */
  private started = false;
  /** Set by the owner to take runs of simple events at once (see SSERunTaker). */
  runs: SSERunTaker | undefined = undefined;

  constructor(
    private readonly onEvent: SSEEventHandler,
    options: SSEParserOptions = {},
  ) {
    this.max = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
    this.lines = new LineSplitter(this.line, this.overflow, true, this.max);
    if (options.fastPath !== false) this.lines.skip = this.takeSimpleEvents;
  }

  /**
   * The fast path, at a line start with nothing held: while nothing of an event has been received
   * (no field, no type, past the first line and its BOM), takes each complete event that is exactly
   * `data: <text>` LF LF, short enough that no size check can fail (3 bytes a character at most),
   * with no CR in it: it dispatches `text` as a view, as the line-by-line path would, and counts it.
   * The bulk of an LLM token stream is such events; anything else is left to the lines. `cr` is
   * where the next CR is from `pos` on (-1: none). Returns where it stopped.
   */
  private readonly takeSimpleEvents = (text: string, pos: number, cr: number): number => {
    if (this.first || this.started || this.dataText !== undefined || this.broken || this.eventType !== undefined) return pos;
    const len = text.length;
    const limit = this.max / 3;
    const runs = this.runs;
    for (;;) {
      // `data: ` (the charCodes: cheaper than startsWith with a position, which V8 does not optimise).
      if (
        pos + 8 > len ||
        text.charCodeAt(pos) !== 0x64 ||
        text.charCodeAt(pos + 1) !== 0x61 ||
        text.charCodeAt(pos + 2) !== 0x74 ||
        text.charCodeAt(pos + 3) !== 0x61 ||
        text.charCodeAt(pos + 4) !== COLON ||
        text.charCodeAt(pos + 5) !== SPACE
      ) {
        return pos;
      }
      const lf = text.indexOf('\n', pos + 6);
      if (lf === -1 || lf + 1 >= len || text.charCodeAt(lf + 1) !== LF || lf + 2 - pos > limit) return pos;
      if (cr !== -1 && cr < lf) return pos;
      // More text follows this event: a run may take it with the next ones (one event alone, as a
      // writer of one event per chunk sends it, costs less event by event).
      if (runs !== undefined && lf + 10 < len) {
        const n = runs.take(text, pos, limit);
        if (n > 0) {
          this.events += n;
          pos = runs.end;
          continue;
        }
      }
      this.events++;
      this.onEvent('message', text, pos + 6, lf, this.lastEventId);
      pos = lf + 2;
    }
  };

  get pending(): boolean {
    return this.started || this.lines.hasPartialLine;
  }

  get retainedBytes(): number {
    return this.lines.retainedBytes;
  }

  write(chunk: Uint8Array | string): void {
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
    this.dataText = undefined;
  };

  private readonly line = (text: string, start: number, end: number): void => {
    let s = start;
    if (this.first) {
      this.first = false;
      if (s < end && text.charCodeAt(s) === BOM) s++;
    }
    if (s === end) {
      this.dispatch();
      return;
    }
    const c0 = text.charCodeAt(s);
    if (c0 === COLON) return; // comment (keep-alive)
    this.started = true;
    // Fast path for the line that matters: `data:`.
    if (c0 === 0x64 && end - s >= 4 && text.charCodeAt(s + 1) === 0x61 && text.charCodeAt(s + 2) === 0x74 && text.charCodeAt(s + 3) === 0x61) {
      if (end - s === 4) {
        this.appendData(text, end, end);
        return;
      }
      if (text.charCodeAt(s + 4) === COLON) {
        let v = s + 5;
        if (v < end && text.charCodeAt(v) === SPACE) v++;
        this.appendData(text, v, end);
        return;
      }
    }
    // Other fields: the known names are at most 5 characters, so the colon is within the first 6.
    let colon = -1;
    const limit = Math.min(end, s + 6);
    for (let i = s; i < limit; i++) {
      if (text.charCodeAt(i) === COLON) {
        colon = i;
        break;
      }
    }
    const nameEnd = colon === -1 ? end : colon;
    const nameLen = nameEnd - s;
    if (colon === -1 && nameLen > 5) return; // an unknown field without a value
    let v = colon === -1 ? end : colon + 1;
    if (v < end && text.charCodeAt(v) === SPACE) v++;
    if (nameLen === 5 && isName(text, s, EVENT)) {
      this.eventType = text.slice(v, end);
    } else if (nameLen === 4 && isName(text, s, DATA)) {
      this.appendData(text, v, end);
    } else if (nameLen === 2 && isName(text, s, ID)) {
      if (!hasNul(text, v, end)) this.lastEventId = text.slice(v, end);
    } else if (nameLen === 5 && isName(text, s, RETRY)) {
      if (v < end && allDigits(text, v, end)) this.retry = Number(text.slice(v, end));
    }
  };

  private appendData(text: string, start: number, end: number): void {
    if (this.broken) return;
    // More characters than bytes allowed means more bytes too; the exact count waits for dispatch.
    this.dataUnits += end - start + 1;
    if (this.dataUnits > this.max) {
      this.broken = true;
      this.dataText = undefined;
      return;
    }
    if (this.dataText === undefined) {
      this.dataText = text;
      this.dataStart = start;
      this.dataEnd = end;
    } else {
      const joined = this.dataText.slice(this.dataStart, this.dataEnd) + '\n' + text.slice(start, end);
      this.dataText = joined;
      this.dataStart = 0;
      this.dataEnd = joined.length;
    }
  }

  private dispatch(): void {
    const text = this.dataText;
    // The data's bytes plus one per line are its UTF-8 size plus one; counted only when in doubt.
    if (!this.broken && text !== undefined && this.dataUnits * 3 > this.max && longerThan(text, this.dataStart, this.dataEnd, this.max - 1)) {
      this.broken = true;
    }
    if (this.broken) {
      this.events++;
      this.oversizedEvents++;
      this.reset();
      return;
    }
    if (text === undefined) {
      // No data field: nothing is dispatched, the event type is forgotten.
      this.reset();
      return;
    }
    const start = this.dataStart;
    const end = this.dataEnd;
    const type = this.eventType || 'message';
    this.reset();
    this.events++;
    this.onEvent(type, text, start, end, this.lastEventId);
  }

  private reset(): void {
    this.dataText = undefined;
    this.dataUnits = 0;
    this.eventType = undefined;
    this.broken = false;
    this.started = false;
  }
}

function hasNul(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (text.charCodeAt(i) === 0) return true;
  return false;
}

function allDigits(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** A streaming SSE parser calling `onEvent` for each dispatched event. Never throws on bad input. */
export function createSSEParser(onEvent: (event: SSEEvent) => void, options: SSEParserOptions = {}): SSEParser {
  return new SSEStreamParser((type, text, start, end, id) => onEvent({ type, data: text.slice(start, end), id }), options);
}
