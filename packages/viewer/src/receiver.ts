/**
 * OTLP/HTTP trace receiver (`POST /v1/traces`), per the OTLP specification's HTTP section:
 * `application/x-protobuf` or `application/json` bodies, optionally gzip- or deflate-compressed,
 * answered with an `ExportTraceServiceResponse` in the request's encoding (`partial_success` when
 * spans were refused), or with a `google.rpc.Status` and 400 / 413 / 415 for a body it cannot take.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import zlib from 'node:zlib';
import { decodeTraceRequestJson, JsonBodyError } from './otlp/json';
import { wireToSpanData, type ResourceBatch } from './otlp/model';
import { decodeTraceRequestProtobuf, encodeRpcStatusProtobuf, encodeTraceResponseProtobuf, ProtobufError } from './otlp/protobuf';
import type { TraceStore } from './store';

type Encoding = 'protobuf' | 'json';

/** An HTTP error with the status to answer. */
class ReceiveError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

// google.rpc.Code values the OTLP spec's error responses use.
const RPC_INVALID_ARGUMENT = 3;
const RPC_RESOURCE_EXHAUSTED = 8;
const RPC_UNIMPLEMENTED = 12;
const RPC_UNAVAILABLE = 14;

function encodingOf(contentType: string | undefined): Encoding | undefined {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  return undefined;
}

/** Reads the whole body, refusing more than `max` bytes on the wire. */
function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) {
      reject(new ReceiveError(413, `request body of ${declared} bytes is over the limit of ${max}`));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > max) {
        failed = true;
        chunks.length = 0;
        reject(new ReceiveError(413, `request body is over the limit of ${max} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (!failed) {
        failed = true;
        reject(err);
      }
    });
  });
}

/** Undoes `content-encoding`, never inflating past `max` bytes (a small gzip can expand a thousandfold). */
function decompress(body: Buffer, encoding: string | undefined, max: number): Promise<Buffer> {
  const enc = (encoding ?? 'identity').trim().toLowerCase();
  if (enc === '' || enc === 'identity') return Promise.resolve(body);
  const inflate = enc === 'gzip' || enc === 'x-gzip' ? zlib.gunzip : enc === 'deflate' ? zlib.inflate : undefined;
  if (inflate === undefined) return Promise.reject(new ReceiveError(415, `content-encoding "${enc}" is not supported (use gzip, deflate or none)`));
  return new Promise((resolve, reject) => {
    inflate(body, { maxOutputLength: max }, (err, out) => {
      if (err === null) resolve(out);
      else if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
        reject(new ReceiveError(413, `decompressed body is over the limit of ${max} bytes`));
      } else reject(new ReceiveError(400, `body is not valid ${enc}: ${err.message}`));
    });
  });
}

function send(res: ServerResponse, status: number, encoding: Encoding, body: Buffer | string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    'content-type': encoding === 'protobuf' ? 'application/x-protobuf' : 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function sendError(res: ServerResponse, status: number, encoding: Encoding, message: string): void {
  const code = status === 413 ? RPC_RESOURCE_EXHAUSTED : status === 415 ? RPC_UNIMPLEMENTED : status === 503 ? RPC_UNAVAILABLE : RPC_INVALID_ARGUMENT;
  const body = encoding === 'protobuf' ? encodeRpcStatusProtobuf(code, message) : JSON.stringify({ code, message });
  send(res, status, encoding, body);
}

/** Stores the spans of decoded batches; returns the number refused. */
export function storeBatches(store: TraceStore, batches: ResourceBatch[]): number {
  let rejected = 0;
  for (const batch of batches) {
    const spans = [];
    let invalid = 0;
    for (const w of batch.spans) {
      const span = wireToSpanData(w);
      if (span === undefined) invalid++;
      else spans.push(span);
    }
    store.noteRejected(invalid);
    rejected += invalid + store.add(batch.resource, spans).rejected;
  }
  return rejected;
}

/** Handles `POST /v1/traces`. Never throws; every refused request is counted in the store's stats. */
export async function receiveTraces(req: IncomingMessage, res: ServerResponse, store: TraceStore, maxBodyBytes: number): Promise<void> {
  const encoding = encodingOf(req.headers['content-type']);
  if (encoding === undefined) {
    store.rejectedRequests++;
    req.resume();
    sendError(res, 415, 'json', `content-type must be application/x-protobuf or application/json, got ${JSON.stringify(req.headers['content-type'] ?? '')}`);
    return;
  }
  try {
    const raw = await readBody(req, maxBodyBytes);
    const body = await decompress(raw, req.headers['content-encoding'], maxBodyBytes);
    let batches: ResourceBatch[];
    try {
      batches = encoding === 'protobuf' ? decodeTraceRequestProtobuf(body) : decodeTraceRequestJson(body.toString('utf8'));
    } catch (err) {
      if (err instanceof ProtobufError || err instanceof JsonBodyError) throw new ReceiveError(400, `not an OTLP trace request: ${err.message}`);
      throw err;
    }
    const rejected = storeBatches(store, batches);
    const message = rejected > 0 ? `${rejected} span(s) refused: invalid trace or span id, or the trace is over maxSpansPerTrace` : '';
    if (encoding === 'protobuf') send(res, 200, encoding, encodeTraceResponseProtobuf(rejected, message));
    else send(res, 200, encoding, JSON.stringify(rejected > 0 ? { partialSuccess: { rejectedSpans: String(rejected), errorMessage: message } } : {}));
  } catch (err) {
    store.rejectedRequests++;
    if (err instanceof ReceiveError) {
      sendError(res, err.status, encoding, err.message);
      if (err.status === 413) res.once('finish', () => req.destroy());
    } else {
      sendError(res, 400, encoding, `could not read the request: ${(err as Error)?.message ?? String(err)}`);
    }
  }
}
