import fc from 'fast-check';
import { LineSplitter, detach, longerThan, utf8Length, wellFormed } from '../../src/stream/lines';

/** The lines a splitter hands over for these chunks (each as a string), and its overflow count. */
function split(chunks: Array<string | Uint8Array>, crIsLineEnd: boolean, maxLineBytes = 1024, flush = true): { lines: string[]; overflowed: number } {
  const lines: string[] = [];
  let overflowed = 0;
  const s = new LineSplitter((text, start, end) => lines.push(text.slice(start, end)), () => overflowed++, crIsLineEnd, maxLineBytes);
  for (const c of chunks) s.write(c);
  if (flush) s.flush();
  return { lines, overflowed };
}

describe('LineSplitter', () => {
  it('splits on LF, and on CR and CRLF when CR ends lines (SSE), a CRLF split across chunks counting once', () => {
    expect(split(['a\nb\r\nc\rd\n'], true).lines).toEqual(['a', 'b', 'c', 'd']);
    expect(split(['a\r', '\nb\n'], true).lines).toEqual(['a', 'b']);
    // NDJSON: only LF ends a line (the CR stays for the NDJSON parser to strip).
    expect(split(['a\r\nb\rc\n'], false).lines).toEqual(['a\r', 'b\rc']);
  });

  it('joins a line cut across chunks, and a character cut across byte chunks', () => {
    const bytes = Buffer.from('héllo 🚀\nwörld\n');
    const chunks = [bytes.subarray(0, 2), bytes.subarray(2, 9), bytes.subarray(9, 10), bytes.subarray(10)];
    expect(split(chunks, false).lines).toEqual(['héllo 🚀', 'wörld']);
  });

  it('hands the unterminated last line over on flush, and forgets it on discard', () => {
    expect(split(['a\nrest'], false).lines).toEqual(['a', 'rest']);
    const lines: string[] = [];
    const s = new LineSplitter((t, a, b) => lines.push(t.slice(a, b)), () => undefined, false, 64);
    s.write('a\nrest');
    expect(s.hasPartialLine).toBe(true);
    s.discard();
    s.flush();
    expect(lines).toEqual(['a']);
  });

  it('drops a line longer than maxLineBytes (counted), keeping no more than that of it', () => {
    const long = 'x'.repeat(50);
    const { lines, overflowed } = split([`ok\n${long.slice(0, 20)}`, `${long.slice(20)}\nafter\n`], false, 16);
    expect(lines).toEqual(['ok', 'after']);
    expect(overflowed).toBe(1);
    const s = new LineSplitter(() => undefined, () => undefined, false, 16);
    s.write('y'.repeat(40));
    expect(s.retainedBytes).toBeLessThanOrEqual(16);
  });

  it('counts bytes, not characters, against the limit', () => {
    // 6 characters, 12 bytes of UTF-8.
    expect(split(['éééééé\n'], false, 11).overflowed).toBe(1);
    expect(split(['éééééé\n'], false, 12).lines).toEqual(['éééééé']);
  });

  it('gives the same lines however the same bytes are cut, as text or bytes (property)', () => {
    const piece = fc.constantFrom('a', 'ü', '🚀', '\n', '\r', '\r\n', '{"x":1}', ' ');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 8 }), fc.boolean(), (parts, cuts, cr) => {
        const bytes = Buffer.from(parts.join(''));
        const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((x, y) => x - y);
        const chunks: Uint8Array[] = [];
        let prev = 0;
        for (const p of [...at, bytes.length]) {
          chunks.push(bytes.subarray(prev, p));
          prev = p;
        }
        expect(split(chunks, cr)).toEqual(split([bytes.toString('utf8')], cr));
      }),
      { numRuns: 500 },
    );
  });

  it('lets a skip hook take lines from a line start, and tells it where the next CR is', () => {
    const lines: string[] = [];
    const s = new LineSplitter((t, a, b) => lines.push(t.slice(a, b)), () => undefined, true, 64);
    const seen: Array<[number, number]> = [];
    s.skip = (text, pos, cr) => {
      seen.push([pos, cr]);
      // Takes one `skip` line when it starts there.
      return text.startsWith('skip\n', pos) ? pos + 5 : pos;
    };
    s.write('skip\nkeep\n\nskip\nx\r\n');
    expect(lines).toEqual(['keep', '', 'x']);
    expect(seen).toEqual([[0, 17], [11, 17]]);
  });
});

describe('utf8Length, longerThan, wellFormed, detach', () => {
  it('measures UTF-8 as Buffer.from encodes it (a lone surrogate as U+FFFD, 3 bytes)', () => {
    for (const s of ['', 'abc', 'é', '東', '🚀', 'a\ud800b', 'x'.repeat(40) + '🚀']) expect(utf8Length(s)).toBe(Buffer.byteLength(s));
    expect(utf8Length('ab🚀cd', 2, 4)).toBe(4);
  });

  it('decides by length alone when it can, and measures only in between', () => {
    expect(longerThan('abc', 0, 3, 9)).toBe(false);
    expect(longerThan('abcd', 0, 4, 3)).toBe(true);
    expect(longerThan('ééé', 0, 3, 5)).toBe(true);
    expect(longerThan('ééé', 0, 3, 6)).toBe(false);
  });

  it('turns a lone surrogate into U+FFFD, as the wire will', () => {
    expect(wellFormed('ok')).toBe('ok');
    expect(wellFormed('a\ud800')).toBe('a\ufffd');
  });

  it('copies a long substring and keeps its text', () => {
    const s = 'y'.repeat(100).slice(10, 60);
    expect(detach(s)).toBe(s);
    expect(detach('short')).toBe('short');
  });
});
