/**
 * The stream accumulator: watches the bytes of a streamed body (what an HTTP response sends, or
 * any other stream) and turns them into span attributes: format, chunk and byte counts, timing, and
 * for an LLM token stream what the model did. It never changes or keeps the bytes: each chunk is
 * parsed as it arrives, only the unfinished tail of a line and the captured text (capped) are held,
 * so memory per stream stays flat however long the stream. Nothing here throws into the caller.
 */
// Imported: the global `Buffer` is a getter, a measurable cost per chunk.
import { Buffer } from 'node:buffer';
import { DEFAULT_CONTENT_BYTES, llmAttributes } from '../llm/attributes';
import type { GenAINames } from '../llm/attributes';
import type { LLMResult, PricingTable } from '../llm/types';
import { now } from '../internal/clock';
import type { AttributeValue, Attributes, SpanStatus } from '../types';
import { LLMStreamDecoder } from './decoders';
import { NDJSONStreamParser } from './ndjson';
import { DEFAULT_MAX_EVENT_BYTES, SSEStreamParser } from './sse';
import type { SSERunTaker } from './sse';

export type StreamFormat = 'sse' | 'ndjson' | 'chunked';

export interface StreamAccumulatorOptions {
  /** How to parse the bytes; wins over `contentType`. */
  format?: StreamFormat;
  /** Picks the format: `text/event-stream` → sse; `application/x-ndjson`, `application/jsonl` → ndjson; else chunked. */
  contentType?: string;
  /** Cap on captured output text and on each message attribute, in bytes (default 32768). Counting goes on past it. */
  maxBytes?: number;
  /** Longest SSE event / NDJSON line parsed (default 1 MiB); longer ones are counted and skipped. */
  maxEventBytes?: number;
  /** Record `gen_ai.input.messages` / `gen_ai.output.messages` (default false). */
  captureContent?: boolean;
  /** Epoch ms the request or call started (default: now). Timings run from here. */
  startTime?: number;
  /** User prices (`TracerOptions.pricing`), searched before the shipped table. */
  pricing?: PricingTable;
  /** The model the request asked for (`gen_ai.request.model`). */
  requestModel?: string;
  /** The request's messages or body, for `gen_ai.input.messages` (with `captureContent`). */
  inputMessages?: unknown;
  /** GenAI attribute names: `latest` (default) or `dup` (also the previous names; OTEL_SEMCONV_STABILITY_OPT_IN). */
  genAiNames?: GenAINames;
}

/** An error the provider reported inside the stream (`error.type` and the status message). */
export interface StreamError {
  type: string;
  message?: string;
}

/** What a stream came to: its attributes, and the provider's in-band error if there was one. */
export interface StreamOutcome {
  attributes: Attributes;
  error?: StreamError;
}

/** What `applyTo` writes to: a Span, or anything with these three methods. */
export interface AttributeTarget {
  setAttributes(attributes: Attributes): unknown;
  setAttribute(key: string, value: AttributeValue): unknown;
  setStatus(status: SpanStatus): unknown;
}

export interface StreamAccumulator {
  /** Observes one chunk (a string is text in `encoding`, default utf8). Never throws. */
  write(chunk: Uint8Array | string, encoding?: BufferEncoding): void;
  /** The stream ended normally. */
  end(): void;
  /** The stream was cut (client went away, connection lost) before `end()`. */
  abort(): void;
  readonly format: StreamFormat;
  /** Bytes observed. */
  readonly bytes: number;
  /** SSE events (`[DONE]` included), NDJSON lines, or `write()` calls for `chunked`. */
  readonly chunks: number;
  /** SSE event data / NDJSON lines that were not JSON (skipped). */
  readonly nonJsonEvents: number;
  /** 0-based index (among `chunks`) of the first event carrying generated content, if any. */
  readonly firstContentChunk: number | undefined;
  /** Events that carried generated content (`tracewire.llm.chunks`). */
  readonly contentChunks: number;
  readonly ended: boolean;
  readonly aborted: boolean;
  /** Bytes the accumulator holds (unfinished line + captured text): bounded whatever the stream length. */
  readonly retainedBytes: number;
  /** The LLM response reconstructed so far, or undefined when the stream is not a recognised LLM stream. */
  llm(): LLMResult | undefined;
  /** `tracewire.stream.*` and, for an LLM stream, `gen_ai.*` / `tracewire.llm.*` / `tracewire.usage.cost`. */
  attributes(): Attributes;
  /**
   * What the stream came to, as data: `attributes()`, and the error the provider reported in the
   * stream (`error.type`, message), if it did. An abort is in the attributes, not an error here:
   * whoever ends the span decides what a cut stream means.
   */
  outcome(): StreamOutcome;
  /**
   * Sets `attributes()` on `span`; an in-band provider error sets status Error and `error.type` to
   * the provider's type, an abort (without one) sets status Error and `error.type` `client_aborted`.
   */
  applyTo(span: AttributeTarget): void;
}

