/**
 * A real OTLP/HTTP receiver for tests: node:http (or https) on 127.0.0.1:0 that gunzips, decodes
 * protobuf with protobufjs over the official opentelemetry-proto files (fixtures/), decodes OTLP/JSON
 * through the same message types, and answers what each test scripts.
 */
import http from 'node:http';
import https from 'node:https';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import * as protobuf from 'protobufjs';

const PROTO_DIR = join(__dirname, 'fixtures', 'opentelemetry-proto');

function loadRoot(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(PROTO_DIR, target.replace(/^.*?opentelemetry\/proto\//, 'opentelemetry/proto/'));
  root.loadSync(['opentelemetry/proto/collector/trace/v1/trace_service.proto'], { keepCase: false });
  root.resolveAll();
  return root;
}

export const root = loadRoot();
export const RequestType = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
export const ResponseType = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');

const ID_FIELDS = new Set(['traceId', 'spanId', 'parentSpanId']);

/** The decoded request, canonical: ids as hex, 64-bit ints as decimal strings, enums as numbers. */
export type Canonical = Record<string, any>;

function idsToHex(value: unknown, key?: string): unknown {
  if (value instanceof Uint8Array) return key && ID_FIELDS.has(key) ? Buffer.from(value).toString('hex') : Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map((v) => idsToHex(v));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = idsToHex(v, k);
    return out;
  }
  return value;
}

function canonical(message: protobuf.Message): Canonical {
  const obj = RequestType.toObject(message, { longs: String, enums: Number, bytes: Buffer, defaults: false, arrays: true, json: true });
  return idsToHex(obj) as Canonical;
}

/** Decodes protobuf bytes with protobufjs; throws on anything that is not a valid message. */
export function decodeProtobuf(body: Buffer): Canonical {
  return canonical(RequestType.decode(body));
}

/**
 * Fails on a JSON key that is not a field of its message (protobufjs' fromObject would ignore it),
 * so a misspelt OTLP/JSON field cannot pass unnoticed.
 */
function checkKnownFields(type: protobuf.Type, obj: unknown, path: string): void {
  if (!obj || typeof obj !== 'object') throw new Error(`${path}: expected an object for ${type.name}`);
  for (const [key, value] of Object.entries(obj)) {
    const field = type.fields[key] ?? Object.values(type.fields).find((f) => f.name === key);
    if (!field) throw new Error(`${path}.${key}: not a field of ${type.fullName}`);
    const resolved = field.resolve().resolvedType;
    if (resolved instanceof protobuf.Type) {
      if (field.repeated) {
        if (!Array.isArray(value)) throw new Error(`${path}.${key}: expected an array`);
        value.forEach((v, i) => checkKnownFields(resolved, v, `${path}.${key}[${i}]`));
      } else checkKnownFields(resolved, value, `${path}.${key}`);
    } else if (resolved instanceof protobuf.Enum) {
      if (typeof value !== 'number') throw new Error(`${path}.${key}: OTLP/JSON enums are integers, got ${JSON.stringify(value)}`);
    } else if (['int64', 'uint64', 'fixed64', 'sfixed64', 'sint64'].includes(field.type)) {
      if (typeof value !== 'string' || !/^-?\d+$/.test(value)) throw new Error(`${path}.${key}: int64 must be a decimal string, got ${JSON.stringify(value)}`);
    } else if (field.type === 'bytes' && ID_FIELDS.has(key)) {
      if (typeof value !== 'string' || !/^[0-9a-f]*$/.test(value)) throw new Error(`${path}.${key}: ids are lowercase hex in OTLP/JSON`);
    }
  }
}

function hexIdsToBytes(value: unknown, key?: string): unknown {
  if (typeof value === 'string' && key && ID_FIELDS.has(key)) return Buffer.from(value, 'hex');
  if (Array.isArray(value)) return value.map((v) => hexIdsToBytes(v));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = hexIdsToBytes(v, k);
    return out;
  }
  return value;
}

