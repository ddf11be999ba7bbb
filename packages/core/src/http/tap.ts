import http from 'node:http';
import type { ServerResponse } from 'node:http';
import zlib from 'node:zlib';
// Imported: the global `Buffer` is a getter, a measurable cost per chunk.
import { Buffer } from 'node:buffer';
import { streamFormatFor } from '../stream';
import { Accumulator } from '../stream/accumulator';
import type { StreamAccumulatorOptions, StreamFormat } from '../stream';

/** Settings of the response tap: the adapter's `stream` option and the tracer's content settings. */
export interface TapSettings {
  formats: ReadonlySet<StreamFormat>;
  maxBytes: number | undefined;
  captureContent: boolean;
  pricing: StreamAccumulatorOptions['pricing'];
  /** GenAI attribute names (OTEL_SEMCONV_STABILITY_OPT_IN). */
  genAiNames?: StreamAccumulatorOptions['genAiNames'];
}

function formatOf(contentType: unknown): StreamFormat {
  return streamFormatFor(typeof contentType === 'string' ? contentType : Array.isArray(contentType) ? String(contentType[0]) : undefined);
}

function decompressorFor(encoding: unknown): zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | undefined {
  const e = typeof encoding === 'string' ? encoding.trim().toLowerCase() : '';
  if (e === 'gzip' || e === 'x-gzip') return zlib.createGunzip();
  if (e === 'deflate') return zlib.createInflate();
  if (e === 'br') return zlib.createBrotliDecompress();
  return undefined;
}

/**
 * Once the first content event has been parsed (so its time is known), byte chunks are held, up
 * to this many bytes, and parsed together: one UTF-8 decode and one parse pass for many small
 * writes, where the SSE parser then takes whole runs of simple events. Text chunks are parsed as
 * they come. Parsing is chunking-invariant (test/stream/sserun.test.ts), so the result is the
 * same; the bound keeps memory per response flat. The tap never reads the accumulator before the
 * response is over, so nothing reads a count while bytes are held.
 */
const HOLD_BYTES = 16 * 1024;
/** Hold buffers of ended responses, reused: a new 16 KiB buffer per response is a measurable cost under load. */
const spareHoldBuffers: Buffer[] = [];
const MAX_SPARE_HOLD_BUFFERS = 16;

export const TAP: unique symbol = Symbol.for('tracewire.http.tap') as never;
const PATCHED: unique symbol = Symbol.for('tracewire.http.tap.patched') as never;
type Tapped = ServerResponse & { [TAP]?: ResponseTap };

/**
 * Installs the byte observers on `http.ServerResponse.prototype`, once per process. Each checks
 * one Symbol property and calls straight through with the very same arguments, so every byte, its
 * order, the return value (backpressure), callbacks and `cork` are exactly Node's. Patching the
 * prototype instead of each response costs a traced request nothing but that property; own
 * `write`/`end` functions on every response slowed Express hello by ~30 µs/req (bench/http).
 */
function patchServerResponse(): void {
  const proto = http.ServerResponse.prototype as unknown as Record<PropertyKey, unknown>;
  if (proto[PATCHED]) return;
  proto[PATCHED] = true;
  const write = proto.write as (...a: unknown[]) => boolean;
  const end = proto.end as (...a: unknown[]) => unknown;
  const writeHead = proto.writeHead as (...a: unknown[]) => unknown;
  proto.write = function tracewireWrite(this: Tapped, chunk: unknown, encoding?: unknown) {
    const tap = this[TAP];
    if (tap !== undefined) tap.observe(chunk, encoding, false);
    // eslint-disable-next-line prefer-rest-params
    return write.apply(this, arguments as unknown as unknown[]);
  };
  proto.end = function tracewireEnd(this: Tapped, chunk?: unknown, encoding?: unknown) {
    const tap = this[TAP];
    if (tap !== undefined && typeof chunk !== 'function') tap.observe(chunk, encoding, true);
    // eslint-disable-next-line prefer-rest-params
    return end.apply(this, arguments as unknown as unknown[]);
  };
  proto.writeHead = function tracewireWriteHead(this: Tapped, _statusCode: unknown, reason?: unknown, headers?: unknown) {
    const tap = this[TAP];
    if (tap !== undefined) {
      const h = typeof reason === 'object' && reason !== null ? reason : headers;
      if (h !== undefined) tap.headHeaders = h;
    }
    // eslint-disable-next-line prefer-rest-params
    return writeHead.apply(this, arguments as unknown as unknown[]);
  };
}

/**
 * Watches the bytes a response sends without changing them. Express, Koa (`ctx.body` streams are
 * piped into `res`) and Fastify (`reply.send(stream)`, `reply.raw.write`) all write through
 * `ServerResponse#write`/`#end`. A compressed body (`content-encoding: gzip|deflate|br`, whatever
 * middleware compressed it) is inflated on a side channel so the accumulator sees the events.
 */
