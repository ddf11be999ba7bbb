import fc from 'fast-check';
import { Accumulator } from '../../src/stream/accumulator';
import type { AccumulatorSettings } from '../../src/stream/accumulator';
import { OpenAIChatDecoder } from '../../src/stream/decoders/openai-chat';

// The fast paths (simple SSE events taken whole by the SSE parser, canonical events decoded without
// JSON.parse) and any cutting of the stream (the response tap joins small writes after the first
// content event) must change nothing: whatever the bytes and however they are cut, the outcome
// must be exactly the line-by-line, event-by-event JSON.parse path's.

const head = '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[';
const content = (index: number, s: string, tail: string) => `${head}{"index":${index},"delta":{"content":${JSON.stringify(s)}},"logprobs":null,"finish_reason":null}]${tail}}`;
const finish = `${head}{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}`;
const usage = `${head}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}`;

/** Everything a user or the tap reads, less the clock. */
function outcome(chunks: Array<string | Buffer>, fastPaths: boolean, options: Pick<AccumulatorSettings, 'maxBytes' | 'maxEventBytes' | 'captureContent' | 'keepText'> = {}) {
  const acc = new Accumulator({ format: 'sse', captureContent: true, ...options, fastPaths });
  for (const c of chunks) acc.write(c);
  const midway = { chunks: acc.chunks, contentChunks: acc.contentChunks };
  acc.end();
  const attrs = { ...acc.attributes() };
  for (const k of Object.keys(attrs)) if (k.includes('time') || k.endsWith('duration')) delete attrs[k];
  return { midway, attrs, llm: acc.llm(), chunks: acc.chunks, contentChunks: acc.contentChunks, first: acc.firstContentChunk, nonJson: acc.nonJsonEvents };
}

/** Cuts `body` at the given points, each piece a string or a Buffer. */
function cut(body: string, points: number[], asBuffer: boolean[]): Array<string | Buffer> {
  const bytes = Buffer.from(body);
  const at = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Array<string | Buffer> = [];
  let prev = 0;
  at.concat(bytes.length).forEach((p, i) => {
    if (p <= prev) return;
    const piece = bytes.subarray(prev, p);
    // A piece is written as text only when it is whole characters (as a relay writing strings does).
    const text = piece.toString('utf8');
    out.push(asBuffer[i % asBuffer.length] || !Buffer.from(text).equals(piece) ? Buffer.from(piece) : text);
    prev = p;
  });
  return out;
}

const text = fc.string({ unit: 'binary', maxLength: 10 });
/** A content event's data: canonical, or one character inserted, removed or replaced. */
const data = fc
  .tuple(fc.nat({ max: 2 }), text, fc.constantFrom('', ',"usage":null', ',"obfuscation":"xY"'), fc.nat(), fc.constantFrom('none', 'none', 'insert', 'remove', 'replace'), fc.constantFrom('"', '\\', '}', '\n', 'ü', '0', ' '))
  .map(([i, s, tail, at, op, ch]) => {
    const e = content(i, s, tail);
    const k = at % (e.length + 1);
    if (op === 'insert') return e.slice(0, k) + ch + e.slice(k);
    if (op === 'remove') return e.slice(0, k) + e.slice(k + 1);
    if (op === 'replace') return e.slice(0, k) + ch + e.slice(k + 1);
    return e;
  });
/** The event around it: mostly `data: …` LF LF, sometimes another framing the run must leave to the parser. */
const event = fc.tuple(data, fc.constantFrom('lf', 'lf', 'lf', 'crlf', 'nospace', 'comment', 'named', 'split')).map(([d, framing]) => {
  if (framing === 'crlf') return `data: ${d}\r\n\r\n`;
  if (framing === 'nospace') return `data:${d}\n\n`;
  if (framing === 'comment') return `: keep-alive\ndata: ${d}\n\n`;
  if (framing === 'named') return `event: message\ndata: ${d}\n\n`;
  if (framing === 'split') return `data: ${d.slice(0, 5)}\ndata: ${d.slice(5)}\n\n`;
  return `data: ${d}\n\n`;
});

