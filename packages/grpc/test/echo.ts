/**
 * The Echo service of fixtures/echo.proto on real grpc-js servers and clients over 127.0.0.1
 * (port 0), for whichever grpc-js the caller passes: the tests run the same calls on the newest
 * and the oldest version the peer range allows.
 */
import { join } from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import type * as Grpc from '@grpc/grpc-js';
import { activeSpan } from '@tracewire/core';

export type GrpcJs = typeof Grpc;

export const PROTO = join(__dirname, 'fixtures', 'echo.proto');
const definition = protoLoader.loadSync(PROTO, { longs: Number, defaults: true });

export const SERVICE = 'tracewire.test.v1.Echo';

export interface EchoRequest {
  text?: string;
  count?: number;
  delayMs?: number;
  failCode?: number;
}

export interface EchoReply {
  text: string;
  index: number;
  traceId: string;
  spanId: string;
}

/** What the handler saw of the active span. */
function here(): Pick<EchoReply, 'traceId' | 'spanId'> {
  const span = activeSpan();
  if (!span) return { traceId: '', spanId: '' };
  const ctx = span.spanContext();
  return { traceId: ctx.traceId, spanId: ctx.spanId };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The Echo handlers; `overrides` replace some. */
export function echoImplementation(overrides: Partial<Grpc.UntypedServiceImplementation> = {}): Grpc.UntypedServiceImplementation {
  return {
    async Say(call: Grpc.ServerUnaryCall<EchoRequest, EchoReply>, callback: Grpc.sendUnaryData<EchoReply>) {
      const req = call.request;
      if (req.delayMs) await sleep(req.delayMs);
      if (req.failCode) {
        callback({ code: req.failCode, details: `failed on purpose with ${req.failCode}` });
        return;
      }
      callback(null, { text: req.text ?? '', index: 0, ...here() });
    },
    Stream(call: Grpc.ServerWritableStream<EchoRequest, EchoReply>) {
      const req = call.request;
      let cancelled = false;
      call.on('cancelled', () => (cancelled = true));
      void (async () => {
        for (let i = 0; i < (req.count ?? 0); i++) {
          if (req.delayMs) await sleep(req.delayMs);
          if (cancelled) return;
          call.write({ text: `${req.text}#${i}`, index: i, ...here() });
        }
        if (req.failCode) call.emit('error', { code: req.failCode, details: `failed on purpose with ${req.failCode}` });
        else call.end();
      })();
    },
    Collect(call: Grpc.ServerReadableStream<EchoRequest, EchoReply>, callback: Grpc.sendUnaryData<EchoReply>) {
      const texts: string[] = [];
      call.on('data', (req: EchoRequest) => texts.push(req.text ?? ''));
      call.on('end', () => callback(null, { text: texts.join(','), index: texts.length, ...here() }));
    },
    Chat(call: Grpc.ServerDuplexStream<EchoRequest, EchoReply>) {
      let i = 0;
      call.on('data', (req: EchoRequest) => call.write({ text: req.text ?? '', index: i++, ...here() }));
      call.on('end', () => call.end());
    },
    ...overrides,
  };
}

export interface EchoServer {
  readonly port: number;
  readonly server: Grpc.Server;
  close(): Promise<void>;
}

/** Starts an Echo server on 127.0.0.1:0 with these server interceptors. */
export function startEchoServer(grpc: GrpcJs, interceptors: Grpc.ServerInterceptor[], overrides?: Partial<Grpc.UntypedServiceImplementation>): Promise<EchoServer> {
  const pkg = grpc.loadPackageDefinition(definition) as any;
  const server = new grpc.Server({ interceptors });
  server.addService(pkg.tracewire.test.v1.Echo.service, echoImplementation(overrides));
  return new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
      if (err) return reject(err);
      resolve({
        port,
        server,
        close: () =>
          new Promise<void>((done) => {
            server.tryShutdown(() => done());
            // A stream the test left open must not hold the shutdown.
            setTimeout(() => server.forceShutdown(), 1000).unref();
          }),
      });
    });
  });
}

/** The Echo client type (methods untyped: the tests call them as grpc-js generates them). */
export type EchoClient = Grpc.Client & Record<string, any>;

/** A client of the Echo server at 127.0.0.1:`port` with these client interceptors. */
export function echoClient(grpc: GrpcJs, port: number, interceptors: Grpc.Interceptor[], address = `127.0.0.1:${port}`): EchoClient {
  const pkg = grpc.loadPackageDefinition(definition) as any;
  return new pkg.tracewire.test.v1.Echo(address, grpc.credentials.createInsecure(), { interceptors }) as EchoClient;
}

/** A unary call as a promise: the reply or the error, never a rejection. */
export function say(client: EchoClient, req: EchoRequest, metadata?: Grpc.Metadata, options: Grpc.CallOptions = {}): Promise<{ reply?: EchoReply; error?: Grpc.ServiceError }> {
  return new Promise((resolve) => {
    const cb = (error: Grpc.ServiceError | null, reply?: EchoReply) => resolve(error ? { error } : { reply });
    if (metadata) client.Say(req, metadata, options, cb);
    else client.Say(req, options, cb);
  });
}

/** Reads a server stream to its end: the replies and the error, if any. */
export function readStream(stream: Grpc.ClientReadableStream<EchoReply>): Promise<{ replies: EchoReply[]; error?: Grpc.ServiceError }> {
  return new Promise((resolve) => {
    const replies: EchoReply[] = [];
    stream.on('data', (r: EchoReply) => replies.push(r));
    stream.on('error', (error: Grpc.ServiceError) => resolve({ replies, error }));
    stream.on('end', () => resolve({ replies }));
  });
}
