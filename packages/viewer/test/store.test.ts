import type { SpanData } from '@tracewire/core';
import { TraceStore } from '../src/store';

let clock = 1_800_000_000_000;
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

function span(trace: number, id: number, over: Partial<SpanData> = {}): SpanData {
  const start = over.startTime ?? clock++;
  return {
    traceId: hex(trace, 32),
    spanId: hex(id, 16),
    name: `span ${id}`,
    kind: 'internal',
    startTime: start,
    endTime: start + 10,
    ended: true,
    status: { code: 'unset' },
    attributes: {},
    events: [],
    links: [],
    traceFlags: 1,
    dropped: { attributes: 0, events: 0, links: 0 },
    ...over,
  };
}
const svc = (name: string) => ({ 'service.name': name });

describe('TraceStore', () => {
  it('keeps at most maxTraces, evicting the trace that arrived first, and counts evictions', () => {
    const store = new TraceStore({ maxTraces: 3 });
    for (let t = 1; t <= 5; t++) store.add(svc('a'), [span(t, 1), span(t, 2, { parentSpanId: hex(1, 16) })]);
    expect(store.list().map((s) => s.traceId)).toEqual([hex(5, 32), hex(4, 32), hex(3, 32)]);
    expect(store.get(hex(1, 32))).toBeUndefined();
    expect(store.stats()).toMatchObject({ traces: 3, spans: 6, evictedTraces: 2, receivedSpans: 10, droppedSpans: 0 });
  });

  it('does not move a trace back to the end when a late fragment arrives (first arrival decides)', () => {
    const store = new TraceStore({ maxTraces: 2 });
    store.add(svc('a'), [span(1, 1)]);
    store.add(svc('a'), [span(2, 1)]);
    store.add(svc('a'), [span(1, 2, { parentSpanId: hex(1, 16) })]); // late fragment of trace 1
    store.add(svc('a'), [span(3, 1)]);
    expect(store.get(hex(1, 32))).toBeUndefined();
    expect(store.get(hex(2, 32))).toBeDefined();
  });

  it('merges the local traces of several services and late fragments into one trace', () => {
    const store = new TraceStore();
    const root = span(7, 1, { kind: 'server', name: 'POST /api/chat', startTime: 1000, endTime: 1900 });
    const client = span(7, 2, { kind: 'client', parentSpanId: root.spanId, startTime: 1010, endTime: 1890 });
    const remote = span(7, 3, { kind: 'server', parentSpanId: client.spanId, startTime: 1020, endTime: 1880 });
    const late = span(7, 4, { parentSpanId: remote.spanId, startTime: 1030, endTime: 2500 });
    // Arrival order is not start order: the callee finishes and exports first.
    store.add(svc('chat'), [remote]);
    store.add(svc('gateway'), [root, client]);
    store.add(svc('chat'), [late]);
    const detail = store.get(hex(7, 32))!;
    expect(detail.spans.map((s) => [s.spanId, s.service])).toEqual([
      [root.spanId, 'gateway'],
      [client.spanId, 'gateway'],
      [remote.spanId, 'chat'],
      [late.spanId, 'chat'],
    ]);
    expect(store.list()).toEqual([
      {
        traceId: hex(7, 32),
        rootName: 'POST /api/chat',
        services: ['gateway', 'chat'],
        startTime: 1000,
        durationMs: 1500,
        spanCount: 4,
        error: false,
        llm: { calls: 0, inputTokens: null, outputTokens: null, cost: null, ttftMs: null },
      },
    ]);
  });

  it('replaces a span exported open by its ended copy, and never the other way round', () => {
    const store = new TraceStore();
    const open = span(8, 1, { ended: false, endTime: 5000, startTime: 1000, attributes: { step: 'open' } });
    const ended = { ...open, ended: true, endTime: 7000, attributes: { step: 'ended' } };
    store.add(svc('a'), [open]);
    store.add(svc('a'), [ended]);
    expect(store.get(hex(8, 32))!.spans[0]).toMatchObject({ ended: true, endTime: 7000, attributes: { step: 'ended' } });
    store.add(svc('a'), [open]); // a stale open copy arriving late
    expect(store.get(hex(8, 32))!.spans[0]).toMatchObject({ ended: true, attributes: { step: 'ended' } });
    expect(store.stats().spans).toBe(1);
  });

  it('drops and counts spans over maxSpansPerTrace and spans without valid ids', () => {
    const store = new TraceStore({ maxSpansPerTrace: 2 });
    const r = store.add(svc('a'), [span(9, 1), span(9, 2), span(9, 3), { ...span(9, 4), traceId: 'nope' }, { ...span(9, 5), spanId: '0'.repeat(16) }]);
    expect(r).toEqual({ accepted: 2, rejected: 3, traceIds: [hex(9, 32)] });
    expect(store.stats()).toMatchObject({ spans: 2, droppedSpans: 3, receivedSpans: 5 });
    // A span already held can still be updated when the trace is full.
    expect(store.add(svc('a'), [{ ...span(9, 2), name: 'renamed' }]).accepted).toBe(1);
  });

  it('lists a parent before its child when both start in the same millisecond, whatever the arrival order', () => {
    const store = new TraceStore();
    const parent = span(14, 1, { startTime: 500 });
    const child = span(14, 2, { startTime: 500, parentSpanId: parent.spanId });
    const grandchild = span(14, 3, { startTime: 500, parentSpanId: child.spanId });
    store.add(svc('a'), [grandchild]);
    store.add(svc('a'), [child]);
    store.add(svc('a'), [parent]);
    expect(store.get(hex(14, 32))!.spans.map((s) => s.spanId)).toEqual([parent.spanId, child.spanId, grandchild.spanId]);
    expect(store.list()[0].rootName).toBe('span 1');
  });

  it('uses unknown_service for a resource without service.name', () => {
    const store = new TraceStore();
    store.add({}, [span(10, 1)]);
    expect(store.get(hex(10, 32))!.spans[0].service).toBe('unknown_service');
  });

  it('tells listeners which traces changed, and survives a throwing listener', () => {
    const store = new TraceStore();
    const seen: string[][] = [];
    store.onChange(() => {
      throw new Error('listener bug');
    });
    const off = store.onChange((ids) => seen.push(ids));
    store.add(svc('a'), [span(11, 1), span(12, 1)]);
    off();
    store.add(svc('a'), [span(13, 1)]);
    expect(seen).toEqual([[hex(11, 32), hex(12, 32)]]);
  });

  it('rejects bad limits with a TypeError naming the option', () => {
    expect(() => new TraceStore({ maxTraces: 0 })).toThrow(/"maxTraces" must be a positive integer/);
    expect(() => new TraceStore({ maxSpansPerTrace: 1.5 })).toThrow(/"maxSpansPerTrace"/);
  });
});