const NDJSON_TYPES: ReadonlySet<string> = new Set([
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/x-jsonl',
  'application/jsonlines',
  'application/x-jsonlines',
]);

const SSE_TYPE = 'text/event-stream';

/** The stream format for a `content-type` header value. */
export function streamFormatFor(contentType: string | undefined | null): StreamFormat {
  if (typeof contentType !== 'string') return 'chunked';
  // A route answers with the same content type response after response: the last one is kept.
  if (contentType === lastType) return lastFormat;
  const format = formatOfType(contentType);
  lastType = contentType;
  lastFormat = format;
  return format;
}

let lastType: string | undefined;
let lastFormat: StreamFormat = 'chunked';

function formatOfType(contentType: string): StreamFormat {
  // As servers write it (`text/event-stream` or `text/event-stream; charset=utf-8`): no lower-casing.
  if (contentType.startsWith(SSE_TYPE) && (contentType.length === SSE_TYPE.length || contentType.charCodeAt(SSE_TYPE.length) === 0x3b)) return 'sse';
  const semi = contentType.indexOf(';');
  const type = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  if (type === 'text/event-stream') return 'sse';
  if (NDJSON_TYPES.has(type)) return 'ndjson';
  return 'chunked';
}

/** Chunk intervals kept per stream (trackChunkIntervals): bounded whatever the stream's length. */
const MAX_CHUNK_INTERVALS = 4096;

function positive(n: unknown, fallback: number): number {
  return typeof n === 'number' && n > 0 ? n : fallback;
}

/** How Tracewire itself builds an accumulator, beyond the public options. */
export interface AccumulatorSettings extends StreamAccumulatorOptions {
  /**
   * Decode canonical events without JSON.parse and take simple SSE events whole (default true;
   * false only to test that the fast paths change nothing).
   */
  fastPaths?: boolean;
  /**
   * Keep the generated text even without `captureContent` (default true: `llm()` returns it).
   * The response tap sets false: nothing but the attributes reads its result, so the bulk of a
   * stream makes no string at all.
   */
  keepText?: boolean;
}

/**
 * Runs of plain content events taken at once for the SSE parser (SSERunTaker): each is a content
 * chunk, counted as `data()` would count it; the first content chunk is always behind them (a run
 * only follows a content event).
 */
class ContentRuns implements SSERunTaker {
  constructor(
    private readonly acc: { contentChunks: number },
    private readonly decoder: LLMStreamDecoder,
  ) {}

  get end(): number {
    return this.decoder.runEnd;
  }

  take(text: string, pos: number, limit: number): number {
    const n = this.decoder.run(text, pos, limit);
    if (n > 0) this.acc.contentChunks += n;
    return n;
  }
}

/**
 * The accumulator; `createStreamAccumulator` is its public face. Every chunk is parsed as it
 * comes, so what it reports is always up to date (the response tap, which may join small writes
 * first, does that before calling `write`).
 */
export class Accumulator implements StreamAccumulator {
  readonly format: StreamFormat;
  bytes = 0;
  ended = false;
  aborted = false;
  firstContentChunk: number | undefined = undefined;
  contentChunks = 0;
  private writes = 0;
  private readonly startTime: number;
  private firstByteTime: number | undefined = undefined;
  private firstContentTime: number | undefined = undefined;
  private endTime: number | undefined = undefined;
  private readonly sse: SSEStreamParser | undefined;
  private readonly ndjson: NDJSONStreamParser | undefined;
  private readonly decoder: LLMStreamDecoder | undefined;
  private readonly maxBytes: number;
  private readonly options: StreamAccumulatorOptions;
  /** Seconds between content chunks (trackChunkIntervals()), and how many of them are filled. */
  private intervals: Float64Array | undefined = undefined;
  private intervalCount = 0;
  private lastContentTime = 0;
  /** The result once the stream is over, decoded once (attributes, error and observers share it). */
  private final: LLMResult | undefined = undefined;
  private settled = false;