/** Decodes OTLP/JSON through the same protobufjs types (ids hex, not base64, as OTLP says). */
export function decodeJson(body: Buffer): Canonical {
  const parsed = JSON.parse(body.toString('utf8'));
  checkKnownFields(RequestType, parsed, '$');
  const message = RequestType.fromObject(hexIdsToBytes(parsed) as Record<string, unknown>);
  const err = RequestType.verify(message);
  if (err) throw new Error(`invalid OTLP/JSON: ${err}`);
  return canonical(message);
}

export interface Received {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The body as it arrived (compressed if it was). */
  raw: Buffer;
  format: 'protobuf' | 'json';
  request: Canonical;
}

/** What the receiver answers to attempt number `n` (1-based, counting every request). */
export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Hold the answer this long (a slow backend). */
  delayMs?: number;
  /** Drop the connection without answering. */
  destroy?: boolean;
}

export interface Receiver {
  url: string;
  port: number;
  /** Requests that decoded and were answered 2xx, in order. */
  delivered: Received[];
  /** Every request that reached the receiver. */
  attempts: Received[];
  /** Every span delivered, flattened, with its resource and scope. */
  spans(): Array<Canonical & { resource: Canonical; scope: Canonical }>;
  waitForSpans(n: number, timeoutMs?: number): Promise<Array<Canonical & { resource: Canonical; scope: Canonical }>>;
  waitForAttempts(n: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

export interface ReceiverOptions {
  reply?: (n: number, req: Received) => Reply | undefined;
  tls?: { key: string | Buffer; cert: string | Buffer };
}

async function waitUntil(check: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function startReceiver(options: ReceiverOptions = {}): Promise<Receiver> {
  const delivered: Received[] = [];
  const attempts: Received[] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const contentType = String(req.headers['content-type'] ?? '');
      const format: Received['format'] = contentType.includes('json') ? 'json' : 'protobuf';
      let request: Canonical;
      try {
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        request = format === 'json' ? decodeJson(body) : decodeProtobuf(body);
      } catch (err) {
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end(`undecodable request: ${(err as Error).message}`);
        attempts.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, raw, format, request: {} });
        return;
      }
      const r: Received = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, raw, format, request };
      attempts.push(r);
      const reply = options.reply?.(attempts.length, r) ?? {};
      const answer = (): void => {
        if (reply.destroy) {
          req.socket.destroy();
          return;
        }
        const status = reply.status ?? 200;
        if (status >= 200 && status < 300) delivered.push(r);
        const body =
          reply.body ?? (format === 'json' ? '{}' : Buffer.from(ResponseType.encode(ResponseType.create({})).finish()));
        res.writeHead(status, { 'content-type': format === 'json' ? 'application/json' : 'application/x-protobuf', ...reply.headers });
        res.end(body);
      };
      if (reply.delayMs) setTimeout(answer, reply.delayMs);
      else answer();
    });
  };
  const server = options.tls ? https.createServer(options.tls, handler) : http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const spans = () =>
    delivered.flatMap((d) =>
      (d.request.resourceSpans ?? []).flatMap((rs: Canonical) =>
        (rs.scopeSpans ?? []).flatMap((ss: Canonical) => (ss.spans ?? []).map((s: Canonical) => ({ ...s, resource: rs.resource, scope: ss.scope }))),
      ),
    );
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    delivered,
    attempts,
    spans,
    async waitForSpans(n, timeoutMs = 5000) {
      await waitUntil(() => spans().length >= n, timeoutMs, () => `${n} spans (have ${spans().length})`);
      return spans();
    },
    async waitForAttempts(n, timeoutMs = 5000) {
      await waitUntil(() => attempts.length >= n, timeoutMs, () => `${n} requests (have ${attempts.length})`);
      return attempts;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The value of an OTLP AnyValue in canonical form, as a plain JS value (for assertions). */
export function plain(value: Canonical | undefined): unknown {
  if (!value) return null;
  if ('stringValue' in value) return value.stringValue;
  if ('boolValue' in value) return value.boolValue;
  if ('intValue' in value) return Number(value.intValue);
  if ('doubleValue' in value) return value.doubleValue;
  if ('arrayValue' in value) return (value.arrayValue.values ?? []).map(plain);
  return null;
}

/** Attributes (KeyValue[]) as a plain object. */
export function attrs(list: Canonical[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list ?? []) out[kv.key] = plain(kv.value);
  return out;
}
