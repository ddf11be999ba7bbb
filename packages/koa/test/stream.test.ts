import http from 'node:http';
import zlib from 'node:zlib';
import { Readable } from 'node:stream';
import compress from 'koa-compress';
import { tracingMiddleware } from '../src';
import { memoryTracer } from '../../core/test/helpers';
import { listenTraced, request } from '../../../test-utils/http';
import { current, expectEveryFixtureReplayed, paced, withRelay } from '../../../test-utils/replay';
import type { Relay } from '../../../test-utils/replay';

jest.setTimeout(60000);

const versions: Array<[string, any]> = [
  ['koa 2', require('koa2')],
  ['koa 3', require('koa')],
];

/** A traced app relaying `current.job`, on a real socket; close() also shuts its tracer down. */
async function serveRelay(Koa: any, withCompression = false): Promise<Relay> {
  const { tracer, exporter } = memoryTracer({ captureContent: true });
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
  return { ...(await listenTraced(http.createServer(app.callback()), tracer)), exporter };
}

describe.each(versions)('stream tap (%s)', (_label, Koa) => {
  it.each(['body', 'raw'])('reconstructs every recorded stream relayed via ctx.%s, in every re-chunking', (mode) =>
    withRelay(serveRelay(Koa), (relay) => expectEveryFixtureReplayed(`${relay.url}/relay/${mode}`, relay.exporter)));
});

describe('stream tap with koa-compress (koa 3)', () => {
  it('sees the uncompressed events while the client gets gzip', () =>
    withRelay(serveRelay(require('koa'), true), async (relay) => {
      await expectEveryFixtureReplayed(`${relay.url}/relay/body`, relay.exporter, { headers: { 'accept-encoding': 'gzip' }, decode: (raw) => zlib.gunzipSync(raw) });
      const res = await request(`${relay.url}/relay/body`, { headers: { 'accept-encoding': 'gzip' } });
      expect(res.headers['content-encoding']).toBe('gzip');
    }));
});
