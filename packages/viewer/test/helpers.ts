/** Test helpers: raw HTTP on 127.0.0.1 and protobufjs over the official opentelemetry-proto files. */
import http from 'node:http';
import { join } from 'node:path';
import * as protobuf from 'protobufjs';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

/** One request with a raw path (not normalised, so traversal attempts reach the server as written). */
export function send(base: string, method: string, path: string, body?: Buffer | string, headers: http.OutgoingHttpHeaders = {}): Promise<Reply> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const b = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b, text: b.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export const get = (base: string, path: string, headers?: http.OutgoingHttpHeaders) => send(base, 'GET', path, undefined, headers);

/** GET and parse JSON; fails the test on a non-200. */
export async function getJson<T = any>(base: string, path: string): Promise<T> {
  const r = await get(base, path);
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.text}`);
  return JSON.parse(r.text) as T;
}

/** The official .proto files, as @tracewire/otlp's tests copied them from open-telemetry/opentelemetry-proto. */
export const PROTO_DIR = join(__dirname, '..', '..', 'otlp', 'test', 'fixtures', 'opentelemetry-proto');

let root: protobuf.Root | undefined;
/** protobufjs types of the trace service: an encoder independent of the viewer's reader. */
export function protoTypes(): { Request: protobuf.Type; Response: protobuf.Type } {
  if (root === undefined) {
    root = new protobuf.Root();
    root.resolvePath = (_origin, target) => join(PROTO_DIR, target.replace(/^.*?opentelemetry\/proto\//, 'opentelemetry/proto/'));
    root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto', { keepCase: false });
    root.resolveAll();
  }
  return {
    Request: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
    Response: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
  };
}

/** Encodes a request object (protobufjs' camelCase field names, ids as Buffers) to protobuf bytes. */
export function encodeRequest(obj: Record<string, unknown>): Buffer {
  const { Request } = protoTypes();
  const err = Request.verify(Request.fromObject(obj));
  if (err) throw new Error(err);
  return Buffer.from(Request.encode(Request.fromObject(obj)).finish());
}

/** Polls until `fn` resolves truthy. */
export async function until<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('until: condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