  constructor(settings: AccumulatorSettings = {}) {
    const options = settings;
    this.options = options;
    this.format = options.format ?? streamFormatFor(options.contentType);
    this.startTime = typeof options.startTime === 'number' && Number.isFinite(options.startTime) ? options.startTime : now();
    this.maxBytes = positive(options.maxBytes, DEFAULT_CONTENT_BYTES);
    const maxEventBytes = positive(options.maxEventBytes, DEFAULT_MAX_EVENT_BYTES);
    const fastPaths = settings.fastPaths !== false;
    const textBytes = settings.keepText !== false || options.captureContent === true ? this.maxBytes : 0;
    if (this.format === 'sse') {
      this.decoder = new LLMStreamDecoder(textBytes, fastPaths);
      this.sse = new SSEStreamParser(this.onEvent, { maxEventBytes, fastPath: fastPaths });
      if (fastPaths) this.sse.runs = new ContentRuns(this, this.decoder);
    } else if (this.format === 'ndjson') {
      this.decoder = new LLMStreamDecoder(textBytes, fastPaths);
      this.ndjson = new NDJSONStreamParser(this.onLine, { maxLineBytes: maxEventBytes });
    }
  }

  get chunks(): number {
    if (this.sse !== undefined) return this.sse.events;
    if (this.ndjson !== undefined) return this.ndjson.lines;
    return this.writes;
  }

  get nonJsonEvents(): number {
    return this.decoder?.nonJsonEvents ?? 0;
  }

  get retainedBytes(): number {
    const parser = this.sse?.retainedBytes ?? this.ndjson?.retainedBytes ?? 0;
    return parser + (this.decoder?.retainedBytes ?? 0);
  }

  write(chunk: Uint8Array | string, encoding?: BufferEncoding): void {
    if (this.ended || this.aborted) return;
    try {
      // What the parser reads: the string itself when it is UTF-8 text (already decoded, so it is
      // not encoded only to be decoded again), else the bytes.
      let input: Uint8Array | string | undefined;
      let n: number;
      if (typeof chunk === 'string') {
        if (this.format === 'chunked') {
          n = Buffer.byteLength(chunk, encoding ?? 'utf8');
        } else if (encoding === undefined || encoding === 'utf8' || encoding === 'utf-8') {
          n = Buffer.byteLength(chunk); // UTF-8, without the encoding lookup
          input = chunk;
        } else {
          input = Buffer.from(chunk, encoding);
          n = input.length;
        }
      } else if (chunk instanceof Uint8Array) {
        n = chunk.byteLength;
        if (this.format !== 'chunked') input = chunk;
      } else {
        return;
      }
      if (n === 0) return;
      if (this.firstByteTime === undefined) this.firstByteTime = now();
      this.bytes += n;
      this.writes++;
      if (input !== undefined) {
        const before = this.contentChunks;
        if (this.sse !== undefined) this.sse.write(input);
        else this.ndjson?.write(input);
        if (this.intervals !== undefined && this.contentChunks !== before) this.noteContent(before);
      }
    } catch {
      // Observing must never break the stream it observes.
    }
  }

  /**
   * Measures the time between content chunks from here on (`gen_ai.client.operation.time_per_output_chunk`).
   * For client streams, where chunks arrive over the network; call it before the first write.
   */
  trackChunkIntervals(): void {
    if (this.intervals === undefined && this.contentChunks === 0) this.intervals = new Float64Array(64);
  }

  /** Seconds from the end of each content chunk to the end of the next (see trackChunkIntervals). */
  chunkIntervals(): Float64Array | undefined {
    return this.intervals === undefined ? undefined : this.intervals.subarray(0, this.intervalCount);
  }

  /**
   * This write completed content chunks (`before` were counted before it): each is received now;
   * the first of them follows the previous write's, the others came with it (0 s).
   */
  private noteContent(before: number): void {
    const t = now();
    let k = this.contentChunks - before;
    if (before > 0) {
      this.pushInterval((t - this.lastContentTime) / 1000);
      k--;
    } else k--; // the stream's first content chunk: time to first chunk, not an interval
    for (; k > 0; k--) this.pushInterval(0);
    this.lastContentTime = t;
  }

  private pushInterval(seconds: number): void {
    let a = this.intervals as Float64Array;
    if (this.intervalCount === a.length) {
      if (a.length >= MAX_CHUNK_INTERVALS) return; // bounded: the rest of a very long stream is not timed
      const grown = new Float64Array(Math.min(a.length * 4, MAX_CHUNK_INTERVALS));
      grown.set(a);
      this.intervals = a = grown;
    }
    a[this.intervalCount++] = seconds > 0 ? seconds : 0;
  }

  end(): void {
    if (this.ended || this.aborted) return;
    this.ended = true;
    this.endTime = now();
    try {
      this.sse?.end();
      this.ndjson?.end();
    } catch {
      // see write()
    }
  }

  abort(): void {
    if (this.ended || this.aborted) return;
    this.aborted = true;
    this.endTime = now();
    try {
      this.sse?.end();
      this.ndjson?.abort();
    } catch {
      // see write()
    }
  }

  private readonly onEvent = (_type: string, text: string, start: number, end: number): void => {
    this.data(text, start, end, (this.sse as SSEStreamParser).events - 1);
  };

