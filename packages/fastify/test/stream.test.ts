import zlib from 'node:zlib';
import { Readable } from 'node:stream';
import { tracingPlugin } from '../src';
import { memoryTracer } from '../../core/test/helpers';
import { request } from '../../../test-utils/http';
import { current, paced, replayEveryFixture } from '../../../test-utils/replay';
import { loadFixtures } from '../../../test-utils/fixtures';

jest.setTimeout(60000);

const versions: Array<[string, any]> = [
  ['fastify 4', require('fastify4')],
  ['fastify 5', require('fastify')],
];

async function relayApp(Fastify: any, tracer: any, withCompression = false) {
  const app = Fastify();
  await app.register(tracingPlugin, { tracer });
  // @fastify/compress leaves SSE alone unless told (compressing SSE delays events); a proxy may not.
  if (withCompression) await app.register(require('@fastify/compress'), { threshold: 0, customTypes: /^text\/event-stream/ });
  // reply.send(stream): the app relays a provider stream
  app.get('/relay/send', (_req: any, reply: any) => {
    const { fixture, chunks } = current.job!;
    reply.type(fixture.contentType).send(Readable.from(paced(chunks)));
  });
  // reply.raw.write: the app writes the raw response itself
  app.get('/relay/raw', async (_req: any, reply: any) => {
    const { fixture, chunks } = current.job!;
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': fixture.contentType });
    for await (const c of paced(chunks)) reply.raw.write(c);
    reply.raw.end();
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url: `http://127.0.0.1:${app.server.address().port}` };
}

describe.each(versions)('stream tap (%s)', (_label, Fastify) => {
  it.each(['send', 'raw'])('reconstructs every recorded stream relayed via reply.%s, in every re-chunking', async (mode) => {
    const { tracer, exporter } = memoryTracer({ captureContent: true });
    const { app, url } = await relayApp(Fastify, tracer);
    try {
      const n = await replayEveryFixture(`${url}/relay/${mode}`, exporter);
      expect(n).toBe(loadFixtures().length * 6);
    } finally {
      await app.close();
      await tracer.shutdown();
    }
  });
});

describe('stream tap with @fastify/compress (fastify 5)', () => {
  it('sees the uncompressed events while the client gets gzip', async () => {
    const { tracer, exporter } = memoryTracer({ captureContent: true });
    const { app, url } = await relayApp(require('fastify'), tracer, true);
    try {
      const n = await replayEveryFixture(`${url}/relay/send`, exporter, {
        headers: { 'accept-encoding': 'gzip' },
        decode: (raw) => zlib.gunzipSync(raw),
      });
      expect(n).toBe(loadFixtures().length * 6);
      const res = await request(`${url}/relay/send`, { headers: { 'accept-encoding': 'gzip' } });
      expect(res.headers['content-encoding']).toBe('gzip');
    } finally {
      await app.close();
      await tracer.shutdown();
    }
  });
});
