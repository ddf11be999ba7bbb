'use strict';
/**
 * Heap through long streams (the claims issue #12 moved out of tap.test.ts and
 * accumulator.test.ts), after a full GC each time:
 *
 * - the response tap: a node:http server traced by core's ServerInstrumentation (what every
 *   adapter uses), content capture on, sends 50 MB of NDJSON in ~52 KB writes; the heap is read
 *   once 10 MB have gone out and again at the end. Target: less than 8 MB growth over the last
 *   40 MB, every byte counted.
 * - the accumulator alone: 50 MB of SSE and of NDJSON in 64 KiB chunks whose boundaries drift
 *   across events; the heap is read every 8 MB. Target: never more than 4 MB above the start.
 * - 400 strings of 64 KiB, one content event each: the captured text must not keep its chunks
 *   alive (a V8 substring is a view of the whole string). Target: less than 4 MB growth.
 *
 * Run after a build: `node --expose-gc bench/stream-heap.js` (it re-runs itself with the flag when
 * started without). TRACEWIRE_CORE=<dir> runs another build. Exits non-zero on a miss.
 */
// On the Node chosen with --node <major> / BENCH_NODE (bench/node.js), when one is.
if (require('./node').underNode()) return;
if (typeof global.gc !== 'function') {
  const r = require('node:child_process').spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, process.argv[1], ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const http = require('node:http');
const CORE = process.env.TRACEWIRE_CORE || '@tracewire/core';
const { createTracer, createServerInstrumentation, createStreamAccumulator, InMemoryExporter } = require(CORE);

const TOTAL = 50 * 1024 * 1024;
const LIMIT = 8 * 1024 * 1024;

function heapAfterGc() {
  global.gc();
  global.gc();
  return process.memoryUsage().heapUsed;
}

const chunkEvent = (i) => JSON.stringify({ id: 'chatcmpl-x', object: 'chat.completion.chunk', model: 'gpt-4o-mini', choices: [{ index: 0, delta: { content: `token ${i} ü ` }, finish_reason: null }] });

/** The accumulator alone over 50 MB of `format`, 64 KiB chunks: the most the heap rose above its start. */
function accumulatorGrowth(format) {
  const line = format === 'sse' ? (i) => `data: ${chunkEvent(i)}\n\n` : (i) => `${chunkEvent(i)}\n`;
  const unit = Buffer.from(Array.from({ length: 997 }, (_, i) => line(i)).join(''));
  const acc = createStreamAccumulator({ format });
  const size = 64 * 1024;
  const before = heapAfterGc();
  let most = 0;
  let offset = 0;
  for (let written = size; written <= TOTAL; written += size) {
    const chunk = Buffer.allocUnsafe(size);
    for (let i = 0; i < size; ) {
      const n = Math.min(size - i, unit.length - offset);
      unit.copy(chunk, i, offset, offset + n);
      i += n;
      offset = (offset + n) % unit.length;
    }
    acc.write(chunk);
    if (written % (8 * 1024 * 1024) === 0) most = Math.max(most, heapAfterGc() - before);
  }
  acc.end();
  return most;
}

/** 400 strings of 64 KiB with one content event each: heap growth while their text is kept. */
function capturedTextGrowth() {
  const padding = `: ${'x'.repeat(64 * 1024)}\n`;
  const chunk = (i) => `${padding}data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model: 'gpt-4o', choices: [{ index: 0, delta: { content: `${i} ${'y'.repeat(96)}` }, finish_reason: null }] })}\n\n`;
  const acc = createStreamAccumulator({ format: 'sse' });
  const before = heapAfterGc();
  for (let i = 0; i < 400; i++) acc.write(chunk(i));
  const growth = heapAfterGc() - before;
  acc.end();
  return growth;
}

async function main() {
  const exporter = new InMemoryExporter();
  const tracer = createTracer({ exporters: [exporter], captureContent: true, batch: { scheduledDelayMillis: 1 } });
  const inst = createServerInstrumentation({ tracer }, 'bench');
  const line = Buffer.from(`${JSON.stringify({ type: 'chunk', text: 'x'.repeat(200) })}\n`);
  const block = Buffer.concat(Array.from({ length: 256 }, () => line));
  const heapAt = [];
  const server = http.createServer((req, res) => {
    const handle = inst.start(req, res, req);
    inst.run(handle, () => {
      res.setHeader('content-type', 'application/x-ndjson');
      let sent = 0;
      const pump = () => {
        while (sent < TOTAL) {
          sent += block.length;
          if (sent >= 10 * 1024 * 1024 && heapAt.length === 0) {
            global.gc();
            heapAt.push(process.memoryUsage().heapUsed);
          }
          if (!res.write(block)) return void res.once('drain', pump);
        }
        global.gc();
        heapAt.push(process.memoryUsage().heapUsed);
        res.end();
      };
      pump();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const received = await new Promise((resolve, reject) => {
    http.get(`http://127.0.0.1:${server.address().port}/`, (res) => {
      let n = 0;
      res.on('data', (c) => (n += c.length));
      res.on('end', () => resolve(n));
    }).on('error', reject);
  });
  const [trace] = await exporter.waitFor(1);
  server.close();
  await tracer.shutdown();
  const growth = heapAt[1] - heapAt[0];
  const counted = trace.spans[0].attributes['tracewire.stream.bytes'];
  const mib = (n) => `${(n / 2 ** 20).toFixed(2)} MiB`;
  const rows = [
    [`response tap, 50 MB NDJSON, capture on (${counted === received ? 'every byte counted' : `${counted} of ${received} bytes counted`}): growth over the last 40 MB`, growth, LIMIT, counted === received],
    ['accumulator, 50 MB SSE in 64 KiB chunks: most above the start', accumulatorGrowth('sse'), 4 * 2 ** 20, true],
    ['accumulator, 50 MB NDJSON in 64 KiB chunks: most above the start', accumulatorGrowth('ndjson'), 4 * 2 ** 20, true],
    ['accumulator, 400 strings of 64 KiB, their text kept: growth', capturedTextGrowth(), 4 * 2 ** 20, true],
  ];
  console.log(`node ${process.version}`);
  let ok = true;
  for (const [what, value, limit, counts] of rows) {
    const met = value < limit && counts;
    if (!met) ok = false;
    console.log(`${what.padEnd(100)} ${mib(value).padStart(10)}  ${met ? 'met' : 'MISSED'} (< ${mib(limit)})`);
  }
  process.exitCode = ok ? 0 : 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
