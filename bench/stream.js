'use strict';
/**
 * Stream accumulator benchmark: what the response tap pays per streamed LLM response.
 *
 * - CPU µs per stream: the 51-event OpenAI-shaped SSE stream that bench/http's `/stream` route sends
 *   (role chunk, 47 content chunks, finish chunk, usage chunk, `[DONE]`), one `write()` per event,
 *   then `end()` and `attributes()`, as the tap does. Written as strings (what `res.write(string)`
 *   hands over) and as Buffers, with captureContent off (the default) and on. CPU time is
 *   `process.cpuUsage()` (user + system, GC threads included): median of rounds, min–max as noise.
 *   Each case runs in a fresh process, so none inherits a heap the others grew.
 * - Minor GCs per 10k streams during those runs: each is a pause a real server pays too.
 * - Bytes allocated per stream: heap growth over a batch of streams in a process whose young
 *   generation is large enough that no GC runs inside a batch (median of batches).
 * - Decode throughput (MB/s) of the recorded provider streams in test-utils/fixtures/llm-streams, fed
 *   whole, as one Buffer and as one string.
 *
 * Run after a build: `node bench/stream.js`. TRACEWIRE_CORE=<dir> benchmarks another build of
 * @tracewire/core (e.g. a copy of an older dist), BENCH_ROUNDS / BENCH_ROUND_MS change the rounds,
 * BENCH_JSON=<file> also writes the numbers as JSON.
 */
// On the Node chosen with --node <major> / BENCH_NODE (bench/node.js), when one is.
if (require('./node').underNode()) return;
const { spawnSync } = require('node:child_process');
const { readFileSync, writeFileSync } = require('node:fs');
const { cpus } = require('node:os');
const { dirname, join } = require('node:path');
const { PerformanceObserver, constants } = require('node:perf_hooks');
const v8 = require('node:v8');
const vm = require('node:vm');

const CORE = process.env.TRACEWIRE_CORE || '@tracewire/core';
const { createStreamAccumulator } = require(CORE);
// The response tap's accumulator, which keeps no generated text unless content is captured (a build
// from before that option ignores it and keeps the text, as the tap then did). Since issue #12 it
// takes its settings in one object (keepText there); older builds took (options, fastPaths,
// keepText): both are passed. The tap's joining of small Buffer writes (http/tap.ts, and in the
// accumulator itself before issue #12) is not part of this loop: bench/http measures it.
const tapAccumulator = (() => {
  try {
    // not an export of the package: reached by its path inside the resolved build
    const { Accumulator } = require(join(dirname(require.resolve(CORE)), 'stream/accumulator'));
    return (options) => new Accumulator({ ...options, keepText: false }, true, false);
  } catch {
    return createStreamAccumulator; // a build without the class
  }
})();

const SELF = join(__dirname, 'stream.js');
const ROUNDS = Number(process.env.BENCH_ROUNDS || 7);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS || 300);
const FIXTURES = process.env.BENCH_FIXTURES || join(__dirname, '../test-utils/fixtures/llm-streams');

// --- the /stream route's body ---------------------------------------------------------------
function openAIStream(chunks) {
  const base = {
    id: 'chatcmpl-bench0001',
    object: 'chat.completion.chunk',
    created: 1700000000,
    model: 'gpt-4o-mini-2024-07-18',
    system_fingerprint: 'fp_bench',
  };
  const events = [{ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] }];
  for (let i = 0; i < chunks - 3; i++) {
    events.push({ ...base, choices: [{ index: 0, delta: { content: `token${i} ` }, logprobs: null, finish_reason: null }] });
  }
  events.push({ ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }] });
  events.push({ ...base, choices: [], usage: { prompt_tokens: 25, completion_tokens: chunks - 3, total_tokens: 25 + chunks - 3 } });
  return [...events.map((e) => `data: ${JSON.stringify(e)}\n\n`), 'data: [DONE]\n\n'];
}

const STRINGS = openAIStream(50);
const BUFFERS = STRINGS.map((s) => Buffer.from(s));

