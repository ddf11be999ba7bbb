import { PassThrough } from 'node:stream';
import { ConsoleExporter } from '../../src/export/console';
import type { FinishedTrace, SpanData } from '../../src/types';
import { makeSpan, makeTrace as makeBareTrace, SPAN_TRACE_ID as TRACE_ID, T0 } from '../helpers';

// Matches any ANSI CSI escape sequence.
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/;

/** A trace of `spans` from the service the header names. */
function makeTrace(spans: SpanData[], overrides: Partial<FinishedTrace> = {}): FinishedTrace {
  return makeBareTrace(spans, { resource: { 'service.name': 'chat-api' }, ...overrides });
}

/** A fake writable that records each write call; `isTTY` as asked. */
function capture(isTTY = false) {
  const writes: string[] = [];
  const stream = {
    isTTY,
    write(chunk: string) {
      writes.push(String(chunk));
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  return { stream, writes, text: () => writes.join('') };
}

/** server root → client child → internal grandchild, each starting later. */
function threeLevels(): FinishedTrace {
  return makeTrace([
    makeSpan({ spanId: 'a000000000000001', name: 'POST /chat', kind: 'server', startTime: T0, endTime: T0 + 100 }),
    makeSpan({ spanId: 'a000000000000002', parentSpanId: 'a000000000000001', name: 'llm call', kind: 'client', startTime: T0 + 20, endTime: T0 + 90 }),
    makeSpan({ spanId: 'a000000000000003', parentSpanId: 'a000000000000002', name: 'parse chunk', startTime: T0 + 60, endTime: T0 + 70 }),
  ]);
}

function lineOf(text: string, needle: string): { index: number; line: string } {
  const lines = text.split('\n');
  const index = lines.findIndex((l) => l.includes(needle));
  if (index === -1) throw new Error(`no line contains ${needle}:\n${text}`);
  return { index, line: lines[index] };
}

const indentOf = (line: string): number => line.length - line.trimStart().length;
const barOf = (line: string): string => {
  const m = /[·█]+/.exec(line);
  if (!m) throw new Error(`no bar in: ${line}`);
  return m[0];
};

describe('ConsoleExporter', () => {
  it('is named console', () => {
    expect(new ConsoleExporter({ stream: capture().stream }).name).toBe('console');
  });

  describe('constructor', () => {
    it('rejects an unknown format with a TypeError naming the option', () => {
      expect(() => new ConsoleExporter({ stream: capture().stream, format: 'xml' as 'json' })).toThrow(/format/);
    });

    it('rejects a width that is not a positive integer', () => {
      expect(() => new ConsoleExporter({ stream: capture().stream, width: 0 })).toThrow(TypeError);
      expect(() => new ConsoleExporter({ stream: capture().stream, width: 2.5 })).toThrow(/width/);
    });

    it('rejects a stream without write', () => {
      expect(() => new ConsoleExporter({ stream: {} as NodeJS.WritableStream })).toThrow(/stream/);
    });
  });

  describe('json format', () => {
    it('writes one parseable line per trace, equal to the input, one write each', async () => {
      const out = capture();
      const traces = [threeLevels(), makeTrace([makeSpan({ name: 'second' })], { fragment: 2, incomplete: true })];
      await new ConsoleExporter({ stream: out.stream, format: 'json' }).export(traces);
      expect(out.writes).toHaveLength(2);
      const lines = out.text().split('\n');
      expect(lines.pop()).toBe('');
      expect(lines.map((l) => JSON.parse(l))).toEqual(JSON.parse(JSON.stringify(traces)));
    });

    it('is what auto picks for a non-TTY stream', async () => {
      const out = new PassThrough();
      const exp = new ConsoleExporter({ stream: out });
      await exp.export([threeLevels()]);
      const text = String(out.read());
      expect(JSON.parse(text.trim())).toEqual(threeLevels());
    });

    it('never colors, even when color is asked for', async () => {
      const out = capture();
      await new ConsoleExporter({ stream: out.stream, format: 'json', color: true }).export([threeLevels()]);
      expect(out.text()).not.toMatch(ANSI);
    });
  });

  describe('tree format', () => {
    async function render(traces: FinishedTrace[], options: { color?: boolean; width?: number } = {}): Promise<string> {
      const out = capture(true);
      await new ConsoleExporter({ stream: out.stream, format: 'tree', color: false, ...options }).export(traces);
      return out.text();
    }

    it('is what auto picks for a TTY stream', async () => {
      const out = capture(true);
      await new ConsoleExporter({ stream: out.stream, color: false }).export([threeLevels()]);
      expect(() => JSON.parse(out.text())).toThrow();
      expect(out.text()).toContain('llm call');
    });

    it('writes each trace with a single write', async () => {
      const out = capture(true);
      await new ConsoleExporter({ stream: out.stream, format: 'tree', color: false }).export([threeLevels(), threeLevels()]);
      expect(out.writes).toHaveLength(2);
      expect(out.writes[0].split('\n').length).toBeGreaterThan(3);
    });

    it('indents each child more than its parent and prints it after it', async () => {
      const text = await render([threeLevels()]);
      const root = lineOf(text, 'POST /chat');
      const child = lineOf(text, 'llm call');
      const grandchild = lineOf(text, 'parse chunk');
      expect(child.index).toBeGreaterThan(root.index);
      expect(grandchild.index).toBeGreaterThan(child.index);
      expect(indentOf(child.line)).toBeGreaterThan(indentOf(root.line));
      expect(indentOf(grandchild.line)).toBeGreaterThan(indentOf(child.line));
    });

    it('orders siblings by start time and places each under its own parent', async () => {
      const trace = makeTrace([
        makeSpan({ spanId: 'r000000000000000', name: 'root', startTime: T0, endTime: T0 + 100 }),
        makeSpan({ spanId: 'b000000000000000', parentSpanId: 'r000000000000000', name: 'late sibling', startTime: T0 + 50, endTime: T0 + 60 }),
        makeSpan({ spanId: 'c000000000000000', parentSpanId: 'a000000000000000', name: 'child of early', startTime: T0 + 30, endTime: T0 + 40 }),
        makeSpan({ spanId: 'a000000000000000', parentSpanId: 'r000000000000000', name: 'early sibling', startTime: T0 + 10, endTime: T0 + 45 }),
      ]);
      const text = await render([trace]);
      const order = ['root', 'early sibling', 'child of early', 'late sibling'].map((n) => lineOf(text, n).index);
      expect(order).toEqual([...order].sort((x, y) => x - y));
      expect(indentOf(lineOf(text, 'late sibling').line)).toBe(indentOf(lineOf(text, 'early sibling').line));
    });

    it('shows the kind and duration of each span in ms', async () => {
      const text = await render([threeLevels()]);
      expect(lineOf(text, 'POST /chat').line).toMatch(/\[server\].*100\.0 ms/);
      expect(lineOf(text, 'llm call').line).toMatch(/\[client\].*70\.0 ms/);
      expect(lineOf(text, 'parse chunk').line).toMatch(/\[internal\].*10\.0 ms/);
    });

    it('positions bars on the trace time axis, later spans further right', async () => {
      const text = await render([threeLevels()], { width: 20 });
      const bars = ['POST /chat', 'llm call', 'parse chunk'].map((n) => barOf(lineOf(text, n).line));
      for (const bar of bars) expect(bar).toHaveLength(20);
      const offsets = bars.map((b) => b.indexOf('█'));
      expect(offsets[0]).toBe(0);
      expect(offsets[1]).toBeGreaterThan(offsets[0]);
      expect(offsets[2]).toBeGreaterThan(offsets[1]);
      // The root covers the whole axis; the 10 ms grandchild a tenth of it.
      expect(bars[0]).toBe('█'.repeat(20));
      expect(bars[2].replace(/·/g, '')).toHaveLength(2);
    });

    it('draws at least one bar character for a very short span', async () => {
      const trace = makeTrace([
        makeSpan({ spanId: 'r000000000000000', name: 'root', startTime: T0, endTime: T0 + 1000 }),
        makeSpan({ spanId: 'b000000000000000', parentSpanId: 'r000000000000000', name: 'blip', startTime: T0 + 500, endTime: T0 + 500.01 }),
      ]);
      const text = await render([trace]);
      expect(barOf(lineOf(text, 'blip').line)).toMatch(/^·+█·+$/);
    });

    it('marks error spans with their message and open spans', async () => {
      const trace = makeTrace([
        makeSpan({ spanId: 'r000000000000000', name: 'root', startTime: T0, endTime: T0 + 100 }),
        makeSpan({ spanId: 'e000000000000000', parentSpanId: 'r000000000000000', name: 'failing', status: { code: 'error', message: 'upstream timeout' } }),
        makeSpan({ spanId: 'o000000000000000', parentSpanId: 'r000000000000000', name: 'still running', ended: false }),
      ]);
      const text = await render([trace]);
      expect(lineOf(text, 'failing').line).toContain('✗ upstream timeout');
      expect(lineOf(text, 'still running').line).toContain('(open)');
      expect(lineOf(text, 'root').line).not.toMatch(/✗|\(open\)/);
    });

    it('shows key attributes under the span that has them', async () => {
      const trace = makeTrace([
        makeSpan({
          spanId: 'r000000000000000',
          name: 'root',
          startTime: T0,
          endTime: T0 + 100,
          attributes: { 'http.request.method': 'POST', 'http.route': '/chat', 'http.response.status_code': 502, 'tracewire.stream.chunks': 57, 'error.type': 'client_aborted', 'ignored.attr': 'zzz' },
        }),
        makeSpan({
          spanId: 'l000000000000000',
          parentSpanId: 'r000000000000000',
          name: 'llm',
          kind: 'client',
          attributes: {
            'url.full': 'https://api.example.com/v1/chat',
            'gen_ai.request.model': 'gpt-4o-mini',
            'gen_ai.usage.input_tokens': 412,
            'gen_ai.usage.output_tokens': 96,
            'gen_ai.response.time_to_first_chunk': 0.25,
            'tracewire.usage.cost': 0.00012,
          },
        }),
        makeSpan({ spanId: 'p000000000000000', parentSpanId: 'l000000000000000', name: 'plain' }),
      ]);
      const lines = (await render([trace])).split('\n');
      const rootAttrs = lines[lineOf(lines.join('\n'), 'root').index + 1];
      expect(rootAttrs).toContain('POST /chat → 502');
      expect(rootAttrs).toContain('chunks=57');
      expect(rootAttrs).toContain('error=client_aborted');
      expect(rootAttrs).not.toContain('zzz');
      const llmAttrs = lines[lineOf(lines.join('\n'), 'llm [client]').index + 1];
      for (const part of ['https://api.example.com/v1/chat', 'model=gpt-4o-mini', 'in=412', 'out=96', 'ttfc=250.0 ms', 'cost=$0.00012']) {
        expect(llmAttrs).toContain(part);
      }
      // A span without key attributes gets no attribute line: the next line is the end.
      const plainIndex = lineOf(lines.join('\n'), 'plain').index;
      expect(lines[plainIndex + 1]).toBe('');
    });

    it('puts service name, trace id, duration and span count in the header', async () => {
      const header = (await render([threeLevels()])).split('\n')[0];
      expect(header).toContain('chat-api');
      expect(header).toContain(TRACE_ID);
      expect(header).toContain('100.0 ms');
      expect(header).toContain('3 spans');
      expect(header).not.toMatch(/incomplete|fragment/);
    });

    it('flags incomplete traces and fragments in the header', async () => {
      const header = (await render([makeTrace(threeLevels().spans, { incomplete: true, fragment: 2 })])).split('\n')[0];
      expect(header).toContain('incomplete');
      expect(header).toContain('fragment 2');
    });

    it('treats a span whose parent is not in the trace as a root', async () => {
      const trace = makeTrace([
        makeSpan({ spanId: 'r000000000000000', parentSpanId: 'feedfacefeedface', name: 'remote child', startTime: T0, endTime: T0 + 10 }),
        makeSpan({ spanId: 'l000000000000000', parentSpanId: 'beefbeefbeefbeef', name: 'late fragment span', startTime: T0 + 5, endTime: T0 + 10 }),
      ]);
      const text = await render([trace]);
      expect(indentOf(lineOf(text, 'late fragment span').line)).toBe(indentOf(lineOf(text, 'remote child').line));
    });

    it('writes no ANSI escapes when color is false, and some when it is true', async () => {
      const trace = makeTrace(threeLevels().spans, { incomplete: true });
      expect(await render([trace], { color: false })).not.toMatch(ANSI);
      expect(await render([trace], { color: true })).toMatch(ANSI);
    });

    it('escapes control characters from span names and attributes', async () => {
      const trace = makeTrace([makeSpan({ name: 'evil\x1b[31m\nname', attributes: { 'http.route': '/a\r\nb' } })]);
      const text = await render([trace]);
      expect(text).not.toContain(String.fromCharCode(27));
      expect(text).toContain('evil\\x1b[31m\\x0aname');
      expect(text.split('\n')).toHaveLength(4); // header, span, attributes, trailing ''
    });

    it('does not throw on odd data', async () => {
      const odd: FinishedTrace[] = [
        makeTrace([]),
        makeTrace([makeSpan({ startTime: T0, endTime: T0 })]),
        makeTrace([makeSpan({ startTime: T0 + 10, endTime: T0 })]),
        makeTrace([makeSpan({ parentSpanId: 'missingmissingmi' })]),
        makeTrace([
          makeSpan({ spanId: 'x000000000000000', parentSpanId: 'y000000000000000', name: 'cycle x' }),
          makeSpan({ spanId: 'y000000000000000', parentSpanId: 'x000000000000000', name: 'cycle y' }),
          makeSpan({ spanId: 'z000000000000000', parentSpanId: 'z000000000000000', name: 'self parent' }),
        ]),
        makeTrace([makeSpan({ spanId: 'd' }), makeSpan({ spanId: 'd' }), makeSpan({ spanId: 'k', parentSpanId: 'd' })]),
        makeTrace([makeSpan({ startTime: Number.NaN, endTime: Infinity, status: { code: 'error' } })]),
        makeTrace([makeSpan({ name: 'x'.repeat(500), attributes: { 'url.full': 'u'.repeat(5000), 'gen_ai.usage.input_tokens': [1, 2] } })]),
        { ...makeTrace([makeSpan()]), resource: {} },
        makeTrace(Array.from({ length: 200 }, (_, i) => makeSpan({ spanId: `s${i}`, parentSpanId: i === 0 ? undefined : `s${i - 1}`, name: `deep ${i}` }))),
      ];
      const text = await render(odd);
      expect(text).toContain('cycle x');
      expect(text).toContain('cycle y');
      expect(text).toContain('self parent');
      expect(text).toContain('unknown_service');
      expect(text).toContain('deep 199');
      // Every span appears exactly once, whatever its parent links.
      expect(text.split('\n').filter((l) => l.includes('[internal]'))).toHaveLength(odd.reduce((n, t) => n + t.spans.length, 0));
    });
  });

  describe('export', () => {
    it('rejects when the stream throws, after trying the other traces', async () => {
      let calls = 0;
      const stream = {
        write() {
          calls++;
          throw new Error('EPIPE');
        },
      } as unknown as NodeJS.WritableStream;
      await expect(new ConsoleExporter({ stream, format: 'json' }).export([threeLevels(), threeLevels()])).rejects.toThrow('EPIPE');
      expect(calls).toBe(2);
    });

    it('resolves with nothing written for an empty batch', async () => {
      const out = capture();
      await expect(new ConsoleExporter({ stream: out.stream }).export([])).resolves.toBeUndefined();
      expect(out.writes).toEqual([]);
    });
  });

  describe('shutdown and forceFlush', () => {
    it('resolve', async () => {
      const exp = new ConsoleExporter({ stream: capture().stream });
      await expect(exp.forceFlush()).resolves.toBeUndefined();
      await expect(exp.shutdown()).resolves.toBeUndefined();
    });
  });
});