/** A plain content event of choice 0 or 1 (what runs are made of). */
const plainEvent = fc
  .tuple(fc.nat({ max: 1 }), fc.stringMatching(/^[a-z ]{1,6}$/), fc.constantFrom('', ',"obfuscation":"xY"'))
  .map(([i, s, tail]) => `data: ${content(i, s, tail)}\n\n`);

describe('Accumulator: chunking and fast paths change nothing', () => {
  it('give exactly the event-by-event JSON.parse outcome, however the stream is cut (property)', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 8 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }), fc.boolean(), (events, points, asBuffer, tail) => {
        const body = [`data: ${content(0, '', '')}\n\n`, `data: ${content(0, 'Hi', '')}\n\n`, ...events, ...(tail ? [`data: ${finish}\n\n`, `data: ${usage}\n\n`, 'data: [DONE]\n\n'] : [])].join('');
        const chunks = cut(body, points, asBuffer);
        expect(outcome(chunks, true)).toEqual(outcome([Buffer.from(body)], false));
      }),
      { numRuns: 1500 },
    );
  });

  it('takes a long run in one pass and still counts every event, with the text capped', () => {
    const events = [`data: ${content(0, '', '')}\n\n`];
    for (let i = 0; i < 2000; i++) events.push(`data: ${content(0, `token${i} `, ',"obfuscation":"ab"')}\n\n`);
    events.push(`data: ${finish}\n\n`, `data: ${usage}\n\n`, 'data: [DONE]\n\n');
    const fast = outcome(events, true, { maxBytes: 1000 });
    expect(fast).toEqual(outcome(events, false, { maxBytes: 1000 }));
    expect(fast.chunks).toBe(2004);
    expect(fast.contentChunks).toBe(2000);
    expect(fast.first).toBe(1);
    expect(fast.llm?.contentTruncated).toBe(true);
    expect(fast.attrs['gen_ai.usage.output_tokens']).toBe(2);
  });

  // What the response tap builds: no text kept, so after the first content event whole runs of
  // plain content events are taken in one pass (StreamDecoder#run).
  it('gives the same outcome with no text kept (the tap), however the stream is cut (property)', () => {
    const run = jest.spyOn(OpenAIChatDecoder.prototype, 'run');
    try {
      fc.assert(
        fc.property(fc.array(fc.oneof(event, plainEvent, plainEvent), { maxLength: 16 }), fc.array(fc.nat(), { maxLength: 8 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }), fc.boolean(), fc.constantFrom(1, 8, 32 * 1024), (events, points, asBuffer, tail, maxBytes) => {
          const body = [`data: ${content(0, '', '')}\n\n`, `data: ${content(0, 'Hi', '')}\n\n`, ...events, ...(tail ? [`data: ${finish}\n\n`, `data: ${usage}\n\n`, 'data: [DONE]\n\n'] : [])].join('');
          const chunks = cut(body, points, asBuffer);
          for (const options of [{ captureContent: false, keepText: false }, { maxBytes }]) {
            expect(outcome(chunks, true, options)).toEqual(outcome([Buffer.from(body)], false, options));
          }
        }),
        { numRuns: 1500 },
      );
      // The runs were taken, not only tried: the equality above covers them.
      expect(run.mock.results.some((r) => typeof r.value === 'number' && r.value > 1)).toBe(true);
    } finally {
      run.mockRestore();
    }
  });

  it('takes runs in one pass from one chunk: every event counted, choices kept apart, the same outcome', () => {
    const events = [`data: ${content(0, '', '')}\n\n`];
    for (let i = 0; i < 3000; i++) events.push(`data: ${content(i < 1500 ? 0 : i % 2, `token${i} `, i % 7 === 0 ? ',"obfuscation":"ab"' : '')}\n\n`);
    events.push(`data: ${finish}\n\n`, `data: ${usage}\n\n`, 'data: [DONE]\n\n');
    const body = events.join('');
    const run = jest.spyOn(OpenAIChatDecoder.prototype, 'run');
    try {
      for (const input of [body, Buffer.from(body)]) {
        const fast = outcome([input], true, { captureContent: false, keepText: false });
        expect(fast).toEqual(outcome([Buffer.from(body)], false, { captureContent: false, keepText: false }));
        expect(fast.chunks).toBe(3004);
        expect(fast.contentChunks).toBe(3000);
        expect(fast.first).toBe(1);
        expect(fast.llm?.choices.map((c) => c.index)).toEqual([0, 1]);
        expect(fast.attrs['tracewire.stream.bytes']).toBe(Buffer.byteLength(body));
      }
      // The first 1500 content events (one choice) went in one run.
      expect(Math.max(...run.mock.results.map((r) => r.value as number))).toBeGreaterThanOrEqual(1499);
    } finally {
      run.mockRestore();
    }
  });

  it('ends a run at an event whose prefix differs from the learnt one (here: not JSON)', () => {
    const broken = `data: ${content(0, 'x', '').replace('"created":1,', '"created":1,,')}\n\n`;
    const events = [`data: ${content(0, 'a', '')}\n\n`, `data: ${content(0, 'b', '')}\n\n`, `data: ${content(0, 'c', '')}\n\n`, broken, `data: ${content(0, 'd', '')}\n\n`];
    const body = events.join('');
    const fast = outcome([body], true, { captureContent: false, keepText: false });
    expect(fast).toEqual(outcome([Buffer.from(body)], false, { captureContent: false, keepText: false }));
    expect(fast.nonJson).toBe(1);
    expect(fast.contentChunks).toBe(4);
  });

  it('never takes an event longer than maxEventBytes into a run: it is dropped, as event by event', () => {
    const events = [`data: ${content(0, 'a', '')}\n\n`];
    for (let i = 0; i < 40; i++) events.push(`data: ${content(0, i === 20 ? 'x'.repeat(1500) : `t${i}`, '')}\n\n`);
    const body = events.join('');
    const options = { captureContent: false, keepText: false, maxEventBytes: 1200 };
    const fast = outcome([body], true, options);
    expect(fast).toEqual(outcome([Buffer.from(body)], false, options));
    expect(fast.chunks).toBe(41);
    expect(fast.contentChunks).toBe(40);
  });

  it('leaves an event longer than maxEventBytes to the parser, which drops it', () => {
    const long = `data: ${content(0, 'x'.repeat(400), '')}\n\n`;
    const events = [`data: ${content(0, 'a', '')}\n\n`, `data: ${content(0, 'b', '')}\n\n`, long, `data: ${content(0, 'c', '')}\n\n`];
    const fast = outcome(events, true, { maxEventBytes: 300 });
    expect(fast).toEqual(outcome(events, false, { maxEventBytes: 300 }));
    expect(fast.chunks).toBe(4);
    expect(fast.contentChunks).toBe(3);
  });

  it('reads counts mid-stream', () => {
    // Text, then bytes: every read sees all that was written.
    const held = () => {
      const acc = new Accumulator({ format: 'sse' });
      acc.write(`data: ${content(0, 'a', '')}\n\n`);
      acc.write(Buffer.from(`data: ${content(0, 'b', '')}\n\n`));
      acc.write(Buffer.from(`data: ${content(0, 'c', '')}\n\n`));
      return acc;
    };
    expect(held().chunks).toBe(3);
    expect(held().contentChunks).toBe(3);
    expect(held().nonJsonEvents).toBe(0);
    expect(held().llm()?.choices[0].text).toBe('abc');
    expect(held().attributes()['tracewire.llm.chunks']).toBe(3);
  });
});
