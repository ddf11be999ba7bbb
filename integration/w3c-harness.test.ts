/**
 * The contract of the W3C Trace Context test harness (https://github.com/w3c/trace-context/tree/main/test):
 * the harness POSTs `[{ url, arguments }]` to a service, with hand-written trace headers; the
 * service calls each `url` (here with tracedFetch) and the harness checks the headers it receives.
 * The cases below are those of the harness's test.py, STRICT_LEVEL 2, run in process: the request
 * goes over a raw socket so that duplicated and oddly cased headers arrive exactly as written.
 */
import http from 'node:http';
import net from 'node:net';
import { getTracer, parseTraceparent, setGlobalTracer } from '@tracewire/core';
import type { Tracer } from '@tracewire/core';
import { tracingMiddleware } from '@tracewire/express';
import { tracedFetch } from '@tracewire/core';
import { memoryTracer } from '../packages/core/test/helpers';
import { listen } from '../test-utils/http';
import type { Listening } from '../test-utils/http';
import { express } from './frameworks';

type HeaderLines = Array<[string, string]>;

const TID = '12345678901234567890123456789012';
const PID = '1234567890123456';

let previous: Tracer;
let tracer: Tracer;
let service: Listening;
let harness: Listening;
/** Callbacks the harness received, by path, as raw header lists. */
const callbacks = new Map<string, string[]>();
let nextScope = 0;

beforeAll(async () => {
  previous = getTracer();
  ({ tracer } = memoryTracer());
  setGlobalTracer(tracer);

  harness = await listen(
    http.createServer((req, res) => {
      callbacks.set(req.url!, req.rawHeaders);
      req.resume();
      req.on('end', () => res.end('{}'));
    }),
  );

  const app = express();
  app.use(tracingMiddleware());
  app.use(express.json());
  app.post('/test', async (req: any, res: any) => {
    for (const item of req.body as Array<{ url: string; arguments: unknown }>) {
      const r = await tracedFetch(item.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(item.arguments),
      });
      await r.text();
    }
    res.json({ ok: true });
  });
  service = await listen(http.createServer(app));
});

afterAll(async () => {
  await service.close();
  await harness.close();
  await tracer.shutdown();
  setGlobalTracer(previous);
});

/** Sends one request with exactly these header lines and returns the raw response head. */
function rawPost(url: string, lines: HeaderLines, body: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(u.port), u.hostname);
    let got = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (got += d));
    socket.on('end', () => resolve(got));
    socket.on('error', reject);
    const head = [
      `POST ${u.pathname} HTTP/1.1`,
      `Host: ${u.host}`,
      'Content-Type: application/json',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Connection: close',
      ...lines.map(([k, v]) => `${k}: ${v}`),
    ];
    socket.write(head.join('\r\n') + '\r\n\r\n' + body);
  });
}

interface Callback {
  traceparent: string[];
  tracestate: Map<string, string>;
  tracestateRaw: string;
}

/** Makes the service call the harness `count` times; returns what each callback carried. */
async function makeRequest(lines: HeaderLines, count = 1): Promise<Callback[]> {
  const scope = nextScope++;
  const args = Array.from({ length: count }, (_, i) => ({ url: `${harness.url}/${scope}/${i}`, arguments: [] }));
  const response = await rawPost(`${service.url}/test`, lines, JSON.stringify(args));
  expect(response.slice(0, 200)).toMatch(/^HTTP\/1.1 200/);
  return args.map((a) => {
    const raw = callbacks.get(new URL(a.url).pathname);
    expect(raw).toBeDefined();
    const traceparent: string[] = [];
    const states: string[] = [];
    for (let i = 0; i < raw!.length; i += 2) {
      const name = raw![i].toLowerCase();
      if (name === 'traceparent') traceparent.push(raw![i + 1]);
      if (name === 'tracestate') states.push(raw![i + 1]);
    }
    const tracestateRaw = states.join(',');
    const tracestate = new Map<string, string>();
    for (const member of tracestateRaw.split(',')) {
      const m = member.trim();
      if (!m) continue;
      const eq = m.indexOf('=');
      tracestate.set(m.slice(0, eq), m.slice(eq + 1));
    }
    return { traceparent, tracestate, tracestateRaw };
  });
}

