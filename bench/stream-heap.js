'use strict';
/**
 * Heap through one long streamed response (the claim issue #12 moved out of tap.test.ts): a
 * node:http server traced by core's ServerInstrumentation (what every adapter uses), content
 * capture on, sends 50 MB of NDJSON in ~52 KB writes; the heap after a full GC is read once 10 MB
 * have gone out and again at the end. Target: it grows by less than 8 MB over the last 40 MB
 * (the tap keeps only an unfinished line and the capped captured text), and the span counts every
 * byte.
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
const { createTracer, createServerInstrumentation, InMemoryExporter } = require(CORE);

const TOTAL = 50 * 1024 * 1024;
const LIMIT = 8 * 1024 * 1024;

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
  console.log(`node ${process.version}: ${(received / 2 ** 20).toFixed(1)} MiB streamed, counted ${counted === received ? 'every byte' : `${counted} of ${received} bytes`}`);
  console.log(`heap growth over the last 40 MB: ${(growth / 2 ** 20).toFixed(2)} MiB (target < ${LIMIT / 2 ** 20} MiB): ${growth < LIMIT ? 'met' : 'MISSED'}`);
  process.exitCode = growth < LIMIT && counted === received ? 0 : 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
