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
});
