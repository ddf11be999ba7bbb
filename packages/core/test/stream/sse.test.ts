import fc from 'fast-check';
import { createSSEParser } from '../../src/stream';
import { SSEStreamParser } from '../../src/stream/sse';
import type { SSEEvent, SSEParserOptions } from '../../src/stream';
import { pieces, randomPieces, splitAt } from './helpers';

// WHATWG HTML §9.2.6 "Interpreting an event stream":
// https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation

function parse(chunks: Array<string | Buffer>, options?: SSEParserOptions): { events: SSEEvent[]; parser: ReturnType<typeof createSSEParser> } {
  const events: SSEEvent[] = [];
  const parser = createSSEParser((e) => events.push(e), options);
  for (const c of chunks) parser.write(typeof c === 'string' ? Buffer.from(c, 'utf8') : c);
  parser.end();
  return { events, parser };
}

const events = (chunks: Array<string | Buffer>, options?: SSEParserOptions): SSEEvent[] => parse(chunks, options).events;

/** Feeds the chunks as they are: strings as text, Buffers as bytes. */
function feedAsIs(chunks: Array<string | Buffer>, options?: SSEParserOptions): SSEEvent[] {
  const out: SSEEvent[] = [];
  const parser = createSSEParser((e) => out.push(e), options);
  for (const c of chunks) parser.write(c);
  parser.end();
  return out;
}

/** `text` cut at the given offsets, moved off the middle of a surrogate pair. */
function cutText(text: string, offsets: number[]): string[] {
  const cuts = [...new Set(offsets.map((o) => o % (text.length + 1)))]
    .map((o) => (o > 0 && o < text.length && text.charCodeAt(o - 1) >= 0xd800 && text.charCodeAt(o - 1) <= 0xdbff ? o + 1 : o))
    .filter((o) => o > 0 && o < text.length)
    .sort((a, b) => a - b);
  const out: string[] = [];
  let prev = 0;
  for (const c of [...new Set(cuts)]) {
    out.push(text.slice(prev, c));
    prev = c;
  }
  out.push(text.slice(prev));
  return out;
}
const ev = (data: string, type = 'message', id = ''): SSEEvent => ({ type, data, id });

