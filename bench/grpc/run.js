'use strict';
/**
 * gRPC overhead bench: what tracing both ends of a unary call adds in CPU per call, Tracewire's
 * interceptors (@tracewire/grpc) side by side with @opentelemetry/instrumentation-grpc (0.223, the
 * last line on Node 20) in the same run. Run with `pnpm bench:grpc` (builds first).
 *
 * Each variant is its own process (worker.js: a grpc-js server and its client, both ends of every
 * call in one process), started once and kept; the orchestrator asks them in turn for a
 * measurement window (`BENCH_CONCURRENCY` calls in flight for `BENCH_WINDOW_MS`), alternating the
 * variants within each round and rotating their order from round to round, so the machine's drift
 * hits every variant alike. Only one worker runs at a time; workers are pinned to core 0 when
 * taskset exists. CPU µs per call = the worker's CPU time over the window / calls; added = that
 * minus bare's in the same round. Figures are medians over rounds (min–max).
 */
const { fork } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { HAS_TASKSET, RESULTS, machine, versions, today } = require('../http/lib');

const ROUNDS = Number(process.env.BENCH_ROUNDS || 15);
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS || 2000);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS || 3000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY || 16);
const PIN = HAS_TASKSET && process.env.BENCH_PIN !== '0';
const VARIANTS = (process.env.BENCH_VARIANTS || 'bare,tracewire,tracewire-unsampled,opentelemetry,context-only,interceptors-only').split(',');
if (!VARIANTS.includes('bare')) throw new TypeError('BENCH_VARIANTS must include bare (the baseline)');

