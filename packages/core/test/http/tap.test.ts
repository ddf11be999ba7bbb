import http from 'node:http';
import { createServerInstrumentation } from '../../src';
import type { ServerTracingOptions, Tracer } from '../../src';
import { memoryTracer } from '../helpers';
import { listen, request } from '../../../../test-utils/http';
import { loadFixtures } from '../../../../test-utils/fixtures';
import { createStreamAccumulator } from '../../src';

jest.setTimeout(60000);

/** A bare node:http server traced by core's ServerInstrumentation (what every adapter uses). */
async function serve(tracer: Tracer, handler: (req: http.IncomingMessage, res: http.ServerResponse) => void, options: ServerTracingOptions = {}) {
  const inst = createServerInstrumentation({ tracer, ...options }, 'test');
  const server = http.createServer((req, res) => {
    const state = inst.start(req, res);
    inst.run(state, () => handler(req, res));
  });
  return listen(server);
}

describe('ResponseTap', () => {
  it('passes every byte through unchanged: strings in any encoding, Buffers and Uint8Arrays', async () => {
    const { tracer, exporter } = memoryTracer();
    const parts: Array<[string | Uint8Array, BufferEncoding?]> = [
      ['data: héllo wörld ✓\n\n', 'utf8'],
      [Buffer.from('data: latin-1 café\n\n', 'latin1').toString('latin1'), 'latin1'],
      [Buffer.from('data: base64 ✓\n\n').toString('base64'), 'base64'],
      [Buffer.from('data: hex\n\n').toString('hex'), 'hex'],
      [Buffer.from('data: buffer 🚀\n\n')],
      [new Uint8Array(Buffer.from('data: uint8array\n\n'))],
    ];
    const expected = Buffer.concat(parts.map(([c, enc]) => (typeof c === 'string' ? Buffer.from(c, enc) : Buffer.from(c))));
    const server = await serve(tracer, (_req, res) => {
      res.setHeader('content-type', 'text/event-stream');
      for (const [c, enc] of parts) {
        if (enc) res.write(c as string, enc);
        else res.write(c);
      }
      res.end();
    });
    try {
      const res = await request(server.url);
      expect(res.raw.equals(expected)).toBe(true);
      const [trace] = await exporter.waitFor(1);
      expect(trace.spans[0].attributes['tracewire.stream.bytes']).toBe(expected.length);
      expect(trace.spans[0].attributes['tracewire.stream.chunks']).toBe(6);
    } finally {
      await server.close();
      await tracer.shutdown();
    }
  });

  it('keeps backpressure: write() return values, drain and callbacks are the originals', async () => {
    const { tracer } = memoryTracer();
    const seen: { falses: number; drains: number; callbacks: number } = { falses: 0, drains: 0, callbacks: 0 };
    const big = Buffer.alloc(1 << 20, 0x61);
    const server = await serve(tracer, (_req, res) => {
      res.setHeader('content-type', 'application/octet-stream');
      res.on('drain', () => seen.drains++);
      let i = 0;
      const pump = () => {
        while (i < 16) {
          i++;
          const ok = res.write(big, () => seen.callbacks++);
          if (!ok) {
            seen.falses++;
            res.once('drain', pump);
            return;
          }
        }
        res.end(() => seen.callbacks++);
      };
      pump();
    });
    try {
      const res = await request(server.url);
      expect(res.raw.length).toBe(16 << 20);
      expect(seen.falses).toBeGreaterThan(0);
      expect(seen.drains).toBe(seen.falses);
      expect(seen.callbacks).toBe(17);
    } finally {
      await server.close();
      await tracer.shutdown();
    }
  });

  it('counts writes and bytes of a chunked body that is neither SSE nor NDJSON', async () => {
    const { tracer, exporter } = memoryTracer();
    const server = await serve(tracer, (_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.write('one ');
      res.write('two ');
      res.end('three');
    });
    try {
      await request(server.url);
      const [trace] = await exporter.waitFor(1);
      const a = trace.spans[0].attributes;
      expect(a['tracewire.stream.format']).toBe('chunked');
      expect(a['tracewire.stream.chunks']).toBe(3); // write, write, and the chunk given to end()
      expect(a['tracewire.stream.bytes']).toBe(13);
      expect(typeof a['tracewire.stream.time_to_first_byte']).toBe('number');
      expect(a['gen_ai.provider.name']).toBeUndefined();
    } finally {
      await server.close();
      await tracer.shutdown();
    }
  });

  it('adds no stream attributes to a body sent whole', async () => {
    const { tracer, exporter } = memoryTracer();
    const server = await serve(tracer, (_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
    try {
      await request(server.url);
      const [trace] = await exporter.waitFor(1);
      expect(Object.keys(trace.spans[0].attributes).filter((k) => k.startsWith('tracewire.stream'))).toEqual([]);
    } finally {
      await server.close();
      await tracer.shutdown();
    }
  });

  it('reads the content type from headers passed to writeHead', async () => {
    const { tracer, exporter } = memoryTracer();
    const server = await serve(tracer, (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      res.write('{"a":1}\n');
      res.end('{"a":2}\n');
    });
    try {
      await request(server.url);
      const [trace] = await exporter.waitFor(1);
      expect(trace.spans[0].attributes['tracewire.stream.format']).toBe('ndjson');
      expect(trace.spans[0].attributes['tracewire.stream.chunks']).toBe(2);
    } finally {
      await server.close();
      await tracer.shutdown();
    }
  });

  it('taps nothing with stream: false, and only the listed formats otherwise', async () => {
    const { tracer, exporter } = memoryTracer();
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      res.setHeader('content-type', req.url === '/sse' ? 'text/event-stream' : 'application/x-ndjson');
      res.write(req.url === '/sse' ? 'data: {}\n\n' : '{}\n');
      res.end();
    };
    const off = await serve(tracer, handler, { stream: false });
    const sseOnly = await serve(tracer, handler, { stream: { formats: ['sse'] } });
    try {
      await request(`${off.url}/sse`);
      await request(`${sseOnly.url}/ndjson`);
      await request(`${sseOnly.url}/sse`);
      const traces = await exporter.waitFor(3);
      const formats = traces.map((t) => t.spans[0].attributes['tracewire.stream.format']);
      expect(formats).toEqual([undefined, undefined, 'sse']);
    } finally {
      await off.close();
      await sseOnly.close();
      await tracer.shutdown();
    }
  });

  it('joins small Buffer writes after the first content event without changing what is recorded', async () => {
    const fixtures = loadFixtures().filter((f) => f.contentType.startsWith('text/event-stream') || f.contentType.includes('ndjson'));
    const timeless = (a: Record<string, unknown>) => Object.fromEntries(Object.entries(a).filter(([k]) => !/time|duration/.test(k)));
    const { tracer, exporter } = memoryTracer();
    let current = fixtures[0];
    const server = await serve(tracer, (_req, res) => {
      res.setHeader('content-type', current.contentType);
      // 7-byte writes, Buffers and text alternating in runs: held, flushed and parsed as they come.
      for (let i = 0, k = 0; i < current.bytes.length; i += 7, k++) {
        const piece = current.bytes.subarray(i, i + 7);
        if (k % 40 < 30) res.write(Buffer.from(piece));
        else res.write(piece.toString('latin1'), 'latin1');
      }
      res.end();
    });
    try {
      for (const [n, f] of fixtures.entries()) {
        current = f;
        await request(server.url);
        const traces = await exporter.waitFor(n + 1);
        const direct = createStreamAccumulator({ contentType: f.contentType });
        direct.write(f.bytes);
        direct.end();
        const recorded = traces[n].spans[0].attributes;
        const expected = direct.attributes();
        expect(timeless(recorded)).toMatchObject(timeless(expected));
        expect(recorded['tracewire.stream.bytes']).toBe(f.bytes.length);
      }
    } finally {
      await server.close();
      await tracer.shutdown();
    }
  });

  // How much heap this takes is measured in bench/stream-heap.js.
  it('counts every byte of a 50 MB NDJSON stream with content capture on', async () => {
    const { tracer, exporter } = memoryTracer({ captureContent: true });
    const line = Buffer.from(`${JSON.stringify({ type: 'chunk', text: 'x'.repeat(200) })}\n`);
    const block = Buffer.concat(Array.from({ length: 256 }, () => line)); // ~52 KB per write
    const total = 50 * 1024 * 1024;
    const server = await serve(tracer, (_req, res) => {
      res.setHeader('content-type', 'application/x-ndjson');
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          sent += block.length;
          if (!res.write(block)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    try {
      const received = await new Promise<number>((resolve, reject) => {
        http.get(server.url, (res) => {
          let n = 0;
          res.on('data', (c: Buffer) => (n += c.length));
          res.on('end', () => resolve(n));
        }).on('error', reject);
      });
      expect(received).toBeGreaterThanOrEqual(total);
      const [trace] = await exporter.waitFor(1);
      expect(trace.spans[0].attributes['tracewire.stream.bytes']).toBe(received);
    } finally {
      await server.close();
      await tracer.shutdown();
    }
  });
});