export class ResponseTap {
  private acc: Accumulator | undefined = undefined;
  private inflate: zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | undefined = undefined;
  private inflateDone: Promise<void> | undefined = undefined;
  private decided = false;
  /** Byte chunks held for parsing together: `heldBytes[0, heldLength)`. */
  private heldBytes: Buffer | undefined = undefined;
  private heldLength = 0;
  /** Headers passed straight to writeHead(), which getHeader() cannot see. */
  headHeaders: unknown = undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly settings: TapSettings,
    private readonly startTime: number,
  ) {
    patchServerResponse();
    (res as Tapped)[TAP] = this;
  }

  /** A response header, whether set with setHeader() or passed to writeHead() (object or raw pairs). */
  private header(name: string): unknown {
    const v = this.res.getHeader(name);
    if (v !== undefined) return v;
    const h = this.headHeaders;
    if (Array.isArray(h)) {
      // raw form: [name, value, name, value, ...] or [[name, value], ...]
      for (let i = 0; i < h.length; i++) {
        const e = h[i];
        if (Array.isArray(e)) {
          if (String(e[0]).toLowerCase() === name) return e[1];
        } else if (i % 2 === 0 && String(e).toLowerCase() === name) return h[i + 1];
      }
      return undefined;
    }
    if (h && typeof h === 'object') {
      for (const k of Object.keys(h)) if (k.toLowerCase() === name) return (h as Record<string, unknown>)[k];
    }
    return undefined;
  }

  /** Never throws: a failure here must not break the response (the bytes still go out). */
  observe(chunk: unknown, encoding: unknown, isEnd: boolean): void {
    try {
      if (chunk === undefined || chunk === null) return;
      if (!this.decided) {
        this.decided = true;
        const format = formatOf(this.header('content-type'));
        // A body sent whole by one end() call is not a stream, unless it is SSE/NDJSON.
        if ((format === 'chunked' && isEnd) || !this.settings.formats.has(format)) return;
        // Only the attributes read the result: no text is kept unless content is captured.
        this.acc = new Accumulator({
          format,
          maxBytes: this.settings.maxBytes,
          captureContent: this.settings.captureContent,
          pricing: this.settings.pricing,
          startTime: this.startTime,
          genAiNames: this.settings.genAiNames,
          keepText: false,
        });
        this.inflate = decompressorFor(this.header('content-encoding'));
        if (this.inflate) {
          const acc = this.acc;
          const inflate = this.inflate;
          inflate.on('data', (c: Buffer) => acc.write(c));
          this.inflateDone = new Promise<void>((resolve) => {
            inflate.once('end', resolve);
            inflate.once('error', () => resolve());
            inflate.once('close', resolve);
          });
        }
      }
      const acc = this.acc;
      if (!acc) return;
      if (typeof chunk === 'string') {
        if (this.inflate) this.inflate.write(Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'));
        else {
          // Text is parsed as it comes (joining strings would only copy them), after what is held.
          if (this.heldLength > 0) this.flush(acc);
          acc.write(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
        }
      } else if (chunk instanceof Uint8Array) {
        if (this.inflate) this.inflate.write(Buffer.from(chunk)); // zlib may hold it: a copy keeps the app's buffer its own
        else if (this.heldBytes !== undefined || (acc.firstContentChunk !== undefined && acc.format !== 'chunked')) this.hold(acc, chunk);
        else acc.write(chunk);
      }
    } catch {
      this.acc = undefined; // stop observing; the response itself is unaffected
    }
  }

  /** Holds a byte chunk, to be parsed with the next ones (see HOLD_BYTES). */
  private hold(acc: Accumulator, chunk: Uint8Array): void {
    const n = chunk.byteLength;
    if (this.heldLength + n > HOLD_BYTES) this.flush(acc);
    if (n > HOLD_BYTES) {
      acc.write(chunk);
      return;
    }
    // Copied: the writer may reuse its buffer once the write is done.
    const held = (this.heldBytes ??= spareHoldBuffers.pop() ?? Buffer.allocUnsafeSlow(HOLD_BYTES));
    held.set(chunk, this.heldLength);
    this.heldLength += n;
  }

  /** Parses what is held. */
  private flush(acc: Accumulator): void {
    const n = this.heldLength;
    if (n === 0) return;
    this.heldLength = 0;
    // The parsers copy what they keep, so the buffer is free again once this returns.
    acc.write((this.heldBytes as Buffer).subarray(0, n));
  }

  /** Parses what is held and gives the hold buffer back: the response is over. */
  private release(acc: Accumulator): void {
    this.flush(acc);
    const held = this.heldBytes;
    if (held !== undefined) {
      this.heldBytes = undefined;
      if (spareHoldBuffers.length < MAX_SPARE_HOLD_BUFFERS) spareHoldBuffers.push(held);
    }
  }

  /**
   * Closes the accumulator (ended, or aborted when the response did not finish) and returns it,
   * for the caller to set its attributes on the span and report its figures; undefined when the
   * body was not tapped. A promise only when a compressed body is still being inflated.
   */
  finish(aborted: boolean): Accumulator | Promise<Accumulator> | undefined {
    const acc = this.acc;
    if (!acc) return undefined;
    this.release(acc);
    const close = (): Accumulator => {
      if (aborted) acc.abort();
      else acc.end();
      return acc;
    };
    if (!this.inflate) return close();
    const inflate = this.inflate;
    const done = this.inflateDone!;
    if (aborted) inflate.destroy();
    else inflate.end();
    // Bounded: a broken compressed body must not hold the span open.
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 1000);
      timer.unref();
    });
    return Promise.race([done, limit]).then(() => {
      if (timer) clearTimeout(timer);
      return close();
    });
  }
}

