import fc from 'fast-check';
import { createNDJSONParser } from '../../src/stream';
import type { NDJSONParserOptions } from '../../src/stream';
import { pieces, splitAt } from './helpers';

function lines(chunks: Array<string | Buffer>, options?: NDJSONParserOptions, abort = false): { out: string[]; parser: ReturnType<typeof createNDJSONParser> } {
  const out: string[] = [];
  const parser = createNDJSONParser((l) => out.push(l), options);
  for (const c of chunks) parser.write(typeof c === 'string' ? Buffer.from(c) : c);
  if (abort) parser.abort();
  else parser.end();
  return { out, parser };
}

describe('createNDJSONParser', () => {
  it('splits on LF and CRLF and skips blank lines', () => {
    const { out, parser } = lines(['{"a":1}\n{"b":2}\r\n\n  \r\n{"c":3}\n']);
    expect(out).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
    expect(parser.lines).toBe(3);
  });

  it('hands over a last line without its newline at end()', () => {
    expect(lines(['{"a":1}\n{"b":2}']).out).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('drops a last unfinished line when the stream is aborted', () => {
    expect(lines(['{"a":1}\n{"b":'], {}, true).out).toEqual(['{"a":1}']);
  });

  it('removes a leading BOM', () => {
    expect(lines([Buffer.from([0xef, 0xbb, 0xbf]), '{"a":1}\n']).out).toEqual(['{"a":1}']);
  });

  it('does not treat a lone CR as a line end', () => {
    expect(lines(['{"a":"x\ry"}\n']).out).toEqual(['{"a":"x\ry"}']);
  });

  it('decodes characters split across chunks', () => {
    const body = Buffer.from('{"city":"Zürich 🚀"}\n');
    for (let i = 1; i < body.length; i++) expect(lines(splitAt(body, [i])).out).toEqual(['{"city":"Zürich 🚀"}']);
  });

  it('counts an oversized line without keeping it', () => {
    const body = `{"a":1}\n{"big":"${'x'.repeat(5000)}"}\n{"b":2}\n`;
    for (const chunks of [[body], pieces(Buffer.from(body), 100)]) {
      const { out, parser } = lines(chunks, { maxLineBytes: 1000 });
      expect(out).toEqual(['{"a":1}', '{"b":2}']);
      expect(parser.lines).toBe(3);
      expect(parser.oversizedLines).toBe(1);
    }
  });

  it('reads text chunks as it reads their UTF-8 bytes', () => {
    const body = '{"a":"Zü"}\r\n\n  \n{"b":"東🚀"}\n{"c":';
    const fromBytes = lines([Buffer.from(body)]).out;
    const out: string[] = [];
    const parser = createNDJSONParser((l) => out.push(l));
    for (const piece of ['{"a":"Z', 'ü"}\r', '\n\n  \n{"b":"東', '🚀"}\n{"c":']) parser.write(piece);
    parser.end();
    expect(out).toEqual(fromBytes);
    expect(out).toEqual(['{"a":"Zü"}', '{"b":"東🚀"}', '{"c":']);
  });

  it('measures maxLineBytes in UTF-8 bytes, not characters', () => {
    // 900 characters: 1800 bytes of ü is over 1000, 900 bytes of x is not.
    const body = `{"a":"${'ü'.repeat(900)}"}\n{"b":"${'x'.repeat(900)}"}\n`;
    for (const chunks of [[body], pieces(Buffer.from(body), 100)]) {
      const { out, parser } = lines(chunks, { maxLineBytes: 1000 });
      expect(out).toEqual([`{"b":"${'x'.repeat(900)}"}`]);
      expect(parser.oversizedLines).toBe(1);
    }
  });

  it('gives the same lines however the same bytes are cut', () => {
    const token = fc.constantFrom('{"a":1}', '\n', '\r\n', '\r', ' ', 'ü', '🚀', 'x', '"');
    fc.assert(
      fc.property(fc.array(token, { maxLength: 50 }), fc.array(fc.nat(), { maxLength: 10 }), (tokens, cuts) => {
        const body = Buffer.from(tokens.join(''));
        const whole = lines([body]).out;
        expect(lines(splitAt(body, cuts.map((c) => c % (body.length + 1)))).out).toEqual(whole);
        expect(lines(pieces(body, 1)).out).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });
});