describe('LLM calls in a summary', () => {
  const llm = (extra: Record<string, number | string | string[]>) => ({ 'gen_ai.provider.name': 'openai', 'gen_ai.operation.name': 'chat', 'gen_ai.response.model': 'gpt-5.4-mini', ...extra });

  it('counts a call once along a relay chain: gateway → chat → provider each carry the same usage', () => {
    const store = new TraceStore();
    const usage = { 'gen_ai.usage.input_tokens': 24, 'gen_ai.usage.output_tokens': 17, 'tracewire.usage.cost': 0.0001 };
    const g = span(20, 1, { kind: 'server', startTime: 0, endTime: 1000, attributes: llm({ ...usage, 'gen_ai.response.time_to_first_chunk': 0.3 }) });
    const gc = span(20, 2, { kind: 'client', parentSpanId: g.spanId, startTime: 5, endTime: 995, attributes: llm({ ...usage, 'gen_ai.response.time_to_first_chunk': 0.29 }) });
    const c = span(20, 3, { kind: 'server', parentSpanId: gc.spanId, startTime: 10, endTime: 990, attributes: llm({ ...usage, 'gen_ai.response.time_to_first_chunk': 0.28 }) });
    const cc = span(20, 4, { kind: 'client', parentSpanId: c.spanId, startTime: 20, endTime: 980, attributes: llm({ ...usage, 'gen_ai.response.time_to_first_chunk': 0.25 }) });
    const m = span(20, 5, { kind: 'server', parentSpanId: cc.spanId, startTime: 25, endTime: 975, attributes: llm({ ...usage, 'gen_ai.response.time_to_first_chunk': 0.24 }) });
    store.add(svc('gateway'), [g, gc]);
    store.add(svc('chat'), [c, cc]);
    store.add(svc('mock-llm'), [m]);
    const [s] = store.list();
    // The root relays the stream: its TTFT is what the user saw.
    expect(s.llm).toEqual({ calls: 1, inputTokens: 24, outputTokens: 17, cost: 0.0001, ttftMs: 300 });
    const totals = store.totals();
    expect(totals.models).toEqual([{ model: 'gpt-5.4-mini', provider: 'openai', calls: 1, inputTokens: 24, outputTokens: 17, cachedInputTokens: 0, reasoningTokens: 0, cost: 0.0001 }]);
  });

  it('counts two calls of a tool loop, not the tool span; TTFT from the trace start when the root is not an LLM span', () => {
    const store = new TraceStore();
    const root = span(21, 1, { kind: 'server', startTime: 0, endTime: 2000 });
    const first = span(21, 2, { kind: 'client', parentSpanId: root.spanId, startTime: 100, endTime: 600, attributes: llm({ 'gen_ai.usage.input_tokens': 50, 'gen_ai.usage.output_tokens': 10, 'gen_ai.response.time_to_first_chunk': 0.2 }) });
    const tool = span(21, 3, { parentSpanId: root.spanId, startTime: 600, endTime: 700, attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.provider.name': 'openai', 'gen_ai.tool.name': 'weather' } });
    const second = span(21, 4, { kind: 'client', parentSpanId: root.spanId, startTime: 700, endTime: 1900, attributes: llm({ 'gen_ai.usage.input_tokens': 80, 'gen_ai.usage.output_tokens': 40, 'tracewire.usage.cost': 0.0002 }) });
    store.add(svc('chat'), [root, first, tool, second]);
    expect(store.list()[0].llm).toEqual({ calls: 2, inputTokens: 130, outputTokens: 50, cost: 0.0002, ttftMs: 300 });
  });

  it('counts a provider server span traced alone, and reads the older gen_ai.system and prompt/completion names', () => {
    const store = new TraceStore();
    store.add(svc('llm'), [span(22, 1, { kind: 'server', attributes: { 'gen_ai.system': 'openai', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.prompt_tokens': 5, 'gen_ai.usage.completion_tokens': 7 } })]);
    expect(store.list()[0].llm).toMatchObject({ calls: 1, inputTokens: 5, outputTokens: 7, cost: null });
    expect(store.totals().models[0]).toMatchObject({ model: 'gpt-4o', provider: 'openai' });
  });
});
