'use strict';
/**
 * HTTP overhead benchmark: Tracewire against a bare server and the OpenTelemetry Node SDK, in
 * Express, Koa and Fastify. Run with `pnpm bench:http` (or `pnpm bench`, after the micro bench).
 * Method and how to read the numbers: bench/README.md.
 *
 * Settings (environment variables; defaults are the published configuration):
 *   BENCH_WARMUP=3         seconds of warm-up per server (both routes) before its first window
 *   BENCH_DURATION=5       seconds of each measured window
 *   BENCH_ROUNDS=4         rounds; each round measures every variant once, alternated A B C D
 *   BENCH_CONNECTIONS=10   autocannon connections
 *   BENCH_RATE             requests/s for every measured window (autocannon overallRate), one for all
 *                          routes (2000) or per route (hello:2000,stream:1000); unset: as fast as the
 *                          server answers. A fixed rate gives every variant the same load, which keeps
 *                          CPU µs/req comparable on a machine shared with other work
 *   BENCH_FRAMEWORKS=express,koa,fastify
 *   BENCH_ROUTES=hello,stream
 *   BENCH_VARIANTS=bare,tracewire,tracewire-unsampled,opentelemetry,context-only
 *   BENCH_UNSAMPLED_ROUTES=hello   routes the unsampled variant is measured on (`hello,stream` for
 *                                  both; the default keeps `pnpm bench` near 10 minutes on 2 cores)
 *   BENCH_FLOOR_ROUTES     routes the context-only floor is measured on (default: hello on Node 24+,
 *                          where it is near zero; hello,stream on older Node, whose targets are set
 *                          above the floor of each route)
 *   BENCH_OUT=name         results file name (default: <date>-node<major>, `-quick` when not the defaults)
 *   BENCH_NODE=24          the Node major to run on, as `--node 24` (also a list, `--node 20,24,26`,
 *                          run one after the other); default the Node that runs this script (bench/node.js)
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const autocannon = require('autocannon');
const { RESULTS, pinSelf, startServer, control, machine, versions, today } = require('./lib');
const { underNode, nodeTag } = require('../node');
const { chart } = require('./chart');

// On the Node the user chose (--node / BENCH_NODE), then: the load generator runs on core 1, the
// servers on core 0 (when taskset exists).
if (underNode()) return;
if (pinSelf(1)) return;
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
// From Node 24, AsyncLocalStorage runs on AsyncContextFrame by default: no async_hooks, the
// context-propagation floor is near zero, and the targets are absolute (issue 20).
const CONTEXT_FRAME = NODE_MAJOR >= 24;

const list = (name, dflt) => (process.env[name] || dflt).split(',').map((s) => s.trim()).filter(Boolean);
const num = (name, dflt) => {
  const v = process.env[name] === undefined || process.env[name] === '' ? dflt : Number(process.env[name]);
  if (!Number.isFinite(v) || v <= 0) throw new TypeError(`${name} must be a positive number`);
  return v;
};

/** BENCH_RATE: one rate for every route (`2000`), or per route (`hello:2000,stream:1000`). */
function rates(value) {
  if (!value) return undefined;
  const out = {};
  for (const part of value.split(',').map((x) => x.trim()).filter(Boolean)) {
    const [route, rate] = part.includes(':') ? part.split(':') : ['*', part];
    const n = Number(rate);
    if (!Number.isFinite(n) || n <= 0) throw new TypeError(`BENCH_RATE: "${part}" is not a positive rate (e.g. 2000 or hello:2000,stream:1000)`);
    out[route.trim()] = Math.round(n);
  }
  return out;
}
const rateOf = (route) => (settings.rate ? settings.rate[route] ?? settings.rate['*'] : undefined);