function runStream(chunks, captureContent) {
  const acc = tapAccumulator({ format: 'sse', startTime: Date.now(), captureContent });
  for (let i = 0; i < chunks.length; i++) acc.write(chunks[i]);
  acc.end();
  return acc.attributes();
}

const LONG_EVENTS = 10000;
const PLAIN_TEXT = Array.from({ length: LONG_EVENTS }, (_, i) => Buffer.from(`data: line ${i} of a plain-text feed\n\n`));
const JSON_OBJECTS = Array.from({ length: LONG_EVENTS }, (_, i) => Buffer.from(`data: {"n":${i},"status":"ok"}\n\n`));

// --- measurement ------------------------------------------------------------------------------
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** CPU µs per call of fn: median of rounds, min and max, and how many calls ran. */
function cpuPerCall(fn) {
  const warmEnd = Date.now() + 200;
  while (Date.now() < warmEnd) for (let i = 0; i < 100; i++) fn();
  const rounds = [];
  let calls = 0;
  for (let r = 0; r < ROUNDS; r++) {
    let n = 0;
    const start = process.cpuUsage();
    const end = Date.now() + ROUND_MS;
    while (Date.now() < end) {
      for (let i = 0; i < 100; i++) fn();
      n += 100;
    }
    const used = process.cpuUsage(start);
    rounds.push((used.user + used.system) / n);
    calls += n;
  }
  return { median: median(rounds), min: Math.min(...rounds), max: Math.max(...rounds), calls };
}

/** CPU ms per call of a slow fn (a whole long stream): median of ROUNDS calls after two warm-up calls. */
function cpuPerStream(fn) {
  fn();
  fn();
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.cpuUsage();
    fn();
    const used = process.cpuUsage(start);
    rounds.push((used.user + used.system) / 1000);
  }
  return { median: median(rounds), min: Math.min(...rounds), max: Math.max(...rounds) };
}

/** Runs this file in a fresh node process; returns what it prints, parsed as JSON. */
function child(nodeFlags, args) {
  const out = spawnSync(process.execPath, [...nodeFlags, SELF, ...args], { encoding: 'utf8', env: process.env });
  try {
    return JSON.parse(out.stdout);
  } catch {
    throw new Error(`bench/stream.js ${args.join(' ')} failed: ${out.stderr || out.stdout}`);
  }
}

/** (In a child.) CPU per stream and minor GCs per 10k streams. */
async function cpuProbe(chunks, captureContent) {
  let minorGCs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e.detail ? e.detail.kind : e.kind) === constants.NODE_PERFORMANCE_GC_MINOR) minorGCs++;
  });
  observer.observe({ entryTypes: ['gc'] });
  const cpu = cpuPerCall(() => runStream(chunks, captureContent));
  await new Promise((resolve) => setTimeout(resolve, 50)); // GC entries are delivered asynchronously
  observer.disconnect();
  return { cpu, minorGCsPer10k: (minorGCs * 10000) / cpu.calls };
}

/** (In a child with a large young generation.) Bytes allocated per stream, less what measuring costs. */
function allocationProbe(chunks, captureContent) {
  if (typeof global.gc !== 'function') v8.setFlagsFromString('--expose-gc');
  const gc = typeof global.gc === 'function' ? global.gc : vm.runInNewContext('gc');
  const BATCH = 100;
  const growth = (f) => {
    gc();
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < BATCH; i++) f();
    return process.memoryUsage().heapUsed - before;
  };
  const stream = () => runStream(chunks, captureContent);
  for (let i = 0; i < 2000; i++) stream();
  const grown = [];
  const idle = [];
  for (let k = 0; k < 15; k++) {
    grown.push(growth(stream));
    idle.push(growth(() => undefined));
  }
  return (median(grown) - median(idle)) / BATCH;
}

function loadFixtures() {
  const index = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8'));
  return Object.entries(index.fixtures).map(([name, f]) => ({
    name,
    contentType: f.responseHeaders['content-type'],
    bytes: readFileSync(join(FIXTURES, f.file)),
  }));
}