function startWorker(variant) {
  const opts = { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] };
  const worker = PIN
    ? fork(path.join(__dirname, 'worker.js'), [variant], { ...opts, execPath: 'taskset', execArgv: ['-c', '0', process.execPath] })
    : fork(path.join(__dirname, 'worker.js'), [variant], opts);
  let next = 0;
  const pending = new Map();
  let ready;
  const readyP = new Promise((resolve, reject) => {
    ready = resolve;
    worker.once('exit', (code) => reject(new Error(`worker ${variant} exited with ${code}`)));
  });
  worker.on('message', (msg) => {
    if (msg.ready) return ready(msg.versions);
    const p = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.error) p.reject(new Error(`${variant}: ${msg.error}`));
    else p.resolve(msg.result);
  });
  return {
    variant,
    ready: readyP,
    window(ms) {
      const id = next++;
      worker.send({ cmd: 'window', id, ms, concurrency: CONCURRENCY });
      return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
    },
    stop() {
      return new Promise((resolve) => {
        worker.once('exit', resolve);
        worker.send({ cmd: 'exit' });
      });
    },
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const f1 = (x) => x.toFixed(1);
const range = (xs, fmt = f1) => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`;
const signed = (x) => (x >= 0 ? `+${f1(x)}` : f1(x));

async function main() {
  const started = Date.now();
  const workers = VARIANTS.map(startWorker);
  const workerVersions = await Promise.all(workers.map((w) => w.ready));
  // Warm-up: each variant's JIT and the connection, not measured.
  for (const w of workers) await w.window(WARMUP_MS);
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const order = workers.map((_, i) => workers[(i + r) % workers.length]);
    const round = {};
    for (const w of order) {
      const res = await w.window(WINDOW_MS);
      round[w.variant] = { ...res, cpuPerCall: res.cpuUs / res.calls, gcPerCall: res.gcUs / res.calls, callsPerSec: (res.calls * 1000) / res.elapsedMs, spansPerCall: res.spans / res.calls };
    }
    rounds.push(round);
    process.stderr.write(`round ${r + 1}/${ROUNDS}: ${VARIANTS.map((v) => `${v} ${f1(round[v].cpuPerCall)} µs/call`).join(', ')}\n`);
  }
  await Promise.all(workers.map((w) => w.stop()));

  const rows = VARIANTS.map((v) => {
    const cpu = rounds.map((r) => r[v].cpuPerCall);
    const added = rounds.map((r) => r[v].cpuPerCall - r.bare.cpuPerCall);
    const rate = rounds.map((r) => r[v].callsPerSec);
    return {
      variant: v,
      callsPerSec: median(rate),
      callsPerSecRange: range(rate, (x) => x.toFixed(0)),
      cpuPerCall: median(cpu),
      cpuRange: range(cpu),
      added: v === 'bare' ? undefined : median(added),
      addedRange: v === 'bare' ? undefined : `${signed(Math.min(...added))}–${signed(Math.max(...added))}`,
      gcPerCall: median(rounds.map((r) => r[v].gcPerCall)),
      gcAdded: v === 'bare' ? undefined : median(rounds.map((r) => r[v].gcPerCall - r.bare.gcPerCall)),
      spansPerCall: median(rounds.map((r) => r[v].spansPerCall)),
      rssMb: median(rounds.map((r) => r[v].rssMb)),
    };
  });
  const byVariant = Object.fromEntries(rows.map((r) => [r.variant, r]));
  const ratio = byVariant.tracewire && byVariant.opentelemetry ? byVariant.opentelemetry.added / byVariant.tracewire.added : undefined;
  const perRoundRatio = byVariant.tracewire && byVariant.opentelemetry ? rounds.map((r) => (r.opentelemetry.cpuPerCall - r.bare.cpuPerCall) / (r.tracewire.cpuPerCall - r.bare.cpuPerCall)) : undefined;

  const m = machine();
  const v = versions(['@grpc/grpc-js', '@grpc/proto-loader', '@opentelemetry/instrumentation-grpc', '@opentelemetry/instrumentation', '@opentelemetry/sdk-trace-node', '@opentelemetry/sdk-trace-base']);
  const seconds = Math.round((Date.now() - started) / 1000);
  const lines = [
    `## gRPC overhead, ${today()}`,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.os}; ${PIN ? 'workers on core 0 (taskset), one running at a time' : 'workers not pinned, one running at a time'}.`,
    `Load: one unary call (\`SayHello\`, a 5-byte string each way) from a grpc-js client to a grpc-js server in the same process over 127.0.0.1, ${CONCURRENCY} calls in flight, ${ROUNDS} rounds × ${WINDOW_MS / 1000} s per variant after a ${WARMUP_MS / 1000} s warm-up, variants alternated within each round (order rotated).`,
    `Command: \`${process.env.BENCH_COMMAND || 'npx -y pnpm@10 bench:grpc'}\` (${seconds} s).`,
    `Versions: ${Object.entries(v).map(([k, x]) => `${k} ${x}`).join(', ')}.`,
    '',
    'Each figure is the median over rounds, (min–max) across rounds. `context-only`: bare plus one `AsyncLocalStorage.run` per call; `interceptors-only`: a grpc-js client interceptor that sends a traceparent (a new value per call) and a server interceptor that reads it, no tracing code. **CPU µs/call** is the worker process\'s CPU time (user + system, all threads: client and server side of the call, tracing on both ends, export into a discarding exporter) over the window divided by the calls it made; **added** is that minus bare\'s in the same round. **GC µs/call**: the garbage collector\'s pauses (all kinds, as `perf_hooks` reports them, wall time of the main thread) over the window divided by the calls, and in brackets that minus bare\'s in the same round: the share of the added CPU that is collecting what the call allocated. **spans/call**: what the tracer exported per call (2: a client and a server span).',
    '',
    '| variant | calls/s | CPU µs/call | added CPU µs/call | GC µs/call (added) | spans/call | RSS MB |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.variant} | ${r.callsPerSec.toFixed(0)} (${r.callsPerSecRange}) | ${f1(r.cpuPerCall)} (${r.cpuRange}) | ${r.added === undefined ? '—' : `${signed(r.added)} (${r.addedRange})`} | ${f1(r.gcPerCall)}${r.gcAdded === undefined ? '' : ` (${signed(r.gcAdded)})`} | ${r.spansPerCall.toFixed(1)} | ${r.rssMb.toFixed(0)} |`),
    '',
  ];
  if (ratio !== undefined) {
    lines.push(`Added CPU per call, OpenTelemetry / Tracewire: **${ratio.toFixed(1)}×** (ratio of the medians; per round ${range(perRoundRatio)}×).`, '');
  }
  if (byVariant.opentelemetry && byVariant['interceptors-only']) {
    // What the 4x target leaves, against what grpc-js's interceptors and the header cost without any tracing code.
    const budget = byVariant.opentelemetry.added / 4;
    const floor = byVariant['interceptors-only'].added;
    lines.push(`At least 4× less than OpenTelemetry means at most ${signed(budget)} µs/call here; \`interceptors-only\` (a client and a server interceptor carrying a traceparent, no tracing code) costs ${signed(floor)} by itself (per round ${range(rounds.map((r) => r['interceptors-only'].cpuPerCall - r.bare.cpuPerCall))}).`, '');
  }
  const md = lines.join('\n');
  process.stdout.write(`${md}\n`);
  fs.mkdirSync(RESULTS, { recursive: true });
  const base = path.join(RESULTS, `${today()}-grpc${process.env.BENCH_SUFFIX ? `-${process.env.BENCH_SUFFIX}` : ''}`);
  fs.writeFileSync(`${base}.md`, `${md}\n`);
  fs.writeFileSync(
    `${base}.json`,
    `${JSON.stringify({ date: today(), machine: m, versions: v, workers: workerVersions, settings: { ROUNDS, WINDOW_MS, WARMUP_MS, CONCURRENCY, VARIANTS }, rows, ratio, perRoundRatio, rounds }, null, 2)}\n`,
  );
  process.stderr.write(`wrote ${path.relative(process.cwd(), base)}.{md,json}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err && err.stack}\n`);
  process.exit(1);
});