// Four alternated rounds of 5 s rather than two of 10: the same time per cell, and a median that one
// disturbed window (another process waking on the machine) cannot move.
const DEFAULTS = { warmup: 3, duration: 5, rounds: 4, connections: 10 };
const settings = {
  warmup: num('BENCH_WARMUP', DEFAULTS.warmup),
  duration: num('BENCH_DURATION', DEFAULTS.duration),
  rounds: Math.round(num('BENCH_ROUNDS', DEFAULTS.rounds)),
  connections: Math.round(num('BENCH_CONNECTIONS', DEFAULTS.connections)),
  rate: rates(process.env.BENCH_RATE),
  frameworks: list('BENCH_FRAMEWORKS', 'express,koa,fastify'),
  routes: list('BENCH_ROUTES', 'hello,stream'),
  variants: list('BENCH_VARIANTS', 'bare,tracewire,tracewire-unsampled,opentelemetry,context-only'),
  unsampledRoutes: list('BENCH_UNSAMPLED_ROUTES', 'hello'),
  floorRoutes: list('BENCH_FLOOR_ROUTES', CONTEXT_FRAME ? 'hello' : 'hello,stream'),
};
const ROUTES = { hello: '/hello/world', stream: '/stream' };
for (const r of settings.routes) if (!ROUTES[r]) throw new TypeError(`BENCH_ROUTES: unknown route "${r}" (hello, stream)`);
if (!settings.variants.includes('bare')) throw new TypeError('BENCH_VARIANTS must include bare (everything is compared to it)');

/**
 * Targets of issue 20: added server CPU per request against bare, same run. On Node 24+ absolute;
 * on older Node (async_hooks under AsyncLocalStorage) the same margins above the context-only floor
 * of the route, measured in the same run.
 */
const TARGETS = { hello: 8, stream: 20, unsampled: 2, helloOtelFactor: 8, streamOtelFactor: 3 };

// A quick run measures less than the default (shorter windows or warm-up, fewer rounds) or with
// other connections: a smoke test, named -quick and ignored by git. More rounds or a fixed rate is not.
const isQuick = ['warmup', 'duration', 'rounds'].some((k) => settings[k] < DEFAULTS[k]) || settings.connections !== DEFAULTS.connections;
const outName = process.env.BENCH_OUT || `${today()}-${nodeTag()}${isQuick ? '-quick' : ''}`;

function command() {
  const env = Object.keys(process.env)
    .filter((k) => k.startsWith('BENCH_') && k !== 'BENCH_PINNED' && k !== 'BENCH_NODE')
    .sort()
    .map((k) => `${k}=${process.env[k]}`);
  const script = process.env.npm_lifecycle_event || 'bench:http';
  return [...env, `npx -y pnpm@10 ${script} --node ${NODE_MAJOR}`].join(' ');
}

function variantsFor(route) {
  return settings.variants.filter(
    (v) => (v !== 'tracewire-unsampled' || settings.unsampledRoutes.includes(route)) && (v !== 'context-only' || settings.floorRoutes.includes(route)),
  );
}

/** Runs autocannon; returns throughput, exact latency percentiles (µs resolution) and errors. */
async function load(port, requestPath, seconds, measure, rate) {
  const latencies = [];
  const opts = { url: `http://127.0.0.1:${port}`, connections: settings.connections, duration: seconds, pipelining: 1 };
  if (measure && rate) opts.overallRate = rate;
  if (Array.isArray(requestPath)) opts.requests = requestPath.map((p) => ({ method: 'GET', path: p }));
  else opts.url += requestPath;
  const instance = autocannon(opts);
  // autocannon's own histogram has 1 ms resolution; a hello request takes well under that.
  if (measure) instance.on('response', (_client, _status, _bytes, ms) => latencies.push(ms));
  const result = await instance;
  latencies.sort((a, b) => a - b);
  const pct = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] : NaN);
  return {
    requests: result.requests.total,
    seconds: result.duration,
    p50: pct(50),
    p99: pct(99),
    bad: result.errors + result.timeouts + result.non2xx,
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const summary = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });

async function main() {
  const started = Date.now();
  // The machine's load average (1, 5, 15 min) when the run starts and ends: other work on the
  // machine is the first thing to read a result against.
  const loadAtStart = os.loadavg();
  const cells = [];
  const serverStats = [];
  const log = (msg) => process.stderr.write(`${msg}\n`);
  log(`HTTP bench: ${settings.frameworks.join(', ')} × ${settings.routes.join(', ')} × ${settings.variants.join(', ')}; ` +
    `${settings.rounds} rounds of ${settings.duration} s (warm-up ${settings.warmup} s), ${settings.connections} connections`);

  for (const framework of settings.frameworks) {
    // One process per variant, alive for all of this framework's rounds.
    const servers = {};
    try {
      for (const variant of settings.variants) servers[variant] = await startServer(framework, variant);
      for (const variant of settings.variants) {
        const paths = settings.routes.map((r) => ROUTES[r]);
        await load(servers[variant].port, paths.length > 1 ? paths : paths[0], settings.warmup, false);
      }
      for (let round = 1; round <= settings.rounds; round++) {
        for (const route of settings.routes) {
          for (const variant of variantsFor(route)) {
            const s = servers[variant];
            await control(s.control, '/__bench/reset');
            const r = await load(s.port, ROUTES[route], settings.duration, true, rateOf(route));
            const w = await control(s.control, '/__bench/read');
            const row = {
              framework,
              route,
              variant,
              round,
              rps: r.requests / r.seconds,
              p50Ms: r.p50,
              p99Ms: r.p99,
              cpuUsPerReq: w.cpuUs / w.requests,
              userUsPerReq: w.userUs / w.requests,
              systemUsPerReq: w.systemUs / w.requests,
              cpuUtil: w.cpuUs / (w.wallMs * 1000),
              gcPerKReq: (1000 * w.gcCount) / w.requests,
              gcUsPerReq: (1000 * w.gcMs) / w.requests,
              served: w.requests,
              rssBytes: w.memory.rss,
              heapUsedBytes: w.memory.heapUsed,
              errors: r.bad,
            };
            cells.push(row);
            log(`  ${framework.padEnd(7)} ${route.padEnd(6)} ${variant.padEnd(19)} round ${round}: ` +
              `${row.rps.toFixed(0).padStart(6)} req/s  ${row.cpuUsPerReq.toFixed(1).padStart(6)} µs/req ` +
              `(user ${row.userUsPerReq.toFixed(1)}, sys ${row.systemUsPerReq.toFixed(1)}, GC pauses ${row.gcUsPerReq.toFixed(1)})  ` +
              `server ${(row.cpuUtil * 100).toFixed(0)}% of a core${row.errors ? `  ${row.errors} ERRORS` : ''}`);
          }
        }
      }
      for (const variant of settings.variants) {
        const st = await control(servers[variant].control, '/__bench/stats?flush=1');
        serverStats.push({ framework, variant, served: st.served, stats: st.stats, otelExportedSpans: st.otelExportedSpans });
      }
    } finally {
      await Promise.all(Object.values(servers).map((s) => s.stop()));
    }
  }

  const report = analyse(cells, serverStats);
  const result = {
    date: today(),
    startedAt: new Date(started).toISOString(),
    elapsedSeconds: Math.round((Date.now() - started) / 1000),
    command: command(),
    machine: machine(),
    loadAverage: { start: loadAtStart, end: os.loadavg() },
    settings,
    versions: versions([
      'express', 'koa', '@koa/router', 'fastify', 'autocannon',
      '@opentelemetry/api', '@opentelemetry/sdk-trace-node', '@opentelemetry/instrumentation',
      '@opentelemetry/instrumentation-http', '@opentelemetry/instrumentation-express',
      '@opentelemetry/instrumentation-koa', '@fastify/otel',
    ]),
    ...report,
    rounds: cells,
  };
  const md = markdown(result);
  fs.mkdirSync(RESULTS, { recursive: true });
  fs.writeFileSync(path.join(RESULTS, `${outName}.json`), `${JSON.stringify(result, null, 2)}\n`);
  fs.writeFileSync(path.join(RESULTS, `${outName}.md`), md);
  fs.writeFileSync(path.join(RESULTS, `${outName}.svg`), chart([result]));
  process.stdout.write(`\n${md}`);
  log(`\nwrote bench/results/${outName}.json, .md and .svg (the chart) in ${result.elapsedSeconds} s`);
  if (cells.some((c) => c.errors)) {
    log('some requests failed (see "errors" in the JSON): the numbers of those cells are not comparable');
    process.exitCode = 1;
  }
}

