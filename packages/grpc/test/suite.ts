/**
 * The interceptors' behaviour on real grpc-js servers and clients, for one grpc-js version: run
 * by grpc.test.ts (the newest the peer range allows) and grpc-oldest.test.ts (1.10.0).
 */
import { createTracer, getBaggage, InMemoryExporter, suppressTracing, withBaggage } from '@tracewire/core';
import type { SpanData, Tracer, TracerOptions } from '@tracewire/core';
import { clientInterceptor, serverInterceptor } from '../src';
import type { GrpcClientTracingOptions, GrpcTracingOptions } from '../src';
import { captureStderr } from '../../core/test/helpers';
import { SERVICE, echoClient, readStream, say, startEchoServer } from './echo';
import type { EchoClient, EchoReply, EchoServer, GrpcJs } from './echo';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

function memoryTracer(options: TracerOptions = {}): { tracer: Tracer; exporter: InMemoryExporter } {
  const exporter = new InMemoryExporter();
  return { tracer: createTracer({ serviceName: 'grpc-test', exporters: [exporter], batch: { scheduledDelayMillis: 1 }, ...options }), exporter };
}

const one = (spans: SpanData[], kind: SpanData['kind'], name?: string): SpanData => {
  const found = spans.filter((s) => s.kind === kind && (name === undefined || s.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind} span ${name ?? ''}, got ${JSON.stringify(spans.map((s) => [s.kind, s.name]))}`);
  return found[0];
};

/** Waits until the exporter holds spans matching `test` (every span of a call ends a little apart). */
async function spansWhen(exporter: InMemoryExporter, test: (spans: SpanData[]) => boolean, ms = 5000): Promise<SpanData[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const spans = exporter.spans();
    if (test(spans)) return spans;
    if (Date.now() > deadline) throw new Error(`spans never matched: ${JSON.stringify(spans.slice(0, 20).map((s) => [s.kind, s.name, s.attributes['rpc.status_code']]))} (${spans.length} in all)`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
const kinds = (n: { server?: number; client?: number; internal?: number }) => (spans: SpanData[]) =>
  (n.server ?? 0) === spans.filter((s) => s.kind === 'server').length &&
  (n.client ?? 0) === spans.filter((s) => s.kind === 'client').length &&
  (n.internal === undefined || n.internal === spans.filter((s) => s.kind === 'internal').length);

export function defineSuite(label: string, grpc: GrpcJs): void {
  describe(`@tracewire/grpc on @grpc/grpc-js ${label}`, () => {
    const stderr = captureStderr();
    let server: EchoServer | undefined;
    let client: EchoClient | undefined;
    let tracer: Tracer;
    let exporter: InMemoryExporter;

    async function setup(opts: { server?: GrpcTracingOptions | false; client?: GrpcClientTracingOptions | false; tracer?: TracerOptions; impl?: Parameters<typeof startEchoServer>[2] } = {}): Promise<EchoClient> {
      ({ tracer, exporter } = memoryTracer(opts.tracer));
      server = await startEchoServer(grpc, opts.server === false ? [] : [serverInterceptor({ tracer, ...opts.server })], opts.impl);
      client = echoClient(grpc, server.port, opts.client === false ? [] : [clientInterceptor({ tracer, ...opts.client })]);
      return client;
    }

    afterEach(async () => {
      client?.close();
      client = undefined;
      await server?.close();
      server = undefined;
      await tracer?.shutdown();
    });

    describe('a unary call', () => {
      it('makes a CLIENT span under the caller and a SERVER span under it, the handler running in the server span', async () => {
        const c = await setup();
        const { reply, caller } = await tracer.withSpan('caller', async (span) => ({ ...(await say(c, { text: 'hi' })), caller: span.spanContext() }));
        expect(reply!.text).toBe('hi');
        const spans = await spansWhen(exporter, kinds({ server: 1, client: 1, internal: 1 }));
        const cs = one(spans, 'client');
        const ss = one(spans, 'server');
        expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([caller.traceId]));
        expect(cs.parentSpanId).toBe(caller.spanId);
        expect(ss.parentSpanId).toBe(cs.spanId);
        // The handler saw the server span as the active one.
        expect([reply!.traceId, reply!.spanId]).toEqual([ss.traceId, ss.spanId]);
        expect(cs.name).toBe(`${SERVICE}/Say`);
        expect(ss.name).toBe(`${SERVICE}/Say`);
        expect(cs.attributes).toEqual(
          expect.objectContaining({
            'rpc.system.name': 'grpc',
            'rpc.method': `${SERVICE}/Say`,
            'rpc.status_code': 'OK',
            'server.address': '127.0.0.1',
            'server.port': server!.port,
            'network.peer.address': '127.0.0.1',
            'network.peer.port': server!.port,
            'tracewire.rpc.messages.sent': 1,
            'tracewire.rpc.messages.received': 1,
          }),
        );
        expect(ss.attributes).toEqual(
          expect.objectContaining({
            'rpc.system.name': 'grpc',
            'rpc.method': `${SERVICE}/Say`,
            'rpc.status_code': 'OK',
            'network.peer.address': '127.0.0.1',
            'tracewire.rpc.messages.sent': 1,
            'tracewire.rpc.messages.received': 1,
          }),
        );
        expect(typeof ss.attributes['network.peer.port']).toBe('number');
        expect(cs.status.code).toBe('unset');
        expect(ss.status.code).toBe('unset');
        expect(cs.attributes['error.type']).toBeUndefined();
        expect(ss.attributes['error.type']).toBeUndefined();
      });

      it('starts a new trace for a call made outside any span', async () => {
        const c = await setup();
        await say(c, { text: 'x' });
        const spans = await spansWhen(exporter, kinds({ server: 1, client: 1 }));
        const cs = one(spans, 'client');
        expect(cs.parentSpanId).toBeUndefined();
        expect(one(spans, 'server').parentSpanId).toBe(cs.spanId);
      });

      it('runs the callback in the caller context, not in the client span', async () => {
        const c = await setup();
        const seen = await tracer.withSpan('caller', (span) =>
          new Promise<[string, string | undefined]>((resolve) => {
            c.Say({ text: 'a' }, () => resolve([span.spanContext().spanId, tracer.activeSpan()?.spanContext().spanId]));
          }),
        );
        expect(seen[1]).toBe(seen[0]);
      });

      it("runs each call's callbacks and stream events in its own caller's context, not the one the connection was opened in", async () => {
        const c = await setup();
        // The first call opens the connection inside span "first"; grpc-js reads every later
        // response from that connection, in the context it was opened in.
        await tracer.withSpan('first', () => say(c, { text: 'open' }));
        const unary = await tracer.withSpan('second', (span) =>
          new Promise<[string, string | undefined]>((resolve) => {
            c.Say({ text: 'a' }, () => resolve([span.spanContext().spanId, tracer.activeSpan()?.spanContext().spanId]));
          }),
        );
        expect(unary[1]).toBe(unary[0]);
        const streamed = await tracer.withSpan('third', (span) =>
          new Promise<{ caller: string; seen: Array<string | undefined> }>((resolve) => {
            const seen: Array<string | undefined> = [];
            const call = c.Stream({ text: 's', count: 2 });
            const here = () => seen.push(tracer.activeSpan()?.spanContext().spanId);
            call.on('metadata', here);
            call.on('data', here);
            call.on('status', () => {
              here();
              resolve({ caller: span.spanContext().spanId, seen });
            });
          }),
        );
        expect(streamed.seen).toEqual([streamed.caller, streamed.caller, streamed.caller, streamed.caller]);
      });
    });

    describe('streaming calls', () => {
      it('server streaming: counts the messages each side sent and received', async () => {
        const c = await setup();
        const { replies, error } = await readStream(c.Stream({ text: 's', count: 3 }));
        expect(error).toBeUndefined();
        expect(replies.map((r: EchoReply) => r.text)).toEqual(['s#0', 's#1', 's#2']);
        const spans = await spansWhen(exporter, kinds({ server: 1, client: 1 }));
        const cs = one(spans, 'client');
        const ss = one(spans, 'server');
        expect(cs.name).toBe(`${SERVICE}/Stream`);
        expect([cs.attributes['tracewire.rpc.messages.sent'], cs.attributes['tracewire.rpc.messages.received']]).toEqual([1, 3]);
        expect([ss.attributes['tracewire.rpc.messages.sent'], ss.attributes['tracewire.rpc.messages.received']]).toEqual([3, 1]);
        expect(replies.every((r: EchoReply) => r.spanId === ss.spanId)).toBe(true);
        expect(ss.attributes['rpc.status_code']).toBe('OK');
      });

      it('client streaming: the handler reads every message in the server span', async () => {
        const c = await setup();
        const reply = await new Promise<EchoReply>((resolve, reject) => {
          const call = c.Collect((err: Error | null, r: EchoReply) => (err ? reject(err) : resolve(r)));
          for (const t of ['a', 'b', 'c', 'd']) call.write({ text: t });
          call.end();
        });
        expect(reply.text).toBe('a,b,c,d');
        const spans = await spansWhen(exporter, kinds({ server: 1, client: 1 }));
        const cs = one(spans, 'client');
        const ss = one(spans, 'server');
        expect(reply.spanId).toBe(ss.spanId);
        expect([cs.attributes['tracewire.rpc.messages.sent'], cs.attributes['tracewire.rpc.messages.received']]).toEqual([4, 1]);
        expect([ss.attributes['tracewire.rpc.messages.sent'], ss.attributes['tracewire.rpc.messages.received']]).toEqual([1, 4]);
        expect(ss.parentSpanId).toBe(cs.spanId);
      });

      it('bidi streaming: one span each side for the whole call', async () => {
        const c = await setup();
        const replies = await new Promise<EchoReply[]>((resolve, reject) => {
          const out: EchoReply[] = [];
          const call = c.Chat();
          call.on('data', (r: EchoReply) => out.push(r));
          call.on('error', reject);
          call.on('end', () => resolve(out));
          for (const t of ['x', 'y', 'z']) call.write({ text: t });
          call.end();
        });
        expect(replies.map((r) => r.text)).toEqual(['x', 'y', 'z']);
        const spans = await spansWhen(exporter, kinds({ server: 1, client: 1 }));
        const cs = one(spans, 'client');
        const ss = one(spans, 'server');
        expect(cs.name).toBe(`${SERVICE}/Chat`);
        expect(replies.every((r) => r.spanId === ss.spanId)).toBe(true);
        expect([cs.attributes['tracewire.rpc.messages.sent'], cs.attributes['tracewire.rpc.messages.received']]).toEqual([3, 3]);
        expect([ss.attributes['tracewire.rpc.messages.sent'], ss.attributes['tracewire.rpc.messages.received']]).toEqual([3, 3]);
        expect(ss.endTime).toBeGreaterThanOrEqual(ss.startTime);
      });
    });

    describe('errors', () => {
      it('a client error the server is not to blame for (NOT_FOUND): Error on the client, not on the server', async () => {
        const c = await setup();
        const { error } = await say(c, { failCode: grpc.status.NOT_FOUND });
        expect(error!.code).toBe(grpc.status.NOT_FOUND);
        const spans = await spansWhen(exporter, kinds({ server: 1, client: 1 }));
        const cs = one(spans, 'client');
        const ss = one(spans, 'server');
        expect(cs.attributes['rpc.status_code']).toBe('NOT_FOUND');
        expect(cs.attributes['error.type']).toBe('NOT_FOUND');
        expect(cs.status).toEqual({ code: 'error', message: 'failed on purpose with 5' });
        expect(ss.attributes['rpc.status_code']).toBe('NOT_FOUND');
        expect(ss.attributes['error.type']).toBeUndefined();
        expect(ss.status.code).toBe('unset');
      });

      it.each([
        ['UNKNOWN', 2],
        ['INTERNAL', 13],
        ['UNAVAILABLE', 14],
        ['DATA_LOSS', 15],
        ['UNIMPLEMENTED', 12],
      ])('a server failure (%s): Error on both sides', async (name, code) => {
        const c = await setup();
        const { error } = await say(c, { failCode: code });
        expect(error!.code).toBe(code);
        const spans = await spansWhen(exporter, kinds({ server: 1, client: 1 }));
        for (const s of [one(spans, 'client'), one(spans, 'server')]) {
          expect([s.kind, s.attributes['rpc.status_code'], s.attributes['error.type'], s.status.code]).toEqual([s.kind, name, name, 'error']);
        }
      });

      it('a handler that throws: UNKNOWN on both sides, the app unaffected', async () => {
        const c = await setup({
          impl: {
            Say() {
              throw new Error('boom');
            },
          },
        });
        const { error } = await say(c, { text: 'x' });
        expect(error!.code).toBe(grpc.status.UNKNOWN);
        const spans = await spansWhen(exporter, kinds({ server: 1, client: 1 }));
        expect(one(spans, 'server').attributes['error.type']).toBe('UNKNOWN');
        expect(one(spans, 'client').attributes['error.type']).toBe('UNKNOWN');
      });

      it('a streaming call that fails after some messages keeps its counts', async () => {
        const c = await setup();
        const { replies, error } = await readStream(c.Stream({ text: 'e', count: 2, failCode: grpc.status.INTERNAL }));
        expect(replies).toHaveLength(2);
        expect(error!.code).toBe(grpc.status.INTERNAL);
        const spans = await spansWhen(exporter, kinds({ server: 1, client: 1 }));
        const ss = one(spans, 'server');
        expect([ss.attributes['rpc.status_code'], ss.attributes['error.type'], ss.attributes['tracewire.rpc.messages.sent']]).toEqual(['INTERNAL', 'INTERNAL', 2]);
        expect(one(spans, 'client').attributes['tracewire.rpc.messages.received']).toBe(2);
      });

      it('a server that is not there: UNAVAILABLE on the client span', async () => {
        ({ tracer, exporter } = memoryTracer());
        const probe = await startEchoServer(grpc, []);
        const port = probe.port;
        await probe.close();
        client = echoClient(grpc, port, [clientInterceptor({ tracer })]);
        const { error } = await say(client, { text: 'x' }, undefined, { deadline: Date.now() + 3000 });
        expect(error).toBeDefined();
        const spans = await spansWhen(exporter, kinds({ client: 1 }));
        const cs = one(spans, 'client');
        expect(cs.attributes['rpc.status_code']).toBe(grpc.status[error!.code]);
        expect(cs.attributes['error.type']).toBe(grpc.status[error!.code]);
        expect(cs.status.code).toBe('error');
      });
    });

    describe('deadlines and cancellation', () => {
      it('a deadline that passes: DEADLINE_EXCEEDED on both spans', async () => {
        const c = await setup();
        // Connected first, so the deadline is spent on the call, not on the connection (a loaded
        // machine could otherwise pass it before the server sees the call).
        await new Promise<void>((resolve, reject) => c.waitForReady(Date.now() + 5000, (err?: Error) => (err ? reject(err) : resolve())));
        const { error } = await say(c, { text: 'slow', delayMs: 1500 }, undefined, { deadline: Date.now() + 250 });
        expect(error!.code).toBe(grpc.status.DEADLINE_EXCEEDED);
        const spans = await spansWhen(exporter, kinds({ server: 1, client: 1 }));
        for (const s of [one(spans, 'client'), one(spans, 'server')]) {
          expect([s.kind, s.attributes['rpc.status_code'], s.attributes['error.type'], s.status.code]).toEqual([s.kind, 'DEADLINE_EXCEEDED', 'DEADLINE_EXCEEDED', 'error']);
        }
        // The server span ended when the deadline did, not when the handler finished later.
        const ss = one(spans, 'server');
        expect(ss.endTime - ss.startTime).toBeLessThan(1200);
      });

      it('a client that cancels mid-stream: CANCELLED on the client, the server span marked cancelled with error.type', async () => {
        const c = await setup();
        const call = c.Stream({ text: 'c', count: 50, delayMs: 20 });
        const got: EchoReply[] = [];
        const status = await new Promise<{ code: number }>((resolve) => {
          call.on('data', (r: EchoReply) => {
            got.push(r);
            if (got.length === 2) call.cancel();
          });
          call.on('error', () => undefined);
          call.on('status', resolve);
        });
        expect(status.code).toBe(grpc.status.CANCELLED);
        const spans = await spansWhen(exporter, kinds({ server: 1, client: 1 }));
        const cs = one(spans, 'client');
        const ss = one(spans, 'server');
        expect([cs.attributes['rpc.status_code'], cs.attributes['error.type'], cs.status.code]).toEqual(['CANCELLED', 'CANCELLED', 'error']);
        expect([ss.attributes['rpc.status_code'], ss.attributes['error.type'], ss.status.code]).toEqual(['CANCELLED', 'CANCELLED', 'error']);
        expect(ss.status.message).toMatch(/cancelled/);
        expect(ss.attributes['tracewire.rpc.messages.sent']).toBeLessThan(50);
        expect(cs.attributes['tracewire.rpc.messages.received']).toBe(2);
        expect(ss.ended).toBe(true);
      });
    });

    it('200 concurrent calls sharing one Metadata: each server span under its own client span, under its own caller', async () => {
      const c = await setup();
      const grpcMd = new grpc.Metadata();
      grpcMd.set('x-shared', 'yes');
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          tracer.withSpan(`caller ${i}`, async (span) => {
            const { reply, error } = await say(c, { text: String(i), delayMs: i % 7 }, grpcMd);
            return { i, reply, error, caller: span.spanContext() };
          }),
        ),
      );
      const spans = await spansWhen(exporter, kinds({ server: 200, client: 200, internal: 200 }), 15000);
      const byId = new Map(spans.map((s) => [s.spanId, s]));
      for (const { i, reply, error, caller } of results) {
        expect(error).toBeUndefined();
        expect(reply!.text).toBe(String(i));
        const ss = byId.get(reply!.spanId)!;
        expect(ss.kind).toBe('server');
        const cs = byId.get(ss.parentSpanId!)!;
        expect([cs.kind, cs.parentSpanId, cs.traceId, ss.traceId]).toEqual(['client', caller.spanId, caller.traceId, caller.traceId]);
        expect(byId.get(caller.spanId)!.name).toBe(`caller ${i}`);
      }
      // The application's Metadata was left as it was.
      expect(grpcMd.getMap()).toEqual({ 'x-shared': 'yes' });
      expect(new Set(results.map((r) => r.caller.traceId)).size).toBe(200);
    }, 30_000);

    describe('propagation', () => {
      it('continues a traceparent and tracestate sent by an uninstrumented client', async () => {
        const c = await setup({ client: false });
        const md = new grpc.Metadata();
        md.set('traceparent', TRACEPARENT);
        md.set('tracestate', 'vendor=abc');
        const { reply } = await say(c, { text: 'x' }, md);
        const spans = await spansWhen(exporter, kinds({ server: 1 }));
        const ss = one(spans, 'server');
        expect([ss.traceId, ss.parentSpanId, ss.traceState]).toEqual(['4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7', 'vendor=abc']);
        expect(reply!.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      });

      it.each([
        ['garbage', 'not-a-traceparent'],
        ['an all-zero trace id', '00-00000000000000000000000000000000-00f067aa0ba902b7-01'],
        ['a bad version', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
      ])('starts a fresh trace for %s, the call unaffected', async (_what, value) => {
        const c = await setup({ client: false });
        const md = new grpc.Metadata();
        md.set('traceparent', value);
        const { reply, error } = await say(c, { text: 'ok' }, md);
        expect(error).toBeUndefined();
        expect(reply!.text).toBe('ok');
        const ss = one(await spansWhen(exporter, kinds({ server: 1 })), 'server');
        expect(ss.parentSpanId).toBeUndefined();
        expect(ss.traceId).not.toBe('4bf92f3577b34da6a3ce929d0e0e4736');
        expect(ss.traceId).toMatch(/^[0-9a-f]{32}$/);
      });

      it('sends the active baggage on, and the handler reads it', async () => {
        let seen: string | undefined;
        const c = await setup({
          impl: {
            Say(_call: unknown, cb: (e: null, r: unknown) => void) {
              seen = getBaggage().get('tenant')?.value;
              cb(null, { text: 'b' });
            },
          },
        });
        await withBaggage({ tenant: 'acme' }, () => say(c, { text: 'x' }));
        expect(seen).toBe('acme');
      });

      it('an untrusted caller gets a new trace linked to its context', async () => {
        const c = await setup({ client: false, tracer: { trustIncoming: false } });
        const md = new grpc.Metadata();
        md.set('traceparent', TRACEPARENT);
        await say(c, { text: 'x' }, md);
        const ss = one(await spansWhen(exporter, kinds({ server: 1 })), 'server');
        expect(ss.traceId).not.toBe('4bf92f3577b34da6a3ce929d0e0e4736');
        expect(ss.parentSpanId).toBeUndefined();
        expect(ss.links).toEqual([{ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', attributes: { 'tracewire.link.reason': 'untrusted_parent' } }]);
      });

      it('leaves a traceparent the application set itself as it is', async () => {
        const c = await setup();
        const md = new grpc.Metadata();
        md.set('traceparent', TRACEPARENT);
        await say(c, { text: 'x' }, md);
        const spans = await spansWhen(exporter, kinds({ server: 1, client: 1 }));
        expect(one(spans, 'server').parentSpanId).toBe('00f067aa0ba902b7');
      });

      it('an unsampled caller: nothing recorded on either side, the decision carried to the server', async () => {
        const c = await setup({ tracer: { sampler: 0 } });
        const { reply } = await say(c, { text: 'x' });
        expect(reply!.traceId).toMatch(/^[0-9a-f]{32}$/);
        await tracer.forceFlush();
        await new Promise((r) => setTimeout(r, 50));
        expect(exporter.spans()).toEqual([]);
      });

      it('calls made with tracing suppressed carry no context and are not traced', async () => {
        const c = await setup();
        const { reply } = await suppressTracing(() => say(c, { text: 'x' }));
        expect(reply!.text).toBe('x');
        const spans = await spansWhen(exporter, kinds({ server: 1 }));
        expect(one(spans, 'server').parentSpanId).toBeUndefined();
      });
    });

    describe('options', () => {
      it('ignore: no span for the listed methods, their context still carried through the client', async () => {
        const c = await setup({ client: { ignore: [`${SERVICE}/Say`] }, server: { ignore: [`/${SERVICE}/Stream`] } });
        await tracer.withSpan('caller', () => say(c, { text: 'x' }));
        await readStream(c.Stream({ text: 's', count: 1 }));
        const spans = await spansWhen(exporter, kinds({ server: 1, client: 1, internal: 1 }));
        const ss = one(spans, 'server');
        expect(ss.name).toBe(`${SERVICE}/Say`);
        // Say's client span was ignored: the server continued the caller's span.
        expect(ss.parentSpanId).toBe(one(spans, 'internal').spanId);
        expect(one(spans, 'client').name).toBe(`${SERVICE}/Stream`);
      });

      it('ignore as a predicate sees the method and the metadata', async () => {
        const seen: string[] = [];
        const c = await setup({
          server: {
            ignore: (info) => {
              seen.push(`${info.method} ${info.type} ${info.metadata.get('x-probe')[0] ?? ''}`);
              return info.metadata.get('x-probe').length > 0;
            },
          },
          client: false,
        });
        const md = new grpc.Metadata();
        md.set('x-probe', '1');
        await say(c, { text: 'x' }, md);
        await say(c, { text: 'y' });
        const spans = await spansWhen(exporter, kinds({ server: 1 }));
        expect(spans).toHaveLength(1);
        expect(seen).toEqual([`${SERVICE}/Say unary 1`, `${SERVICE}/Say unary `]);
      });

      it('spanName names the spans; a throwing one falls back to the method', async () => {
        const c = await setup({
          client: { spanName: (i) => `call ${i.method.split('/')[1]} (${i.type})` },
          server: {
            spanName: () => {
              throw new Error('bad hook');
            },
          },
        });
        await say(c, { text: 'x' });
        const spans = await spansWhen(exporter, kinds({ server: 1, client: 1 }));
        expect(one(spans, 'client').name).toBe('call Say (unary)');
        expect(one(spans, 'server').name).toBe(`${SERVICE}/Say`);
        expect(stderr.lines().join('')).toMatch(/spanName hook threw \(bad hook\)/);
      });

      it('captureMetadata records the listed keys, never credentials', async () => {
        const c = await setup({
          client: { captureMetadata: ['x-request-id', 'authorization', 'x-api-key'] },
          server: { captureMetadata: { request: ['x-request-id', 'authorization', 'cookie'], response: ['x-served-by'] } },
          impl: {
            Say(call: { sendMetadata(md: unknown): void }, cb: (e: null, r: unknown) => void) {
              const md = new grpc.Metadata();
              md.set('x-served-by', 'echo-1');
              call.sendMetadata(md);
              cb(null, { text: 'm' });
            },
          },
        });
        const md = new grpc.Metadata();
        md.set('x-request-id', 'req-7');
        md.add('x-request-id', 'req-8');
        md.set('authorization', 'Bearer secret-token');
        md.set('x-api-key', 'sk-secret');
        md.set('cookie', 'session=secret');
        await say(c, { text: 'x' }, md);
        const spans = await spansWhen(exporter, kinds({ server: 1, client: 1 }));
        const cs = one(spans, 'client');
        const ss = one(spans, 'server');
        expect(cs.attributes['rpc.request.metadata.x-request-id']).toEqual(['req-7', 'req-8']);
        // HTTP/2 hands a repeated key to the server as one comma-joined value.
        expect(ss.attributes['rpc.request.metadata.x-request-id']).toEqual(['req-7, req-8']);
        expect(ss.attributes['rpc.response.metadata.x-served-by']).toEqual(['echo-1']);
        expect(JSON.stringify(spans)).not.toMatch(/secret/);
        expect(stderr.lines().join('')).toMatch(/captureMetadata lists "authorization", which is never recorded/);
      });

      it('onRequest and onResponse see the span, the call and its status; a throwing hook changes nothing', async () => {
        const events: string[] = [];
        const c = await setup({
          server: {
            onRequest: (span, info) => {
              span.setAttribute('app.tenant', String(info.metadata.get('x-tenant')[0]));
              events.push(`server request ${info.method}`);
            },
            onResponse: (span, info) => {
              events.push(`server response ${info.status.name}`);
              span.setAttribute('app.done', true);
            },
          },
          client: {
            onRequest: () => {
              throw new Error('hook failed');
            },
            onResponse: (_span, info) => events.push(`client response ${info.status.name} ${info.status.code}`),
          },
        });
        const md = new grpc.Metadata();
        md.set('x-tenant', 'acme');
        const { reply } = await say(c, { text: 'h' }, md);
        expect(reply!.text).toBe('h');
        const spans = await spansWhen(exporter, kinds({ server: 1, client: 1 }));
        const ss = one(spans, 'server');
        expect([ss.attributes['app.tenant'], ss.attributes['app.done']]).toEqual(['acme', true]);
        expect(events).toEqual([`server request ${SERVICE}/Say`, 'server response OK', 'client response OK 0']);
        expect(stderr.lines().join('')).toMatch(/onRequest hook of the gRPC client interceptor threw \(hook failed\)/);
      });

      it.each([
        [{ tracer: {} }, /option "tracer"/],
        [{ ignore: 'x' }, /option "ignore"/],
        [{ ignore: [1] }, /option "ignore\[0\]"/],
        [{ spanName: 'x' }, /option "spanName"/],
        [{ onRequest: 1 }, /option "onRequest"/],
        [{ captureMetadata: 'x-id' }, /option "captureMetadata"/],
        [{ captureMetadata: { requests: [] } }, /option "captureMetadata.requests"/],
        [{ captureMetadata: [''] }, /option "captureMetadata"/],
        [{ servce: 1 }, /unknown option "servce"/],
      ])('bad options throw a TypeError naming them at setup: %j', (opts, message) => {
        expect(() => serverInterceptor(opts as GrpcTracingOptions)).toThrow(TypeError);
        expect(() => serverInterceptor(opts as GrpcTracingOptions)).toThrow(message);
        expect(() => clientInterceptor(opts as GrpcClientTracingOptions)).toThrow(message);
      });

      it('target is a client option only, and must be a string', () => {
        expect(() => serverInterceptor({ target: 'x:1' } as GrpcTracingOptions)).toThrow(/unknown option "target"/);
        expect(() => clientInterceptor({ target: 5 } as unknown as GrpcClientTracingOptions)).toThrow(/option "target"/);
      });

      it('target sets server.address and server.port as the conventions parse it', async () => {
        const c = await setup({ client: { target: 'dns:///echo.internal:50051' } });
        await say(c, { text: 'x' });
        const cs = one(await spansWhen(exporter, kinds({ server: 1, client: 1 })), 'client');
        expect([cs.attributes['server.address'], cs.attributes['server.port']]).toEqual(['echo.internal', 50051]);
      });

      it('without target, server.address comes from the channel target the client was made with', async () => {
        ({ tracer, exporter } = memoryTracer());
        server = await startEchoServer(grpc, [serverInterceptor({ tracer })]);
        client = echoClient(grpc, server.port, [clientInterceptor({ tracer })], `localhost:${server.port}`);
        await say(client, { text: 'x' });
        const spans = await spansWhen(exporter, kinds({ server: 1, client: 1 }));
        const cs = one(spans, 'client');
        expect([cs.attributes['server.address'], cs.attributes['server.port']]).toEqual(['localhost', server.port]);
        expect(typeof cs.attributes['network.peer.address']).toBe('string');
      });
    });

    describe('never throws into the application', () => {
      it('a tracer that throws: calls go on untraced, with one warning', async () => {
        ({ tracer, exporter } = memoryTracer());
        const broke = () => {
          throw new Error('tracer broke');
        };
        const bad: Tracer = { ...tracer, startSpan: broke, startIncomingSpan: broke, withSpan: broke, activeSpan: () => undefined, config: tracer.config, stats: () => tracer.stats(), forceFlush: () => tracer.forceFlush(), shutdown: () => tracer.shutdown() };
        server = await startEchoServer(grpc, [serverInterceptor({ tracer: bad })]);
        client = echoClient(grpc, server.port, [clientInterceptor({ tracer: bad })]);
        const { reply, error } = await say(client, { text: 'still works' });
        expect(error).toBeUndefined();
        expect(reply!.text).toBe('still works');
        const { replies } = await readStream(client.Stream({ text: 's', count: 2 }));
        expect(replies).toHaveLength(2);
        const out = stderr.lines().join('');
        expect(out).toMatch(/internal error in the gRPC client interceptor/);
        expect(out).toMatch(/internal error in the grpc adapter; the request proceeds untraced/);
      });
    });
  });
}