  private readonly onLine = (text: string, start: number, end: number): void => {
    this.data(text, start, end, (this.ndjson as NDJSONStreamParser).lines - 1);
  };

  /** One event's data, `text[start, end)`. */
  private data(text: string, start: number, end: number, index: number): void {
    if ((this.decoder as LLMStreamDecoder).data(text, start, end)) {
      this.contentChunks++;
      if (this.firstContentChunk === undefined) {
        this.firstContentChunk = index;
        this.firstContentTime = now();
      }
    }
  }

  llm(): LLMResult | undefined {
    return this.result(true);
  }

  /** The LLM result once the stream is over: the one the attributes were made from, else decoded now. */
  finalResult(): LLMResult | undefined {
    return this.current();
  }

  /** Epoch ms the stream ended or was cut (now, while it goes on). */
  endedAt(): number {
    return this.endTime ?? now();
  }

  /** Epoch ms of the first content chunk, if there was one. */
  firstContentAt(): number | undefined {
    return this.firstContentTime;
  }

  private result(content: boolean): LLMResult | undefined {
    try {
      return this.decoder?.result(content);
    } catch {
      return undefined;
    }
  }

  attributes(): Attributes {
    const a: Attributes = {};
    this.fill(a);
    return a;
  }

  outcome(): StreamOutcome {
    const attributes: Attributes = {};
    this.fill(attributes);
    const error = this.streamError();
    return error !== undefined ? { attributes, error } : { attributes };
  }

  /** Writes `attributes()` into `target`, each by name (for the span's own object: see trace/span.ts `AttributeWrite`). Never throws. */
  fillAttributes(target: Attributes): void {
    this.fill(target);
  }

  /** The error the provider reported in the stream, if it did. Never throws. */
  streamError(): StreamError | undefined {
    try {
      const e = this.current()?.error;
      if (e === undefined) return undefined;
      return e.message ? { type: e.type, message: e.message } : { type: e.type };
    } catch {
      return undefined;
    }
  }

  /** The LLM result: decoded once when the stream is over, as it stands before that. */
  private current(): LLMResult | undefined {
    if (!this.ended && !this.aborted) return this.result(this.options.captureContent === true);
    if (!this.settled) {
      this.settled = true;
      this.final = this.result(this.options.captureContent === true);
    }
    return this.final;
  }

  /** Writes attributes() into `a`, each named in the code (see fillAttributes). */
  private fill(a: Attributes): void {
    try {
      this.fillUnguarded(a);
    } catch {
      // Attributes are best effort: what was written stays.
    }
  }

  private fillUnguarded(a: Attributes): void {
    const seconds = (t: number): number => Math.max(0, t - this.startTime) / 1000;
    a['tracewire.stream.format'] = this.format;
    a['tracewire.stream.chunks'] = this.chunks;
    a['tracewire.stream.bytes'] = this.bytes;
    if (this.firstByteTime !== undefined) a['tracewire.stream.time_to_first_byte'] = seconds(this.firstByteTime);
    a['tracewire.stream.duration'] = seconds(this.endTime ?? now());
    if (this.aborted) a['tracewire.stream.aborted'] = true;
    // The text is only needed for the output messages.
    const result = this.current();
    if (result !== undefined) {
      llmAttributes(
        result,
        {
          stream: true,
          requestModel: this.options.requestModel,
          startTime: this.startTime,
          firstChunkTime: this.firstContentTime,
          captureContent: this.options.captureContent,
          inputMessages: this.options.inputMessages,
          maxBytes: this.maxBytes,
          pricing: this.options.pricing,
          contentChunks: this.contentChunks,
          // Cut by the client: what was counted stays, the output estimated from it (marked).
          estimateOutputFrom: this.aborted ? this.contentChunks : undefined,
          names: this.options.genAiNames,
        },
        a,
      );
    }
  }

  applyTo(span: AttributeTarget): void {
    try {
      const { attributes, error } = this.outcome();
      span.setAttributes(attributes);
      if (error !== undefined) {
        span.setAttribute('error.type', error.type);
        span.setStatus(error.message ? { code: 'error', message: error.message } : { code: 'error' });
      } else if (this.aborted) {
        span.setAttribute('error.type', 'client_aborted');
        span.setStatus({ code: 'error' });
      }
    } catch {
      // see write()
    }
  }
}

/**
 * Creates an accumulator for one stream. Feed it every chunk with `write()`, then `end()` (or
 * `abort()` if the stream was cut), and read `attributes()` or call `applyTo(span)`.
 */
export function createStreamAccumulator(options: StreamAccumulatorOptions = {}): StreamAccumulator {
  return new Accumulator(options ?? {});
}