/** Per-cell summaries over rounds, the comparison with bare (paired by round) and the targets. */
function analyse(cells, serverStats) {
  const summaries = [];
  for (const framework of settings.frameworks) {
    for (const route of settings.routes) {
      const bareRounds = cells.filter((c) => c.framework === framework && c.route === route && c.variant === 'bare');
      for (const variant of variantsFor(route)) {
        const rs = cells.filter((c) => c.framework === framework && c.route === route && c.variant === variant);
        const s = {
          framework,
          route,
          variant,
          rps: summary(rs.map((r) => r.rps)),
          p50Ms: summary(rs.map((r) => r.p50Ms)),
          p99Ms: summary(rs.map((r) => r.p99Ms)),
          cpuUsPerReq: summary(rs.map((r) => r.cpuUsPerReq)),
          userUsPerReq: summary(rs.map((r) => r.userUsPerReq)),
          systemUsPerReq: summary(rs.map((r) => r.systemUsPerReq)),
          cpuUtil: summary(rs.map((r) => r.cpuUtil)),
          gcPerKReq: summary(rs.map((r) => r.gcPerKReq)),
          gcUsPerReq: summary(rs.map((r) => r.gcUsPerReq)),
          rssMB: summary(rs.map((r) => r.rssBytes / 2 ** 20)),
        };
        if (variant !== 'bare') {
          // Paired with bare of the same round (measured minutes apart at most), so drift cancels.
          const pairs = rs.map((r) => [r, bareRounds.find((b) => b.round === r.round)]).filter(([, b]) => b);
          s.vsBare = {
            throughputRatio: summary(pairs.map(([r, b]) => r.rps / b.rps)),
            addedCpuUs: summary(pairs.map(([r, b]) => r.cpuUsPerReq - b.cpuUsPerReq)),
          };
        }
        const st = serverStats.find((x) => x.framework === framework && x.variant === variant);
        if (st && st.otelExportedSpans !== undefined) s.spansPerRequest = st.otelExportedSpans / st.served;
        if (st && st.stats) {
          s.spansPerRequest = st.stats.exportedSpans / st.served;
          s.tracerDropped = st.stats.dropped;
        }
        summaries.push(s);
      }
    }
  }

  const added = (framework, route, variant) => {
    const s = summaries.find((x) => x.framework === framework && x.route === route && x.variant === variant);
    return s && s.vsBare ? s.vsBare.addedCpuUs : undefined;
  };
  // What propagating a context at all costs on this Node version, with no tracing: the floor under
  // every target (bench/README.md, "The floor").
  const floor = [];
  for (const framework of settings.frameworks) {
    for (const route of settings.routes) {
      const c = added(framework, route, 'context-only');
      if (c) floor.push({ framework, route, median: c.median, min: c.min, max: c.max });
    }
  }
  const floorOf = (framework, route) =>
    floor.find((f) => f.framework === framework && f.route === route) || floor.find((f) => f.framework === framework && f.route === 'hello');

  const targets = [];
  // kind 'added': µs over bare, limit `limitValue`; kind 'factor': OpenTelemetry's added ÷ ours.
  const limitFor = (framework, route, margin) => {
    if (CONTEXT_FRAME) return { limitValue: margin, limit: `≤ ${margin}` };
    const f = floorOf(framework, route);
    if (!f) return undefined; // no floor measured: nothing to judge against on this Node
    const label = f.route === route ? 'floor' : 'hello floor';
    // A floor that reads below zero is noise: it does not lower the limit.
    const base = Math.max(0, f.median);
    return { limitValue: base + margin, limit: `≤ ${label} ${f1(base)}${f.median < 0 ? ` (read ${f1(f.median)})` : ''} + ${margin} = ${f1(base + margin)}` };
  };
  const addedTarget = (framework, route, variant, name, margin) => {
    const a = added(framework, route, variant);
    const l = a && limitFor(framework, route, margin);
    if (!l) return a;
    targets.push({ framework, route, variant, kind: 'added', target: name, value: a.median, worstRound: a.max, ...l, pass: a.median <= l.limitValue });
    return a;
  };
  const factorTarget = (framework, route, ours, factor) => {
    const otel = added(framework, route, 'opentelemetry');
    if (!ours || !otel || !CONTEXT_FRAME) return;
    const value = otel.median / Math.max(ours.median, 1e-9);
    targets.push({
      framework, route, variant: 'tracewire', kind: 'factor', target: `${route}: OpenTelemetry added ÷ Tracewire added`,
      value, worstRound: otel.min / Math.max(ours.max, 1e-9), limit: `≥ ${factor}`, limitValue: factor, pass: value >= factor,
    });
  };
  for (const framework of settings.frameworks) {
    const hello = addedTarget(framework, 'hello', 'tracewire', 'hello: added CPU µs/req', TARGETS.hello);
    factorTarget(framework, 'hello', hello, TARGETS.helloOtelFactor);
    const stream = addedTarget(framework, 'stream', 'tracewire', 'stream: added CPU µs/req', TARGETS.stream);
    factorTarget(framework, 'stream', stream, TARGETS.streamOtelFactor);
    for (const route of settings.routes) addedTarget(framework, route, 'tracewire-unsampled', `${route} unsampled: added CPU µs/req`, TARGETS.unsampled);
  }
  return { cells: summaries, targets, floor, serverStats };
}

