import http from 'node:http';
import zlib from 'node:zlib';
import { Readable } from 'node:stream';
import compression from 'compression';
import { tracingMiddleware } from '../src';
import { memoryTracer } from '../../core/test/helpers';
import { listen, listenTraced, request, requestAndAbort } from '../../../test-utils/http';
import { current, expectEveryFixtureReplayed, paced, withRelay } from '../../../test-utils/replay';
import type { Relay } from '../../../test-utils/replay';
import { loadFixtures } from '../../../test-utils/fixtures';

jest.setTimeout(60000);

const versions: Array<[string, any]> = [
  ['express 4', require('express4')],
  ['express 5', require('express')],
];

/** A traced app relaying `current.job`, on a real socket; close() also shuts its tracer down. */
async function serveRelay(express: any, withCompression = false): Promise<Relay> {
  const { tracer, exporter } = memoryTracer({ captureContent: true });
  const app = express();
  app.use(tracingMiddleware({ tracer }));
  if (withCompression) app.use(compression({ threshold: 0 }));
  // The app relays a provider's stream with res.write, chunk by chunk...
  app.get('/relay/write', async (_req: any, res: any) => {
    const { fixture, chunks } = current.job!;
    res.setHeader('content-type', fixture.contentType);
    for await (const c of paced(chunks)) res.write(c);
    res.end();
  });
  // ...or pipes it.
  app.get('/relay/pipe', (_req: any, res: any) => {
    const { fixture, chunks } = current.job!;
    res.setHeader('content-type', fixture.contentType);
    Readable.from(paced(chunks)).pipe(res);
  });
  return { ...(await listenTraced(http.createServer(app), tracer)), exporter };
}

describe.each(versions)('stream tap (%s)', (_label, express) => {
  it.each(['write', 'pipe'])('reconstructs every recorded stream relayed with res.%s, in every re-chunking', (mode) =>
    withRelay(serveRelay(express), (relay) => expectEveryFixtureReplayed(`${relay.url}/relay/${mode}`, relay.exporter)));
});

describe('stream tap with compression (express 5)', () => {
  it('sees the uncompressed events while the client gets gzip', () =>
    withRelay(serveRelay(require('express'), true), async (relay) => {
      const [fixture] = loadFixtures();
      current.job = { fixture, chunks: [fixture.bytes.subarray(0, 1000), fixture.bytes.subarray(1000)] };
      const res = await request(`${relay.url}/relay/write`, { headers: { 'accept-encoding': 'gzip' } });
      expect(res.headers['content-encoding']).toBe('gzip');
      expect(zlib.gunzipSync(res.raw).equals(fixture.bytes)).toBe(true);
      const [trace] = await relay.exporter.waitFor(1);
      expect(trace.spans[0].attributes['gen_ai.response.id']).toBe(fixture.expected.id);
      expect(trace.spans[0].attributes['gen_ai.usage.output_tokens']).toBe(fixture.expected.usage.output);
      // every recorded stream, in every chunking, through compression
      await expectEveryFixtureReplayed(`${relay.url}/relay/pipe`, relay.exporter, { headers: { 'accept-encoding': 'gzip' }, decode: (raw) => zlib.gunzipSync(raw) });
    }));
});

describe('stream tap on a client abort (express 5)', () => {
  it('keeps the partial output and marks the span when the client goes away mid-stream', async () => {
    const express = require('express');
    const { tracer, exporter } = memoryTracer({ captureContent: true });
    const fixture = loadFixtures().find((f) => f.name === 'openai-chat-text-usage')!;
    const app = express();
    app.use(tracingMiddleware({ tracer }));
    app.get('/slow', (_req: any, res: any) => {
      res.setHeader('content-type', 'text/event-stream');
      const half = fixture.bytes.indexOf('\n\n', 2000) + 2;
      res.write(fixture.bytes.subarray(0, half)); // the first events, then the provider stalls
      const t = setTimeout(() => res.end(fixture.bytes.subarray(half)), 5000);
      res.on('close', () => clearTimeout(t));
    });
    const server = await listen(http.createServer(app));
    try {
      await requestAndAbort(`${server.url}/slow`, 100);
      const [trace] = await exporter.waitFor(1);
      const a = trace.spans[0].attributes;
      expect(a['tracewire.stream.aborted']).toBe(true);
      expect(a['error.type']).toBe('client_aborted');
      expect(a['gen_ai.response.id']).toBe(fixture.expected.id);
      const out = JSON.parse(String(a['gen_ai.output.messages']));
      const text: string = out[0].parts[0].content;
      expect(text.length).toBeGreaterThan(0);
      expect(fixture.expected.choices[0].text!.startsWith(text)).toBe(true);
      // Usage comes last, so the provider never said: the output is estimated from the content
      // chunks that went out (one token each for OpenAI), marked as an estimate and not priced.
      expect(a['gen_ai.usage.output_tokens']).toBe(a['tracewire.llm.chunks']);
      expect(a['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
      expect(a['tracewire.usage.estimated']).toBe(true);
      expect(a['gen_ai.usage.input_tokens']).toBeUndefined();
      expect(a['tracewire.usage.cost']).toBeUndefined();
      expect(trace.spans[0].status.code).toBe('error');
    } finally {
      await server.close();
      await tracer.shutdown();
    }
  });
});