/** One callback; its traceparent must be a single valid version-00 header. */
async function single(lines: HeaderLines) {
  const [cb] = await makeRequest(lines);
  expect(cb.traceparent).toHaveLength(1);
  expect(cb.traceparent[0]).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/);
  const tp = parseTraceparent(cb.traceparent[0])!;
  return { traceId: tp.traceId, parentId: tp.spanId, flags: tp.traceFlags, tracestate: cb.tracestate, raw: cb.tracestateRaw };
}

const tp = (flags = '01') => `00-${TID}-${PID}-${flags}`;

describe('W3C Trace Context harness contract (service calling out with tracedFetch)', () => {
  it('sends a valid traceparent when the request carries none', async () => {
    const r = await single([]);
    expect(r.traceId).not.toBe(TID);
  });

  it('keeps the trace id, changes the parent id and keeps the sampled flag', async () => {
    const sampled = await single([['traceparent', tp('01')]]);
    expect(sampled.traceId).toBe(TID);
    expect(sampled.parentId).not.toBe(PID);
    expect(sampled.flags & 1).toBe(1);
    const unsampled = await single([['traceparent', tp('00')]]);
    expect(unsampled.traceId).toBe(TID);
    expect(unsampled.parentId).not.toBe(PID);
    expect(unsampled.flags & 1).toBe(0);
  });

  it.each([['TraceParent'], ['TrAcEpArEnT'], ['TRACEPARENT']])('accepts the header name cased %s', async (name) => {
    expect((await single([[name, tp()]])).traceId).toBe(TID);
  });

  it.each([
    ['duplicated', [['traceparent', `00-${TID.slice(0, -1)}1-${PID}-01`], ['traceparent', tp()]]],
    ['wrong name trace-parent', [['trace-parent', tp()]]],
    ['wrong name trace.parent', [['trace.parent', tp()]]],
    ['version 00 with trailing characters', [['traceparent', tp() + '.']]],
    ['version 00 with extra fields', [['traceparent', tp() + '-what-the-future-will-be-like']]],
    ['future version with a bad separator', [['traceparent', `cc-${TID}-${PID}-01.what-the-future-will-be-like`]]],
    ['version ff', [['traceparent', `ff-${TID}-${PID}-01`]]],
    ['illegal characters in version', [['traceparent', `.0-${TID}-${PID}-01`]]],
    ['version too long', [['traceparent', `000-${TID}-${PID}-01`]]],
    ['version too short', [['traceparent', `0-${TID}-${PID}-01`]]],
    ['illegal character in trace id', [['traceparent', `00-${TID.slice(0, -1)}.-${PID}-01`]]],
    ['trace id too long', [['traceparent', `00-${TID}3-${PID}-01`]]],
    ['trace id too short', [['traceparent', `00-${TID.slice(0, -1)}-${PID}-01`]]],
    ['parent id all zero', [['traceparent', `00-${TID}-0000000000000000-01`]]],
    ['illegal character in parent id', [['traceparent', `00-${TID}-${PID.slice(0, -1)}.-01`]]],
    ['parent id too long', [['traceparent', `00-${TID}-${PID}7-01`]]],
    ['parent id too short', [['traceparent', `00-${TID}-${PID.slice(0, -1)}-01`]]],
    ['illegal characters in flags', [['traceparent', `00-${TID}-${PID}-.0`]]],
    ['flags too long', [['traceparent', `00-${TID}-${PID}-001`]]],
    ['flags too short', [['traceparent', `00-${TID}-${PID}-1`]]],
  ] as Array<[string, HeaderLines]>)('starts a new trace for an invalid traceparent: %s', async (_label, lines) => {
    const r = await single(lines);
    expect(r.traceId).not.toBe(TID);
    expect(r.traceId).not.toBe(TID.slice(0, -1) + '1');
  });

  it('starts a new trace for an all-zero trace id', async () => {
    const r = await single([['traceparent', `00-00000000000000000000000000000000-${PID}-01`]]);
    expect(r.traceId).not.toBe('00000000000000000000000000000000');
  });

  it.each([
    ['a future version', `cc-${TID}-${PID}-01`],
    ['a future version with extra fields', `cc-${TID}-${PID}-01-what-the-future-will-be-like`],
    ['leading space', ` ${tp()}`],
    ['leading tab', `\t${tp()}`],
    ['trailing space', `${tp()} `],
    ['trailing tab', `${tp()}\t`],
  ])('continues the trace for %s', async (_label, value) => {
    expect((await single([['traceparent', value]])).traceId).toBe(TID);
  });

  it('discards a tracestate that comes without a traceparent', async () => {
    const a = await single([['tracestate', 'foo=1']]);
    const b = await single([['tracestate', 'foo=1,bar=2']]);
    expect(a.tracestate.size).toBe(b.tracestate.size);
    expect(a.tracestate.has('foo')).toBe(false);
  });

  it('passes tracestate on, whatever the header name casing', async () => {
    for (const name of ['tracestate', 'TraceState', 'TrAcEsTaTe', 'TRACESTATE']) {
      const r = await single([['traceparent', tp('00')], [name, 'foo=1,bar=2']]);
      expect(r.traceId).toBe(TID);
      expect(r.tracestate.get('foo')).toBe('1');
      expect(r.tracestate.get('bar')).toBe('2');
    }
  });

  it('ignores wrongly named tracestate headers', async () => {
    for (const name of ['trace-state', 'trace.state']) {
      const r = await single([['traceparent', tp('00')], [name, 'foo=1']]);
      expect(r.tracestate.has('foo')).toBe(false);
    }
  });

  it('discards an empty tracestate and keeps members from the other headers', async () => {
    expect((await single([['traceparent', tp('00')], ['tracestate', '']])).raw).toBe('');
    expect((await single([['traceparent', tp('00')], ['tracestate', 'foo=1'], ['tracestate', '']])).tracestate.get('foo')).toBe('1');
    expect((await single([['traceparent', tp('00')], ['tracestate', ''], ['tracestate', 'foo=1']])).tracestate.get('foo')).toBe('1');
  });

  it('combines several tracestate headers in order', async () => {
    const r = await single([
      ['traceparent', tp('00')],
      ['tracestate', 'foo=1,bar=2'],
      ['tracestate', 'rojo=1,congo=2'],
      ['tracestate', 'baz=3'],
    ]);
    expect([...r.tracestate.keys()]).toEqual(['foo', 'bar', 'rojo', 'congo', 'baz']);
  });

  it.each([
    ['foo=1,foo=1'],
    ['foo=1,foo=2'],
  ])('discards a tracestate with duplicated keys (%s)', async (value) => {
    const r = await single([['traceparent', tp('00')], ['tracestate', value]]);
    expect(r.traceId).toBe(TID);
    expect(r.tracestate.has('foo')).toBe(false);
  });

  it('discards duplicated keys spread over two headers', async () => {
    const r = await single([['traceparent', tp('00')], ['tracestate', 'foo=1'], ['tracestate', 'foo=2']]);
    expect(r.tracestate.has('foo')).toBe(false);
  });

  it('passes on keys and values made of every allowed character', async () => {
    const key = 'abcdefghijklmnopqrstuvwxyz0123456789_-*/';
    const vendorKey = key + '@a-z0-9_-*/';
    let value = '';
    for (let c = 0x20; c <= 0x7e; c++) if (c !== 0x2c && c !== 0x3d) value += String.fromCharCode(c);
    // A value may not end with a space (the harness's value ends with "~").
    for (const k of [key, vendorKey]) {
      const r = await single([['traceparent', tp('00')], ['tracestate', `${k}=${value}`]]);
      expect(r.tracestate.get(k)).toBe(value);
    }
  });

  it('handles optional whitespace in tracestate', async () => {
    for (const v of ['foo=1 \t , \t bar=2, \t baz=3', 'foo=1\t \t,\t \tbar=2,\t \tbaz=3']) {
      const r = await single([['traceparent', tp('00')], ['tracestate', v]]);
      expect([r.tracestate.get('foo'), r.tracestate.get('bar'), r.tracestate.get('baz')]).toEqual(['1', '2', '3']);
    }
    for (const v of [' foo=1', '\tfoo=1', 'foo=1 ', 'foo=1\t', '\t foo=1 \t']) {
      const r = await single([['traceparent', tp('00')], ['tracestate', v]]);
      expect(r.traceId).toBe(TID);
      expect(r.tracestate.get('foo')).toBe('1');
    }
  });

  it.each([
    ['foo =1', 'foo '],
    ['FOO=1', 'FOO'],
    ['foo.bar=1', 'foo.bar'],
    ['foo@=1,bar=2', 'bar'],
    ['@foo=1,bar=2', 'bar'],
    ['foo@@bar=1,bar=2', 'bar'],
    ['foo@bar@baz=1,bar=2', 'bar'],
    ['foo=bar=baz', 'foo'],
    ['foo=,bar=3', 'bar'],
  ])('discards an invalid tracestate (%s)', async (value, key) => {
    const r = await single([['traceparent', tp('00')], ['tracestate', value]]);
    expect(r.tracestate.has(key)).toBe(false);
  });

  it('passes on 32 members and discards 33', async () => {
    const members = Array.from({ length: 33 }, (_, i) => `bar${String(i + 1).padStart(2, '0')}=${String(i + 1).padStart(2, '0')}`);
    const lines = (n: number): HeaderLines => [
      ['traceparent', tp('00')],
      ['tracestate', members.slice(0, 10).join(',')],
      ['tracestate', members.slice(10, 20).join(',')],
      ['tracestate', members.slice(20, 30).join(',')],
      ['tracestate', members.slice(30, n).join(',')],
    ];
    const ok = await single(lines(32));
    expect(ok.tracestate.get('bar01')).toBe('01');
    expect(ok.tracestate.size).toBe(32);
    const tooMany = await single(lines(33));
    expect(tooMany.tracestate.has('bar01')).toBe(false);
  });

  it('applies the key length limits', async () => {
    const withKey = (k: string): HeaderLines => [['traceparent', tp('00')], ['tracestate', 'foo=1'], ['tracestate', `${k}=1`]];
    expect((await single(withKey('z'.repeat(256)))).tracestate.get('foo')).toBe('1');
    expect((await single(withKey('z'.repeat(257)))).tracestate.has('foo')).toBe(false);
    expect((await single(withKey('t'.repeat(241) + '@' + 'v'.repeat(14)))).tracestate.get('foo')).toBe('1');
    expect((await single(withKey('t'.repeat(242) + '@v'))).tracestate.has('foo')).toBe(false);
    expect((await single(withKey('t@' + 'v'.repeat(15)))).tracestate.has('foo')).toBe(false);
  });

  it('keeps the trace id and uses a new parent id for each of several calls', async () => {
    const cbs = await makeRequest([['traceparent', tp()]], 3);
    const parsed = cbs.map((c) => parseTraceparent(c.traceparent[0])!);
    expect(new Set(parsed.map((p) => p.traceId))).toEqual(new Set([TID]));
    expect(new Set(parsed.map((p) => p.spanId)).size).toBe(3);
  });

  it('uses a new parent id for each of several calls without a traceparent', async () => {
    const cbs = await makeRequest([], 3);
    const parsed = cbs.map((c) => parseTraceparent(c.traceparent[0])!);
    expect(new Set(parsed.map((p) => p.traceId)).size).toBe(1);
    expect(new Set(parsed.map((p) => p.spanId)).size).toBe(3);
  });

  it('generates a new trace for several calls under an illegal traceparent', async () => {
    const cbs = await makeRequest([['traceparent', `00-00000000000000000000000000000000-${PID}-01`]], 3);
    const parsed = cbs.map((c) => parseTraceparent(c.traceparent[0])!);
    expect(parsed.some((p) => p.traceId === '00000000000000000000000000000000')).toBe(false);
    expect(new Set(parsed.map((p) => p.spanId)).size).toBe(3);
  });
});