function main() {
  const results = { node: process.version, cpu: cpus()[0].model, streams: [], fixtures: [] };
  console.log(`node ${process.version}, ${results.cpu}, ${ROUNDS} rounds x ${ROUND_MS} ms\n`);
  console.log(`51-event OpenAI SSE stream (${BUFFERS.reduce((n, b) => n + b.length, 0)} bytes), write() per event + end() + attributes()\n`);
  console.log('| input | captureContent | CPU µs/stream (min–max) | bytes allocated/stream | minor GCs per 10k streams |');
  console.log('|---|---|---|---|---|');
  for (const input of ['strings', 'Buffers']) {
    for (const captureContent of [false, true]) {
      const args = [input, String(captureContent)];
      const { cpu, minorGCsPer10k } = child([], ['--cpu', ...args]);
      const bytes = child(['--min-semi-space-size=64', '--max-semi-space-size=64'], ['--allocations', ...args]);
      results.streams.push({ input, captureContent, cpuMicros: cpu, bytesAllocated: bytes, minorGCsPer10k });
      const range = `${cpu.min.toFixed(1)}–${cpu.max.toFixed(1)}`;
      console.log(`| ${input} | ${captureContent ? 'on' : 'off'} | ${cpu.median.toFixed(1)} (${range}) | ${Math.round(bytes)} | ${minorGCsPer10k.toFixed(1)} |`);
    }
  }

  // Long event streams that are not LLM streams: plain-text `data:` lines (a log tail, a progress
  // feed) and small JSON objects, 10 000 events written one by one, as the tap sees them.
  console.log(`\n${LONG_EVENTS}-event SSE streams that are not LLM streams, write() per event (Buffers) + end() + attributes()\n`);
  console.log('| events | CPU ms/stream (min–max) |');
  console.log('|---|---|');
  results.longStreams = [];
  for (const [name, events] of [['plain text', PLAIN_TEXT], ['JSON objects', JSON_OBJECTS]]) {
    const cpu = cpuPerStream(() => runStream(events, false));
    results.longStreams.push({ events: name, count: LONG_EVENTS, cpuMillis: cpu });
    console.log(`| ${name} (\`${events[0].toString().trim()}\`) | ${cpu.median.toFixed(2)} (${cpu.min.toFixed(2)}–${cpu.max.toFixed(2)}) |`);
  }

  console.log('\nRecorded provider streams fed whole (captureContent off): µs per stream, MB/s\n');
  console.log('| fixture | bytes | as a Buffer | MB/s | as a string | MB/s |');
  console.log('|---|---|---|---|---|---|');
  for (const f of loadFixtures()) {
    const text = f.bytes.toString('utf8');
    const decode = (chunk) => () => {
      const acc = createStreamAccumulator({ contentType: f.contentType });
      acc.write(chunk);
      acc.end();
      return acc.attributes();
    };
    const buffer = cpuPerCall(decode(f.bytes));
    const string = cpuPerCall(decode(text));
    const mbps = (cpu) => f.bytes.length / cpu.median; // bytes per µs = MB/s
    results.fixtures.push({ name: f.name, bytes: f.bytes.length, buffer: { cpuMicros: buffer, mbPerSecond: mbps(buffer) }, string: { cpuMicros: string, mbPerSecond: mbps(string) } });
    console.log(`| ${f.name} | ${f.bytes.length} | ${buffer.median.toFixed(1)} | ${mbps(buffer).toFixed(0)} | ${string.median.toFixed(1)} | ${mbps(string).toFixed(0)} |`);
  }

  if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify(results, null, 2));
}

const [mode, input, capture] = process.argv.slice(2);
const chunks = input === 'strings' ? STRINGS : BUFFERS;
if (mode === '--cpu') {
  cpuProbe(chunks, capture === 'true').then((r) => console.log(JSON.stringify(r)));
} else if (mode === '--allocations') {
  console.log(JSON.stringify(allocationProbe(chunks, capture === 'true')));
} else {
  main();
}
