import http from 'node:http';
import zlib from 'node:zlib';
import { Readable } from 'node:stream';
import compression from 'compression';
import { tracingMiddleware } from '../src';
import { memoryTracer } from '../../core/test/helpers';
import { listen, request, requestAndAbort } from '../../../test-utils/http';
import { current, paced, replayEveryFixture } from '../../../test-utils/replay';
import { loadFixtures } from '../../../test-utils/fixtures';

jest.setTimeout(60000);

const versions: Array<[string, any]> = [
  ['express 4', require('express4')],
  ['express 5', require('express')],
];

function relayApp(express: any, tracer: any, withCompression = false) {
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
  return app;
}

describe.each(versions)('stream tap (%s)', (_label, express) => {
  it.each(['write', 'pipe'])('reconstructs every recorded stream relayed with res.%s, in every re-chunking', async (mode) => {
    const { tracer, exporter } = memoryTracer({ captureContent: true });
    const server = await listen(http.createServer(relayApp(express, tracer)));
    try {
      const n = await replayEveryFixture(`${server.url}/relay/${mode}`, exporter);
      expect(n).toBe(loadFixtures().length * 6);
    } finally {
      await server.close();
      await tracer.shutdown();
    }
  });
});

describe('stream tap with compression (express 5)', () => {
  it('sees the uncompressed events while the client gets gzip', async () => {
    const express = require('express');
    const { tracer, exporter } = memoryTracer({ captureContent: true });
    const server = await listen(http.createServer(relayApp(express, tracer, true)));
    try {
      const [fixture] = loadFixtures();
      current.job = { fixture, chunks: [fixture.bytes.subarray(0, 1000), fixture.bytes.subarray(1000)] };
      const res = await request(`${server.url}/relay/write`, { headers: { 'accept-encoding': 'gzip' } });
      expect(res.headers['content-encoding']).toBe('gzip');
      expect(zlib.gunzipSync(res.raw).equals(fixture.bytes)).toBe(true);
      const [trace] = await exporter.waitFor(1);
      expect(trace.spans[0].attributes['gen_ai.response.id']).toBe(fixture.expected.id);
      expect(trace.spans[0].attributes['gen_ai.usage.output_tokens']).toBe(fixture.expected.usage.output);
      // every recorded stream, in every chunking, through compression
      const n = await replayEveryFixture(`${server.url}/relay/pipe`, exporter, { headers: { 'accept-encoding': 'gzip' }, decode: (raw) => zlib.gunzipSync(raw) });
      expect(n).toBeGreaterThan(0);
    } finally {
      await server.close();
      await tracer.shutdown();
    }
  });
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
      expect(a['gen_ai.usage.output_tokens']).toBeUndefined(); // usage comes last: not known, so absent
      expect(trace.spans[0].status.code).toBe('error');
    } finally {
      await server.close();
      await tracer.shutdown();
    }
  });
});
