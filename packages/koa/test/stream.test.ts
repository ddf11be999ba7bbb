import http from 'node:http';
import zlib from 'node:zlib';
import { Readable } from 'node:stream';
import compress from 'koa-compress';
import { tracingMiddleware } from '../src';
import { memoryTracer } from '../../core/test/helpers';
import { listen, request } from '../../../test-utils/http';
import { current, paced, replayEveryFixture } from '../../../test-utils/replay';
import { loadFixtures } from '../../../test-utils/fixtures';

jest.setTimeout(60000);

const versions: Array<[string, any]> = [
  ['koa 2', require('koa2')],
  ['koa 3', require('koa')],
];

function relayApp(Koa: any, tracer: any, withCompression = false) {
  const app = new Koa();
  app.use(tracingMiddleware({ tracer }));
  if (withCompression) app.use(compress({ threshold: 0 }));
  app.use((ctx: any) => {
    const { fixture, chunks } = current.job!;
    ctx.type = fixture.contentType;
    if (ctx.path === '/relay/body') {
      ctx.body = Readable.from(paced(chunks)); // the app relays a provider stream as ctx.body
    } else {
      // ...or writes to the raw response itself
      ctx.respond = false;
      ctx.res.setHeader('content-type', fixture.contentType);
      (async () => {
        for await (const c of paced(chunks)) ctx.res.write(c);
        ctx.res.end();
      })();
    }
  });
  return app;
}

describe.each(versions)('stream tap (%s)', (_label, Koa) => {
  it.each(['body', 'raw'])('reconstructs every recorded stream relayed via ctx.%s, in every re-chunking', async (mode) => {
    const { tracer, exporter } = memoryTracer({ captureContent: true });
    const server = await listen(http.createServer(relayApp(Koa, tracer).callback()));
    try {
      const n = await replayEveryFixture(`${server.url}/relay/${mode}`, exporter);
      expect(n).toBe(loadFixtures().length * 6);
    } finally {
      await server.close();
      await tracer.shutdown();
    }
  });
});

describe('stream tap with koa-compress (koa 3)', () => {
  it('sees the uncompressed events while the client gets gzip', async () => {
    const Koa = require('koa');
    const { tracer, exporter } = memoryTracer({ captureContent: true });
    const server = await listen(http.createServer(relayApp(Koa, tracer, true).callback()));
    try {
      const n = await replayEveryFixture(`${server.url}/relay/body`, exporter, {
        headers: { 'accept-encoding': 'gzip' },
        decode: (raw) => zlib.gunzipSync(raw),
      });
      expect(n).toBe(loadFixtures().length * 6);
      const res = await request(`${server.url}/relay/body`, { headers: { 'accept-encoding': 'gzip' } });
      expect(res.headers['content-encoding']).toBe('gzip');
    } finally {
      await server.close();
      await tracer.shutdown();
    }
  });
});
