import zlib from 'node:zlib';
import { Readable } from 'node:stream';
import { tracingPlugin } from '../src';
import { memoryTracer } from '../../core/test/helpers';
import { request } from '../../../test-utils/http';
import { current, expectEveryFixtureReplayed, paced, withRelay } from '../../../test-utils/replay';
import type { Relay } from '../../../test-utils/replay';

jest.setTimeout(60000);

const versions: Array<[string, any]> = [
  ['fastify 4', require('fastify4')],
  ['fastify 5', require('fastify')],
];

/** A traced app relaying `current.job`, on a real socket; close() also shuts its tracer down. */
async function serveRelay(Fastify: any, withCompression = false): Promise<Relay> {
  const { tracer, exporter } = memoryTracer({ captureContent: true });
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
  return {
    url: `http://127.0.0.1:${app.server.address().port}`,
    exporter,
    async close() {
      await app.close();
      await tracer.shutdown();
    },
  };
}

describe.each(versions)('stream tap (%s)', (_label, Fastify) => {
  it.each(['send', 'raw'])('reconstructs every recorded stream relayed via reply.%s, in every re-chunking', (mode) =>
    withRelay(serveRelay(Fastify), (relay) => expectEveryFixtureReplayed(`${relay.url}/relay/${mode}`, relay.exporter)));
});

describe('stream tap with @fastify/compress (fastify 5)', () => {
  it('sees the uncompressed events while the client gets gzip', () =>
    withRelay(serveRelay(require('fastify'), true), async (relay) => {
      await expectEveryFixtureReplayed(`${relay.url}/relay/send`, relay.exporter, { headers: { 'accept-encoding': 'gzip' }, decode: (raw) => zlib.gunzipSync(raw) });
      const res = await request(`${relay.url}/relay/send`, { headers: { 'accept-encoding': 'gzip' } });
      expect(res.headers['content-encoding']).toBe('gzip');
    }));
});