describe('createSSEParser', () => {
  describe('line endings', () => {
    it('accepts LF, CR and CRLF alike', () => {
      const expected = [ev('a'), ev('b\nc')];
      expect(events(['data: a\n\ndata: b\ndata: c\n\n'])).toEqual(expected);
      expect(events(['data: a\r\rdata: b\rdata: c\r\r'])).toEqual(expected);
      expect(events(['data: a\r\n\r\ndata: b\r\ndata: c\r\n\r\n'])).toEqual(expected);
      expect(events(['data: a\n\r\ndata: b\rdata: c\r\n\n'])).toEqual(expected);
    });

    it('treats a CR ending one chunk and an LF starting the next as one line end', () => {
      // Two line ends here would make a blank line and dispatch "a" on its own.
      expect(events(['data: a\r', '\ndata: b\r', '\n\r', '\n'])).toEqual([ev('a\nb')]);
    });

    it('treats a CR at the end of a chunk followed by other bytes as a line end', () => {
      expect(events(['data: a\r', 'data: b\r', '\r'])).toEqual([ev('a\nb')]);
    });
  });

  describe('byte order mark', () => {
    it('removes a UTF-8 BOM at the start of the stream, even split across chunks', () => {
      const bom = Buffer.from([0xef, 0xbb, 0xbf]);
      const body = Buffer.concat([bom, Buffer.from('data: x\n\n')]);
      expect(events([body])).toEqual([ev('x')]);
      expect(events(pieces(body, 1))).toEqual([ev('x')]);
    });

    it('keeps a BOM that is not at the start (the field name is then unknown)', () => {
      expect(events(['data: x\n\n\uFEFFdata: y\n\n'])).toEqual([ev('x')]);
    });
  });

  describe('fields', () => {
    it('ignores comment lines and keep-alives', () => {
      expect(events([': keep-alive\n\n:\n\ndata: x\n: in between\n\n'])).toEqual([ev('x')]);
    });

    it('removes one optional space after the colon, not more', () => {
      expect(events(['data:x\n\ndata:  x\n\ndata: \n\n'])).toEqual([ev('x'), ev(' x'), ev('')]);
    });

    it('joins several data lines with LF', () => {
      expect(events(['data: {"a":\ndata: 1}\ndata\n\n'])).toEqual([ev('{"a":\n1}\n')]);
    });

    it('dispatches an event with an empty data field, not one without any data field', () => {
      expect(events(['event: ping\n\ndata:\n\n'])).toEqual([ev('')]);
    });

    it('sets the type from event:, defaulting to message, and resets it after each event', () => {
      expect(events(['event: delta\ndata: 1\n\ndata: 2\n\nevent\ndata: 3\n\n'])).toEqual([ev('1', 'delta'), ev('2'), ev('3')]);
    });

    it('keeps the last event id across events and ignores an id containing NUL', () => {
      expect(events(['id: 7\ndata: a\n\ndata: b\n\nid: x\u0000y\ndata: c\n\nid\ndata: d\n\n'])).toEqual([
        ev('a', 'message', '7'),
        ev('b', 'message', '7'),
        ev('c', 'message', '7'),
        ev('d', 'message', ''),
      ]);
    });

    it('records retry only when it is all ASCII digits', () => {
      expect(parse(['retry: 3000\n\n']).parser.retry).toBe(3000);
      expect(parse(['retry: 3000\nretry: 5s\nretry:\n\n']).parser.retry).toBe(3000);
    });

    it('ignores unknown fields', () => {
      expect(events(['foo: bar\ndatum: x\nlongfieldname\ndata: y\n\n'])).toEqual([ev('y')]);
    });
  });

  describe('end of stream', () => {
    it('discards a last event that has no blank line after it', () => {
      const { events: out, parser } = parse(['data: a\n\ndata: b\n']);
      expect(out).toEqual([ev('a')]);
      expect(parser.events).toBe(1);
    });

    it('discards a last line without its line end', () => {
      expect(events(['data: a\n\ndata: b'])).toEqual([ev('a')]);
    });

    it('reports pending bytes until the event is complete', () => {
      const p = createSSEParser(() => undefined);
      p.write(Buffer.from('data: a\n'));
      expect(p.pending).toBe(true);
      p.write(Buffer.from('\n'));
      expect(p.pending).toBe(false);
      p.write(Buffer.from(': comment\n'));
      expect(p.pending).toBe(false);
    });
  });

  describe('UTF-8', () => {
    it('decodes a character split across chunks at every byte', () => {
      const body = Buffer.from('data: Zürich 東京 🚀\n\n');
      for (let i = 1; i < body.length; i++) expect(events(splitAt(body, [i]))).toEqual([ev('Zürich 東京 🚀')]);
      expect(events(pieces(body, 1))).toEqual([ev('Zürich 東京 🚀')]);
    });

    it('turns malformed bytes into U+FFFD without losing the event', () => {
      expect(events([Buffer.from([0x64, 0x61, 0x74, 0x61, 0x3a, 0x20, 0xff, 0x41, 0x0a, 0x0a])])).toEqual([ev('\uFFFDA')]);
    });
  });

  describe('text input', () => {
    it('gives the same events for text as for its UTF-8 bytes, however the text is cut', () => {
      const token = fc.constantFrom('data: ', 'data:', 'event: ', 'id: ', ': c', '\n', '\r', '\r\n', '\n\n', 'x', '{"a":1}', 'ü', '東', '🚀', ' ', '\uFEFF');
      fc.assert(
        fc.property(fc.array(token, { maxLength: 60 }), fc.array(fc.nat(), { maxLength: 12 }), (tokens, cuts) => {
          const text = tokens.join('');
          const fromBytes = events([Buffer.from(text, 'utf8')]);
          expect(feedAsIs(cutText(text, cuts))).toEqual(fromBytes);
          expect(feedAsIs(cutText(text, Array.from({ length: text.length }, (_, i) => i)))).toEqual(fromBytes);
        }),
        { numRuns: 300 },
      );
    });

    it('treats a CR ending a text chunk and an LF starting a byte chunk as one line end', () => {
      expect(feedAsIs(['data: a\r', Buffer.from('\ndata: b\r'), '\n\r', Buffer.from('\n')])).toEqual([ev('a\nb')]);
    });

    it('turns bytes of a character that text interrupts into U+FFFD, as decoding the whole body does', () => {
      const cut = Buffer.from([0x64, 0x61, 0x74, 0x61, 0x3a, 0x20, 0x41, 0xe6, 0x97]); // "data: A" + 2 of 3 bytes of 東
      expect(feedAsIs([cut, 'B\n\n'])).toEqual([ev('A\uFFFDB')]);
      expect(events([Buffer.concat([cut, Buffer.from('B\n\n')])])).toEqual([ev('A\uFFFDB')]);
    });

    it('turns a lone surrogate into U+FFFD, as the string goes on the wire', () => {
      const rocket = '🚀';
      expect(feedAsIs(['data: x\uD83D\n\n'])).toEqual([ev('x\uFFFD')]);
      // An emoji cut between two writes reaches the client as two U+FFFD.
      expect(feedAsIs([`data: ${rocket[0]}`, `${rocket[1]}\n\n`])).toEqual([ev('\uFFFD\uFFFD')]);
      expect(events([`data: ${rocket[0]}`, `${rocket[1]}\n\n`])).toEqual([ev('\uFFFD\uFFFD')]);
    });
  });

  describe('bounds', () => {
    it('measures maxEventBytes in UTF-8 bytes, not characters', () => {
      const ue = (n: number) => 'ü'.repeat(n); // 2 bytes each
      // data bytes + 1 per line: 2 × 1001 = 2002 kept; 3 × 1001 = 3003 over 3000 (1503 characters).
      const body = `data: ${ue(500)}\ndata: ${ue(500)}\n\ndata: ${ue(500)}\ndata: ${ue(500)}\ndata: ${ue(500)}\n\n`;
      // A line of 6 + 2 × 1500 = 3006 bytes (1506 characters) is too long; 6 + 2 × 1497 = 3000 is not.
      const lines = `data: ${ue(1500)}\n\ndata: ${ue(1497)}\n\n`;
      for (const input of [[body + lines], [Buffer.from(body + lines)], pieces(Buffer.from(body + lines), 7)]) {
        const { events: out, parser } = parse(input, { maxEventBytes: 3000 });
        expect(out.map((e) => e.data.length)).toEqual([1001, 1497]);
        expect(parser.events).toBe(4);
        expect(parser.oversizedEvents).toBe(2);
      }
      expect(feedAsIs([body + lines], { maxEventBytes: 3000 }).map((e) => e.data.length)).toEqual([1001, 1497]);
    });

    it('counts but does not dispatch an event larger than maxEventBytes, whole or in pieces', () => {
      const big = 'x'.repeat(5000);
      const body = Buffer.from(`data: a\n\ndata: ${big}\n\ndata: ${big.slice(0, 2000)}\ndata: ${big.slice(0, 2000)}\n\ndata: b\n\n`);
      for (const chunks of [[body], pieces(body, 7), pieces(body, 1000)]) {
        const { events: out, parser } = parse(chunks, { maxEventBytes: 3000 });
        expect(out).toEqual([ev('a'), ev('b')]);
        expect(parser.events).toBe(4);
        expect(parser.oversizedEvents).toBe(2);
        expect(parser.retainedBytes).toBeLessThanOrEqual(4096);
      }
    });

    it('keeps its line buffer bounded while a huge line streams through', () => {
      const p = createSSEParser(() => undefined, { maxEventBytes: 10_000 });
      p.write(Buffer.from('data: '));
      for (let i = 0; i < 1000; i++) {
        p.write(Buffer.alloc(1000, 0x61));
        expect(p.retainedBytes).toBeLessThanOrEqual(16 * 1024);
      }
      p.write(Buffer.from('\n\n'));
      expect(p.oversizedEvents).toBe(1);
    });
  });

  describe('re-chunking', () => {
    // Streams made of SSE-significant pieces: every kind of line end, BOM, comments, fields,
    // multi-byte characters, blank lines.
    const token = fc.constantFrom(
      'data: ', 'data:', 'data', 'event: ', 'id: ', 'retry: ', ': c', '\n', '\r', '\r\n', '\n\n', '\r\n\r\n',
      'x', '{"a":1}', 'ü', '東', '🚀', ' ', ':', '\uFEFF', '0', '[DONE]',
    );
    const stream = fc.array(token, { maxLength: 60 }).map((t) => Buffer.from(t.join(''), 'utf8'));

    it('gives the same events however the same bytes are cut', () => {
      fc.assert(
        fc.property(stream, fc.array(fc.nat(), { maxLength: 12 }), (body, cuts) => {
          const whole = events([body]);
          expect(events(splitAt(body, cuts.map((c) => c % (body.length + 1))))).toEqual(whole);
          expect(events(pieces(body, 1))).toEqual(whole);
        }),
        { numRuns: 300 },
      );
    });

    it('gives the same events for random piece sizes of a long stream', () => {
      const body = Buffer.from(
        Array.from({ length: 200 }, (_, i) => `id: ${i}\r\nevent: t${i % 3}\r\ndata: {"n":${i},"s":"Zü東🚀"}\r\ndata: second\r\n\r\n: ping\n\n`).join(''),
      );
      const whole = events([body]);
      expect(whole).toHaveLength(200);
      for (let seed = 1; seed <= 5; seed++) expect(events(randomPieces(body, seed, 300))).toEqual(whole);
    });
  });

  describe('simple events taken whole (the fast path)', () => {
    // `data: <text>` LF LF events at an event start go past the line-by-line path in one step;
    // everything around them (other fields, CR, comments, BOM, oversize, cuts) must come out the same.
    const piece = fc.constantFrom(
      'data: {"a":1}\n\n', 'data: x\n\n', 'data: \n\n', 'data: [DONE]\n\n', 'data: ü東🚀\n\n', 'data:x\n\n', 'data: a\r\n\r\n',
      'data: a\ndata: b\n\n', 'event: t\ndata: e\n\n', 'id: 7\n', ': ping\n', '\n', '\r', 'data: ', '\uFEFF', 'retry: 5\n', 'x', 'data: ' + 'y'.repeat(40) + '\n\n',
    );
    const stream = fc.array(piece, { maxLength: 40 }).map((t) => t.join(''));
    const parserState = (chunks: Array<string | Buffer>, fastPath: boolean, maxEventBytes?: number) => {
      const out: SSEEvent[] = [];
      const parser = createSSEParser((e) => out.push(e), { fastPath, maxEventBytes });
      for (const c of chunks) parser.write(c);
      const counts = { events: parser.events, oversized: parser.oversizedEvents, pending: parser.pending, retry: parser.retry };
      parser.end();
      return { out, counts };
    };

    it('gives the events and counts of the line-by-line path, as text or bytes, however cut (property)', () => {
      fc.assert(
        fc.property(stream, fc.array(fc.nat(), { maxLength: 10 }), fc.boolean(), fc.constantFrom(undefined, 30, 64), (body, cuts, asText, max) => {
          const bytes = Buffer.from(body, 'utf8');
          const chunks = asText ? cutText(body, cuts) : splitAt(bytes, cuts.map((c) => c % (bytes.length + 1)));
          expect(parserState(chunks, true, max)).toEqual(parserState([bytes], false, max));
        }),
        { numRuns: 1000 },
      );
    });

    it('hands over each event\'s data as a view of the chunk, counted as it goes', () => {
      const seen: Array<[string, number, number]> = [];
      const parser = new SSEStreamParser((type, _text, start, end) => seen.push([type, start, end]));
      const chunk = 'data: one\n\ndata: two\n\n';
      parser.write(chunk);
      expect(parser.events).toBe(2);
      expect(seen).toEqual([['message', 6, 9], ['message', 17, 20]]);
    });
  });
});
