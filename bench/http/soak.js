'use strict';
/**
 * Memory soak: `pnpm bench:soak [framework]` (default express). Sends BENCH_SOAK_REQUESTS (default
 * 200000) streamed requests (`GET /stream`, 50 SSE chunks each) to the tracewire variant of one
 * framework and checks that nothing accumulates: the heap after a full GC is back near its
 * baseline, `tracer.stats()` shows zero live traces, every started trace was exported, and nothing
 * was dropped. Prints the figures, writes bench/results/<date>-soak-<framework>.json, and exits
 * non-zero when a check fails.
 *   BENCH_SOAK_REQUESTS=200000   requests in the soak
 *   BENCH_SOAK_MAX_GROWTH_MB=5   heap growth (after GC) still accepted as "back to baseline"
 */
const fs = require('node:fs');
const path = require('node:path');
const autocannon = require('autocannon');
const { RESULTS, pinSelf, startServer, control, machine, today, sleep } = require('./lib');

if (pinSelf(1)) return;

const framework = process.argv[2] || 'express';
const REQUESTS = Number(process.env.BENCH_SOAK_REQUESTS || 200000);
const WARM = Math.min(5000, Math.ceil(REQUESTS / 10));
const MAX_GROWTH_MB = Number(process.env.BENCH_SOAK_MAX_GROWTH_MB || 5);
const MB = 2 ** 20;

async function main() {
  const started = Date.now();
  const server = await startServer(framework, 'tracewire', { nodeArgs: ['--expose-gc'] });
  const url = `http://127.0.0.1:${server.port}/stream`;
  try {
    // Warm up first, so the baseline includes what the JIT and the first requests allocate for good.
    await autocannon({ url, connections: 10, amount: WARM });
    const before = await control(server.control, '/__bench/stats?flush=1&gc=1');
    if (!before.gc) throw new Error('the server has no global.gc (needs node --expose-gc)');
    process.stderr.write(`soak: ${framework}/tracewire, ${REQUESTS} × GET /stream; heap after warm-up and GC ${(before.memory.heapUsed / MB).toFixed(2)} MB\n`);

    // Peak memory while under load, sampled every 2 s (no GC forced: what the process really holds).
    let peakHeap = 0;
    let peakRss = 0;
    let peakLive = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        await sleep(2000);
        if (!sampling) break;
        const s = await control(server.control, '/__bench/stats');
        peakHeap = Math.max(peakHeap, s.memory.heapUsed);
        peakRss = Math.max(peakRss, s.memory.rss);
        peakLive = Math.max(peakLive, s.stats.liveTraces);
        process.stderr.write(`  ${s.served - before.served} served, heap ${(s.memory.heapUsed / MB).toFixed(1)} MB, live traces ${s.stats.liveTraces}\n`);
      }
    })();
    const r = await autocannon({ url, connections: 10, amount: REQUESTS });
    sampling = false;
    await sampler;

    const after = await control(server.control, '/__bench/stats?flush=1&gc=1');
    const st = after.stats;
    const growthMB = (after.memory.heapUsed - before.memory.heapUsed) / MB;
    const checks = [
      { check: 'requests answered 2xx', pass: r.non2xx === 0 && r.errors === 0 && r.timeouts === 0, value: `${r.requests.total} done, ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts` },
      { check: 'zero live traces at the end', pass: st.liveTraces === 0, value: st.liveTraces },
      { check: 'every started trace exported', pass: st.exportedTraces === st.startedTraces, value: `${st.exportedTraces} of ${st.startedTraces}` },
      { check: 'nothing dropped', pass: Object.keys(st.dropped).length === 0 && st.exportErrors === 0, value: JSON.stringify(st.dropped) },
      { check: `heap back to baseline (growth ≤ ${MAX_GROWTH_MB} MB after GC)`, pass: growthMB <= MAX_GROWTH_MB, value: `${growthMB >= 0 ? '+' : ''}${growthMB.toFixed(2)} MB` },
    ];
    const result = {
      date: today(),
      command: `${process.env.BENCH_SOAK_REQUESTS ? `BENCH_SOAK_REQUESTS=${REQUESTS} ` : ''}npx -y pnpm@10 bench:soak${process.argv[2] ? ` ${framework}` : ''}`,
      machine: machine(),
      framework,
      variant: 'tracewire',
      route: '/stream',
      requests: REQUESTS,
      seconds: Math.round((Date.now() - started) / 1000),
      rps: r.requests.total / r.duration,
      heapBeforeMB: before.memory.heapUsed / MB,
      heapAfterMB: after.memory.heapUsed / MB,
      heapGrowthMB: growthMB,
      peakHeapUnderLoadMB: peakHeap / MB,
      peakRssUnderLoadMB: peakRss / MB,
      rssAfterMB: after.memory.rss / MB,
      peakLiveTraces: peakLive,
      statsBefore: before.stats,
      statsAfter: st,
      checks,
    };
    fs.mkdirSync(RESULTS, { recursive: true });
    const file = path.join(RESULTS, `${today()}-soak-${framework}.json`);
    fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);

    const lines = [
      `## Memory soak, ${result.date}: ${framework}/tracewire, ${REQUESTS} streamed requests (${result.rps.toFixed(0)} req/s, ${result.seconds} s)`,
      '',
      `Machine: ${result.machine.cpu}, ${result.machine.cores} cores, Node ${result.machine.node}. Command: \`${result.command}\`.`,
      '',
      `Heap used after GC: ${result.heapBeforeMB.toFixed(2)} MB before, ${result.heapAfterMB.toFixed(2)} MB after ` +
        `(peak under load ${result.peakHeapUnderLoadMB.toFixed(1)} MB without forced GC; RSS peak ${result.peakRssUnderLoadMB.toFixed(0)} MB). ` +
        `Live traces: at most ${peakLive} sampled under load, ${st.liveTraces} at the end.`,
      '',
      `tracer.stats(): \`${JSON.stringify(st)}\``,
      '',
      '| check | value | |',
      '|---|---|---|',
      ...checks.map((c) => `| ${c.check} | ${c.value} | ${c.pass ? 'pass' : '**FAIL**'} |`),
      '',
    ];
    process.stdout.write(`\n${lines.join('\n')}`);
    process.stderr.write(`wrote ${path.relative(path.join(__dirname, '..', '..'), file)}\n`);
    if (checks.some((c) => !c.pass)) process.exitCode = 1;
  } finally {
    await server.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
