/**
 * Reading what an OTLP receiver answers: `ExportTraceServiceResponse.partial_success` on success
 * (https://opentelemetry.io/docs/specs/otlp/#partial-success-1), and the `google.rpc.Status`
 * message of an error, in protobuf or JSON. Bad bodies never throw: they read as nothing.
 */

/** What a 2xx response says about rejected spans. */
export interface PartialSuccess {
  rejectedSpans: number;
  errorMessage: string;
}

/** A read cursor over protobuf bytes; every read is bounds-checked. */
class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array, readonly end = buf.length) {}

  /** A varint as a number (exact up to 2^53; larger counts are not meaningful here). */
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new RangeError('truncated varint');
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new RangeError('varint too long');
  }

  /** Skips a field of the given wire type, or returns the sub-range of a length-delimited one. */
  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.pos += this.varint();
        break;
      case 5:
        this.pos += 4;
        break;
      default:
        throw new RangeError(`unsupported wire type ${wireType}`);
    }
    if (this.pos > this.end) throw new RangeError('truncated field');
  }

  bytes(): [start: number, end: number] {
    const len = this.varint();
    const start = this.pos;
    this.pos += len;
    if (this.pos > this.end) throw new RangeError('truncated field');
    return [start, this.pos];
  }
}

function text(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('utf8');
}

/** int64 read as a varint of 10 bytes for negative numbers: treat those as 0 (never valid counts). */
function count(n: number): number {
  return n > Number.MAX_SAFE_INTEGER ? 0 : n;
}

function isJson(contentType: string, fallbackJson: boolean): boolean {
  const ct = contentType.toLowerCase();
  if (ct.includes('json')) return true;
  if (ct.includes('protobuf')) return false;
  return fallbackJson;
}

/** The partial success of a 2xx body, or undefined when the body says nothing (or is unreadable). */
export function readPartialSuccess(body: Buffer, contentType: string, sentJson: boolean): PartialSuccess | undefined {
  if (body.length === 0) return undefined;
  try {
    if (isJson(contentType, sentJson)) {
      const parsed = JSON.parse(body.toString('utf8')) as { partialSuccess?: { rejectedSpans?: unknown; errorMessage?: unknown } };
      const ps = parsed && typeof parsed === 'object' ? parsed.partialSuccess : undefined;
      if (!ps || typeof ps !== 'object') return undefined;
      // int64 is a string in OTLP/JSON; a number is accepted too.
      const n = Number(ps.rejectedSpans ?? 0);
      const rejectedSpans = Number.isSafeInteger(n) && n > 0 ? n : 0;
      const errorMessage = typeof ps.errorMessage === 'string' ? ps.errorMessage : '';
      return rejectedSpans > 0 || errorMessage !== '' ? { rejectedSpans, errorMessage } : undefined;
    }
    const r = new Reader(body);
    let result: PartialSuccess | undefined;
    while (r.pos < r.end) {
      const tag = r.varint();
      if (tag >>> 3 === 1 && (tag & 7) === 2) {
        const [start, end] = r.bytes();
        const inner = new Reader(body, end);
        inner.pos = start;
        const ps: PartialSuccess = { rejectedSpans: 0, errorMessage: '' };
        while (inner.pos < end) {
          const t = inner.varint();
          if (t === (1 << 3)) ps.rejectedSpans = count(inner.varint());
          else if (t === ((2 << 3) | 2)) {
            const [s, e] = inner.bytes();
            ps.errorMessage = text(body, s, e);
          } else inner.skip(t & 7);
        }
        result = ps.rejectedSpans > 0 || ps.errorMessage !== '' ? ps : undefined;
      } else r.skip(tag & 7);
    }
    return result;
  } catch {
    return undefined;
  }
}

/** The `message` of a `google.rpc.Status` error body, cut to 200 characters; '' when there is none. */
export function readErrorMessage(body: Buffer | undefined, contentType: string, sentJson: boolean): string {
  if (!body || body.length === 0) return '';
  let message = '';
  try {
    const ct = contentType.toLowerCase();
    if (ct.includes('json') || (ct === '' && sentJson)) {
      const raw = body.toString('utf8');
      try {
        const parsed = JSON.parse(raw) as { message?: unknown };
        message = parsed && typeof parsed.message === 'string' ? parsed.message : raw;
      } catch {
        message = raw;
      }
    } else if (ct.includes('protobuf')) {
      const r = new Reader(body);
      while (r.pos < r.end) {
        const tag = r.varint();
        if (tag === ((2 << 3) | 2)) {
          const [s, e] = r.bytes();
          message = text(body, s, e);
        } else r.skip(tag & 7);
      }
    } else {
      message = body.toString('utf8');
    }
  } catch {
    message = '';
  }
  // One line, bounded: it goes into a log line.
  message = message.replace(/[\s\p{Cc}]+/gu, ' ').trim();
  return message.length > 200 ? message.slice(0, 200) + '…' : message;
}
