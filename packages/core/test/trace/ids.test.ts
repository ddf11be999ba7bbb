import { newSpanId, newTraceId } from '../../src/trace/ids';

describe('newTraceId / newSpanId', () => {
  it('draws lowercase hex ids of the right length, unique across many draws', () => {
    const traces = new Set<string>();
    const spans = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const t = newTraceId();
      const s = newSpanId();
      expect(t).toMatch(/^[0-9a-f]{32}$/);
      expect(s).toMatch(/^[0-9a-f]{16}$/);
      traces.add(t);
      spans.add(s);
    }
    expect(traces.size).toBe(5000);
    expect(spans.size).toBe(5000);
  });

  it('draws from the pooled buffer: one randomFillSync per many ids', () => {
    jest.isolateModules(() => {
      const crypto = require('node:crypto');
      const spy = jest.spyOn(crypto, 'randomFillSync');
      const ids = require('../../src/trace/ids');
      for (let i = 0; i < 1000; i++) ids.newSpanId();
      expect(spy.mock.calls.length).toBeGreaterThan(0);
      expect(spy.mock.calls.length).toBeLessThanOrEqual(2);
      spy.mockRestore();
    });
  });

  it('hands out the pool in order across chunks and refills, skipping all-zero ids', () => {
    jest.isolateModules(() => {
      const crypto = require('node:crypto');
      // A known fill instead of random bytes: byte i of fill k is (i * 7 + k) & 0xff, except an
      // all-zero trace id at the start of each fill and 64 zero bytes in the middle (an id or two
      // inside them, whatever the alignment).
      let fills = 0;
      const expected: number[] = [];
      const spy = jest.spyOn(crypto, 'randomFillSync').mockImplementation((...args: unknown[]) => {
        const buf = args[0] as Buffer;
        for (let i = 0; i < buf.length; i++) buf[i] = (i * 7 + fills) & 0xff;
        buf.fill(0, 0, 16);
        buf.fill(0, 40000, 40064);
        for (const b of buf) expected.push(b);
        fills++;
        return buf;
      });
      const ids = require('../../src/trace/ids');
      // 3 trace ids + 2 span ids per step (64 bytes): 2100 steps use two pools and a bit of a third.
      const got: string[] = [];
      for (let i = 0; i < 2100; i++) got.push(ids.newTraceId(), ids.newSpanId(), ids.newTraceId(), ids.newSpanId(), ids.newTraceId());
      spy.mockRestore();
      expect(fills).toBe(3);
      // Rebuild the expected ids from the fills: in order, 16 or 8 bytes each, never across a
      // 4096-byte chunk, all-zero ones skipped.
      const want: string[] = [];
      let at = 0;
      const sizes = [16, 8, 16, 8, 16];
      while (want.length < got.length) {
        const size = sizes[want.length % 5];
        for (;;) {
          if (Math.floor(at / 4096) !== Math.floor((at + size - 1) / 4096)) at = Math.ceil(at / 4096) * 4096;
          const bytes = expected.slice(at, at + size);
          at += size;
          if (bytes.some((b) => b !== 0)) {
            want.push(Buffer.from(bytes).toString('hex'));
            break;
          }
        }
      }
      expect(got).toEqual(want);
      for (const id of got) expect(id).not.toMatch(/^0+$/);
    });
  });
});
