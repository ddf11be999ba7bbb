import { createStreamAccumulator, streamFormatFor } from '../../src/stream';
import { Accumulator } from '../../src/stream/accumulator';
import type { StreamAccumulator } from '../../src/stream';
import { now } from '../../src/internal/clock';
import { memoryTracer } from '../helpers';
import { feed, loadFixtures, pieces, randomTextPieces, sse } from './helpers';
import type { Fixture } from './helpers';

const fixtures = loadFixtures();
const fixture = (name: string): Fixture => fixtures.find((f) => f.name === name) as Fixture;

describe('streamFormatFor', () => {
  it('picks the format from the content type', () => {
    expect(streamFormatFor('text/event-stream; charset=utf-8')).toBe('sse');
    expect(streamFormatFor('Text/Event-Stream')).toBe('sse');
    expect(streamFormatFor('text/event-stream')).toBe('sse');
    expect(streamFormatFor(' text/event-stream ;charset=utf-8')).toBe('sse');
    expect(streamFormatFor('text/event-streams')).toBe('chunked');
    expect(streamFormatFor('text/event-stream-x; a=b')).toBe('chunked');
    expect(streamFormatFor('application/x-ndjson')).toBe('ndjson');
    expect(streamFormatFor('application/jsonl; charset=utf-8')).toBe('ndjson');
    expect(streamFormatFor('application/json')).toBe('chunked');
    expect(streamFormatFor(undefined)).toBe('chunked');
  });
});