const f0 = (x) => (Number.isFinite(x) ? x.toFixed(0) : '—');
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '—');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '—');
const range = (s, f) => `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
const signed = (f) => (x) => (x > 0 ? '+' : '') + f(x);

function markdown(r) {
  const m = r.machine;
  const lines = [];
  lines.push(`## HTTP overhead, Node ${m.node}, ${r.date}`);
  lines.push('');
  lines.push(`Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.os}; ${m.pinned}.`);
  lines.push(`Load: autocannon, ${r.settings.connections} connections to 127.0.0.1${r.settings.rate ? `, a fixed rate in every measured window (${Object.entries(r.settings.rate).map(([k, v]) => (k === '*' ? `${v} req/s` : `${k} ${v} req/s`)).join(', ')})` : ', as fast as the server answers'}, ${r.settings.warmup} s warm-up per server, ` +
    `${r.settings.rounds} rounds × ${r.settings.duration} s per cell, variants alternated within each round.`);
  lines.push(`Command: \`${r.command}\` (${r.elapsedSeconds} s).`);
  if (r.loadAverage) lines.push(`Load average (1/5/15 min) at the start ${r.loadAverage.start.map(f2).join(' / ')}, at the end ${r.loadAverage.end.map(f2).join(' / ')} (the run itself adds about 2).`);
  const v = r.versions;
  lines.push(`Versions: express ${v.express}, koa ${v.koa} + @koa/router ${v['@koa/router']}, fastify ${v.fastify}; ` +
    `OpenTelemetry sdk-trace-node ${v['@opentelemetry/sdk-trace-node']}, instrumentation-http ${v['@opentelemetry/instrumentation-http']}, ` +
    `instrumentation-express ${v['@opentelemetry/instrumentation-express']}, instrumentation-koa ${v['@opentelemetry/instrumentation-koa']}, ` +
    `@fastify/otel ${v['@fastify/otel']}.`);
  lines.push('');
  lines.push('Each figure is the median over rounds, (min–max) across rounds. **CPU µs/req** is the server process\'s own ' +
    'CPU time (user + system, all threads) over the window divided by the requests it served; **added** is that minus ' +
    'bare\'s in the same round. **Server busy** is that CPU time as a share of one core (min–max over rounds): below ' +
    '~90% the load generator, not the server, set the pace, and idle wake-ups inflate CPU µs/req (see bench/README.md). ' +
    '**GC pause** is the main thread\'s garbage-collection pause time per request (part of the CPU µs, not all of GC\'s cost: ' +
    'helper threads and the kernel work for the heap come on top).');
  lines.push('');
  lines.push('| framework | route | variant | req/s | p50 ms | p99 ms | CPU µs/req | added CPU µs/req | req/s vs bare | server busy | GC pause µs/req | spans/req | RSS MB |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const c of r.cells) {
    lines.push(`| ${c.framework} | ${c.route} | ${c.variant} | ${range(c.rps, f0)} | ${range(c.p50Ms, f2)} | ${range(c.p99Ms, f2)} | ` +
      `${range(c.cpuUsPerReq, f1)} | ${c.vsBare ? range(c.vsBare.addedCpuUs, signed(f1)) : '—'} | ` +
      `${c.vsBare ? range(c.vsBare.throughputRatio, f2) : '—'} | ${f0(c.cpuUtil.min * 100)}–${f0(c.cpuUtil.max * 100)}% | ${f1(c.gcUsPerReq.median)} | ` +
      `${c.spansPerRequest !== undefined ? f1(c.spansPerRequest) : '—'} | ${f0(c.rssMB.median)} |`);
  }
  lines.push('');
  lines.push(CONTEXT_FRAME
    ? 'Targets (issue 20, Node 24+: absolute; judged on the median, the worst round shown beside it):'
    : 'Targets (issue 20, Node before 24: margins above the `context-only` floor of the same route and run; judged on the median, the worst round shown beside it):');
  lines.push('');
  lines.push('| framework | target | median | worst round | limit | |');
  lines.push('|---|---|---|---|---|---|');
  for (const t of r.targets) {
    lines.push(`| ${t.framework} | ${t.target} | ${t.kind === 'factor' ? f1(t.value) : signed(f1)(t.value)} | ${t.kind === 'factor' ? f1(t.worstRound) : signed(f1)(t.worstRound)} | ${t.limit} | ${t.pass ? 'pass' : '**MISS**'} |`);
  }
  if (r.floor && r.floor.length) {
    lines.push('');
    lines.push('The floor: `context-only` is the bare app plus one `AsyncLocalStorage.run` per request and nothing else, what any ' +
      `tracer that keeps a context across \`await\` pays on Node ${m.node} before it records anything (bench/README.md):`);
    lines.push('');
    lines.push('| framework | route | context-only: added CPU µs/req |');
    lines.push('|---|---|---|');
    for (const f of r.floor) {
      lines.push(`| ${f.framework} | ${f.route} | ${signed(f1)(f.median)} (${signed(f1)(f.min)}–${signed(f1)(f.max)}) |`);
    }
  }
  const drops = r.cells.filter((c) => c.tracerDropped && Object.keys(c.tracerDropped).length);
  if (drops.length) {
    lines.push('');
    lines.push(`Tracewire dropped spans: ${drops.map((c) => `${c.framework}/${c.variant} ${JSON.stringify(c.tracerDropped)}`).join('; ')}.`);
  }
  lines.push('');
  return lines.join('\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