describe('createStreamAccumulator', () => {
  describe('attributes()', () => {
    it('describes an LLM stream with the DESIGN.md attribute names', () => {
      const f = fixture('openai-chat-text-usage');
      const start = now() - 2000;
      const acc = feed([f.bytes], { contentType: 'text/event-stream', startTime: start, requestModel: 'gpt-4o-mini' });
      const a = acc.attributes();
      expect(a).toMatchObject({
        'tracewire.stream.format': 'sse',
        'tracewire.stream.chunks': 28,
        'tracewire.stream.bytes': 9108,
        'gen_ai.provider.name': 'openai',
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
        'gen_ai.response.id': 'chatcmpl-CA74OeiizMQq6t4YQTEnc9VPFs25F',
        'gen_ai.request.stream': true,
        'gen_ai.response.finish_reasons': ['stop'],
        'gen_ai.usage.input_tokens': 19,
        'gen_ai.usage.output_tokens': 24,
        'gen_ai.usage.cache_read.input_tokens': 0,
        'gen_ai.usage.reasoning.output_tokens': 0,
        'tracewire.llm.chunks': 24,
        // gpt-4o-mini: 19 × $0.15 + 24 × $0.60 per million
        'tracewire.usage.cost': 0.00001725,
      });
      const ttfb = a['tracewire.stream.time_to_first_byte'] as number;
      const ttfc = a['gen_ai.response.time_to_first_chunk'] as number;
      const duration = a['tracewire.stream.duration'] as number;
      expect(ttfb).toBeGreaterThanOrEqual(2);
      expect(ttfb).toBeLessThan(10);
      expect(ttfc).toBeGreaterThanOrEqual(ttfb);
      expect(duration).toBeGreaterThanOrEqual(ttfc);
      for (const key of ['tracewire.stream.aborted', 'tracewire.llm.truncated', 'gen_ai.input.messages', 'gen_ai.output.messages', 'gen_ai.usage.cache_creation.input_tokens']) {
        expect(a).not.toHaveProperty([key]);
      }
    });

    it('adds cached and cache-write tokens into the input count for Anthropic and prices them apart', () => {
      const f = fixture('anthropic-tool-use');
      const a = feed([f.bytes]).attributes();
      expect(a['gen_ai.usage.input_tokens']).toBe(2539);
      expect(a['gen_ai.usage.cache_read.input_tokens']).toBe(2150);
      expect(a['gen_ai.usage.cache_write.input_tokens']).toBe(0);
      // claude-haiku-4-5: 389 × $1 + 2150 × $0.10 + 142 × $5 per million
      expect(a['tracewire.usage.cost']).toBeCloseTo(0.001314, 12);
    });

    it('leaves usage and cost out when the stream carried no usage', () => {
      const f = fixture('openai-chat-text-usage');
      // The same stream without include_usage: drop the usage-only chunk.
      const body = f.bytes
        .toString('utf8')
        .split('\n\n')
        .filter((e) => !e.includes('"choices":[]'))
        .join('\n\n');
      const a = feed([body]).attributes();
      expect(Object.keys(a).filter((k) => k.includes('usage'))).toEqual([]);
      expect(a['gen_ai.response.finish_reasons']).toEqual(['stop']);
    });

    it('prices with the user table first', () => {
      const f = fixture('openai-chat-text-usage');
      const a = feed([f.bytes], { pricing: { 'gpt-4o-mini': { input: 1, output: 2 } } }).attributes();
      expect(a['tracewire.usage.cost']).toBeCloseTo((19 * 1 + 24 * 2) / 1e6, 12);
    });

    it('records no message content unless captureContent is on', () => {
      const f = fixture('anthropic-tool-use');
      const off = feed([f.bytes], { inputMessages: f.request }).attributes();
      expect(off).not.toHaveProperty(['gen_ai.output.messages']);
      expect(off).not.toHaveProperty(['gen_ai.input.messages']);
    });

    it('records input and output messages in the GenAI schema with captureContent', () => {
      const f = fixture('anthropic-tool-use');
      const a = feed([f.bytes], { captureContent: true, inputMessages: f.request }).attributes();
      expect(JSON.parse(a['gen_ai.input.messages'] as string)).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'Weather and local time in Zürich?' }] }]);
      expect(JSON.parse(a['gen_ai.output.messages'] as string)).toEqual([
        {
          role: 'assistant',
          parts: [
            { type: 'text', content: "I'll check the weather and the local time in Zürich for you." },
            { type: 'tool_call', id: 'toolu_01yu0upFJiFZJJerJa1BIgB8', name: 'get_weather', arguments: { location: 'Zürich, Switzerland', unit: 'celsius' } },
            { type: 'tool_call', id: 'toolu_01yEMuV542et3cWzbYZjpHjB', name: 'get_local_time', arguments: { timezone: 'Europe/Zurich' } },
          ],
          finish_reason: 'tool_call',
        },
      ]);
    });

    it('caps captured text at maxBytes and keeps counting past it', () => {
      const words = Array.from({ length: 500 }, (_, i) => ({
        id: 'c1',
        object: 'chat.completion.chunk',
        model: 'gpt-4o',
        choices: [{ index: 0, delta: { content: `wörd${i} ` }, finish_reason: null }],
      }));
      const body = sse([
        ...words,
        { id: 'c1', object: 'chat.completion.chunk', model: 'gpt-4o', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
        { id: 'c1', object: 'chat.completion.chunk', model: 'gpt-4o', choices: [], usage: { prompt_tokens: 3, completion_tokens: 1000 } },
        '[DONE]',
      ]);
      const acc = feed([body], { maxBytes: 200, captureContent: true });
      const r = acc.llm();
      expect(Buffer.byteLength(r?.choices[0].text ?? '')).toBeLessThanOrEqual(200);
      expect(r?.choices[0].text?.startsWith('wörd0 wörd1 ')).toBe(true);
      expect(r?.contentTruncated).toBe(true);
      expect(r?.usage).toEqual({ input: 3, output: 1000 });
      expect(acc.contentChunks).toBe(500);
      const out = acc.attributes()['gen_ai.output.messages'] as string;
      expect(Buffer.byteLength(out)).toBeLessThanOrEqual(200);
      expect(JSON.parse(out)[0].parts[0].type).toBe('text');
    });
  });

  describe('abort()', () => {
    it('keeps the partial output and the usage known so far when the stream is cut mid-event', () => {
      const f = fixture('anthropic-tool-use');
      const cut = f.bytes.indexOf('rland') + 2; // inside the 5th input_json_delta event
      const acc = feed(pieces(f.bytes.subarray(0, cut), 100), {}, false);
      acc.abort();
      const r = acc.llm();
      expect(r).toMatchObject({ truncated: true, id: 'msg_01ZcPP9FOAqnR4etYznht59L', usage: { input: 2539, cached: 2150, cacheCreation: 0 } });
      expect(r?.usage.output).toBeUndefined();
      expect(r?.choices[0].text).toBe("I'll check the weather and the local time in Zürich for you.");
      expect(r?.choices[0].toolCalls).toEqual([{ id: 'toolu_01yu0upFJiFZJJerJa1BIgB8', name: 'get_weather', arguments: '{"location": "Zürich, Switze' }]);
      expect(r?.choices[0].finishReason).toBeNull();
      const a = acc.attributes();
      expect(a['tracewire.stream.aborted']).toBe(true);
      expect(a['tracewire.llm.truncated']).toBe(true);
      expect(a).not.toHaveProperty(['tracewire.usage.cost']);
    });

    it('marks a stream that ended without its terminal event as truncated, not aborted', () => {
      const f = fixture('openai-responses-text');
      const acc = feed([f.bytes.subarray(0, f.bytes.indexOf('event: response.completed'))]);
      expect(acc.llm()?.truncated).toBe(true);
      expect(acc.llm()?.choices[0].text).toBe(f.expected.choices[0].text);
      expect(acc.attributes()).not.toHaveProperty(['tracewire.stream.aborted']);
    });

    it('does not mark a stream cut after its terminal event', () => {
      const f = fixture('openai-chat-text-usage');
      const acc = feed([f.bytes], {}, false);
      acc.abort();
      expect(acc.llm()?.truncated).toBe(false);
      expect(acc.attributes()['tracewire.stream.aborted']).toBe(true);
    });
  });

  describe('applyTo()', () => {
    async function spanOf(acc: StreamAccumulator) {
      const { tracer, exporter } = memoryTracer();
      const span = tracer.startSpan('GET /chat');
      acc.applyTo(span);
      span.end();
      await tracer.forceFlush();
      await tracer.shutdown();
      return exporter.spans()[0];
    }

    it('sets the attributes and leaves the status alone for a clean stream', async () => {
      const acc = feed([fixture('openai-responses-text').bytes]);
      const span = await spanOf(acc);
      expect(span.attributes).toMatchObject(acc.attributes() as Record<string, unknown>);
      expect(span.status.code).toBe('unset');
      expect(span.attributes).not.toHaveProperty(['error.type']);
    });

    it('sets status Error and error.type from an in-band provider error', async () => {
      const acc = feed(['event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n']);
      const span = await spanOf(acc);
      expect(span.status).toEqual({ code: 'error', message: 'Overloaded' });
      expect(span.attributes['error.type']).toBe('overloaded_error');
    });

    it('sets the same attributes when the tap keeps no text (keepText false), and keeps it for captureContent', async () => {
      for (const f of fixtures) {
        for (const captureContent of [false, true]) {
          const kept = new Accumulator({ format: 'sse', captureContent, startTime: 0 });
          const bare = new Accumulator({ format: 'sse', captureContent, startTime: 0, keepText: false });
          for (const p of pieces(f.bytes, 200)) {
            kept.write(p);
            bare.write(p);
          }
          kept.end();
          bare.end();
          const [a, b] = [await spanOf(kept), await spanOf(bare)];
          const timeless = (x: Record<string, unknown>) => Object.fromEntries(Object.entries(x).filter(([k]) => !/time|duration/.test(k)));
          expect(timeless(b.attributes)).toEqual(timeless(a.attributes));
          expect(bare.retainedBytes).toBe(captureContent ? kept.retainedBytes : 0);
        }
      }
    });

    it('sets error.type client_aborted for an aborted stream', async () => {
      const acc = feed([fixture('openai-chat-text-usage').bytes.subarray(0, 3000)], {}, false);
      acc.abort();
      const span = await spanOf(acc);
      expect(span.status.code).toBe('error');
      expect(span.attributes['error.type']).toBe('client_aborted');
      expect(span.attributes['tracewire.stream.aborted']).toBe(true);
      expect(span.attributes['tracewire.llm.truncated']).toBe(true);
    });
  });

  describe('write()', () => {
    it('counts writes and bytes only for a chunked body', () => {
      const acc = createStreamAccumulator({ contentType: 'application/octet-stream' });
      acc.write('héllo');
      acc.write(new Uint8Array([1, 2, 3]));
      acc.write(Buffer.alloc(0));
      acc.write('00ff', 'hex');
      acc.end();
      expect(acc.format).toBe('chunked');
      expect(acc.chunks).toBe(3);
      expect(acc.bytes).toBe(6 + 3 + 2);
      expect(acc.llm()).toBeUndefined();
    });

    it('encodes strings with the given encoding', () => {
      const body = fixture('openai-chat-tool-calls-parallel').bytes;
      const acc = createStreamAccumulator({ format: 'sse' });
      for (const p of pieces(body, 333)) acc.write(p.toString('base64'), 'base64');
      acc.end();
      expect(acc.bytes).toBe(body.length);
      expect(acc.llm()?.choices[0].toolCalls).toHaveLength(2);
    });

    it('reads strings and Buffers mixed in one stream as the bytes they make', () => {
      const body = fixture('anthropic-tool-use').bytes;
      const chunks = randomTextPieces(body.toString('utf8'), 3, 80).map((p, i) => (i % 2 === 0 ? p : Buffer.from(p)));
      const mixed = feed(chunks);
      const whole = feed([body]);
      expect(mixed.llm()).toEqual(whole.llm());
      expect(mixed.bytes).toBe(body.length);
      expect([mixed.chunks, mixed.contentChunks, mixed.firstContentChunk]).toEqual([whole.chunks, whole.contentChunks, whole.firstContentChunk]);
    });

    it('reads a Uint8Array view without copying the whole underlying buffer', () => {
      const body = fixture('anthropic-text').bytes;
      const big = new Uint8Array(body.length + 20);
      big.set(body, 10);
      const acc = createStreamAccumulator({ format: 'sse' });
      acc.write(new Uint8Array(big.buffer, 10, body.length));
      acc.end();
      expect(acc.llm()?.id).toBe('msg_014UBuh2CSxYAZrn1sKAfolS');
    });

    it('never throws, whatever it is given, and ignores writes after end()', () => {
      const acc = createStreamAccumulator({ format: 'sse' });
      expect(() => {
        acc.write(null as unknown as string);
        acc.write(42 as unknown as string);
        acc.write({} as unknown as string);
        acc.write('x', 'no-such-encoding' as BufferEncoding);
        acc.end();
        acc.write('data: {}\n\n');
        acc.abort();
      }).not.toThrow();
      expect(acc.bytes).toBe(0);
      expect(acc.aborted).toBe(false);
    });
  });

  // What these streams cost in heap is measured in bench/stream-heap.js; here, what is held.
  describe('memory', () => {
    /** Writes `total` bytes of `unit` repeated, in 64 KiB chunks whose boundaries drift across events. */
    function stream(acc: StreamAccumulator, unit: Buffer, total: number, probe: (written: number) => void): void {
      const size = 64 * 1024;
      let offset = 0;
      let written = 0;
      while (written < total) {
        const chunk = Buffer.allocUnsafe(size);
        for (let i = 0; i < size; ) {
          const n = Math.min(size - i, unit.length - offset);
          unit.copy(chunk, i, offset, offset + n);
          i += n;
          offset = (offset + n) % unit.length;
        }
        acc.write(chunk);
        written += size;
        if (written % (8 * 1024 * 1024) === 0) probe(written);
      }
    }

    const event = (i: number) =>
      JSON.stringify({ id: 'chatcmpl-x', object: 'chat.completion.chunk', model: 'gpt-4o-mini', choices: [{ index: 0, delta: { content: `token ${i} ü ` }, finish_reason: null }] });

    it.each([
      ['SSE', 'sse' as const, (i: number) => `data: ${event(i)}\n\n`],
      ['NDJSON', 'ndjson' as const, (i: number) => `${event(i)}\n`],
    ])('holds no more than the capped text and one line over a 50 MB %s stream', (_name, format, line) => {
      const unit = Buffer.from(Array.from({ length: 997 }, (_, i) => line(i)).join(''));
      const acc = createStreamAccumulator({ format });
      let maxRetained = 0;
      stream(acc, unit, 50 * 1024 * 1024, () => {
        maxRetained = Math.max(maxRetained, acc.retainedBytes);
      });
      // Only the captured text (32 KiB cap) and the tail of one line are held.
      expect(maxRetained).toBeLessThanOrEqual(32 * 1024 + 64 * 1024);
      expect(acc.chunks).toBeGreaterThan(200_000);
      expect(acc.contentChunks).toBeGreaterThan(200_000);
      expect(acc.llm()?.contentTruncated).toBe(true);
      acc.end();
    }, 60_000);

    it('keeps the captured text of a stream written as 64 KiB strings, up to its cap', () => {
      // One event per 64 KiB string (the rest a comment). That no chunk stays alive for the text
      // it holds (a V8 substring is a view of its whole chunk) is bench/stream-heap.js's check.
      const padding = `: ${'x'.repeat(64 * 1024)}\n`;
      const chunk = (i: number) =>
        `${padding}data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model: 'gpt-4o', choices: [{ index: 0, delta: { content: `${i} ${'y'.repeat(96)}` }, finish_reason: null }] })}\n\n`;
      const acc = createStreamAccumulator({ format: 'sse' });
      for (let i = 0; i < 400; i++) acc.write(chunk(i));
      expect(acc.llm()?.contentTruncated).toBe(true); // the 32 KiB of text are all kept
      expect(acc.retainedBytes).toBeLessThanOrEqual(32 * 1024 + 64 * 1024);
    }, 60_000);
  });
});
