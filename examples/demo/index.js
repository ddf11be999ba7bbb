'use strict';
/* global AbortController */
/**
 * Tracewire's demo: a small LLM app of three services on loopback, each its own process with its
 * own tracer, all exporting traces and metrics over OTLP/HTTP to a local trace viewer.
 *
 *   client ──► gateway (Express) ──► chat (Fastify, openai / @anthropic-ai/sdk with tracedFetch)
 *                                        └──► mock-llm (Koa: OpenAI- and Anthropic-compatible, streaming)
 *
 * A traffic generator sends normal turns, tool calls, slow answers, errors and clients that leave
 * mid-stream. Open the printed viewer URL to watch the traces arrive.
 *
 * Run: pnpm demo   (or: pnpm build && node examples/demo/index.js)
 * Environment: VIEWER_PORT (default 4318, the OTLP/HTTP port; any free port when it is taken),
 * DEMO_DURATION (seconds, then exit; default: until Ctrl-C), MOCK_LLM_ERROR_RATE (default 0.05),
 * DEMO_QUIET=1 (no line per request), DEMO_SAMPLE_RATIO (the traces the gateway keeps, default 1:
 * with 0.1 the viewer holds a tenth of the traces while its metrics panel still counts every request).
 */
const { fork } = require('node:child_process');
const { join } = require('node:path');
const { createViewer } = require('@tracewire/viewer');
const { runTraffic } = require('./traffic');

const quiet = process.env.DEMO_QUIET === '1';
const log = (line) => process.stdout.write(line + '\n');

function duration() {
  const raw = process.env.DEMO_DURATION;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`DEMO_DURATION must be a number of seconds > 0, got ${JSON.stringify(raw)}; running until Ctrl-C`);
    return undefined;
  }
  return n;
}

async function startViewer() {
  const raw = process.env.VIEWER_PORT;
  const port = raw === undefined || raw === '' ? 4318 : Number(raw);
  try {
    return await createViewer({ port });
  } catch (err) {
    // Something (another viewer, a Collector) has 4318: any free port will do for the demo.
    if (err.code === 'EADDRINUSE' && raw === undefined) return createViewer({ port: 0 });
    throw err;
  }
}

/** Forks one service; resolves with its URL once it listens. */
function startService(name, env, children) {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, 'services', 'run.js'), [name], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    const timer = setTimeout(() => reject(new Error(`${name} did not start in 20 s`)), 20000);
    child.once('message', (m) => {
      clearTimeout(timer);
      if (m && m.ready) resolve(m.url);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with code ${code} before it was ready`));
    });
  });
}

async function main() {
  const viewer = await startViewer();
  const children = [];
  const tracesUrl = `${viewer.url}/v1/traces`;
  const traffic = new AbortController();
  const counts = { total: 0 };
  let running = Promise.resolve();
  let stopping;

  const stop = (code = 0) => {
    stopping ??= (async () => {
      traffic.abort();
      await running;
      // Each service delivers what its tracer holds, then exits; the viewer stays up until they have.
      await Promise.all(children.map((c) => new Promise((resolve) => {
        if (c.exitCode !== null || c.signalCode !== null) return resolve();
        const t = setTimeout(() => {
          c.kill('SIGKILL');
          resolve();
        }, 6000);
        c.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        if (c.connected) c.send('shutdown');
      })));
      const stats = viewer.stats();
      log(`demo: stopped after ${counts.total} requests; the viewer held ${stats.traces} traces (${stats.spans} spans)`);
      await viewer.close();
      process.exit(code);
    })();
    return stopping;
  };
  process.once('SIGINT', () => stop(0));
  process.once('SIGTERM', () => stop(0));

  try {
    const otlp = { TRACES_URL: tracesUrl, METRICS_URL: `${viewer.url}/v1/metrics` };
    const mockUrl = await startService('mock-llm', otlp, children);
    const chatUrl = await startService('chat', { ...otlp, UPSTREAM_URL: mockUrl }, children);
    const gatewayUrl = await startService('gateway', { ...otlp, UPSTREAM_URL: chatUrl }, children);

    log(`viewer: ${viewer.url}`);
    log(`gateway: ${gatewayUrl}  (try: curl -N ${gatewayUrl}/api/chat -H 'content-type: application/json' -d '{"message":"hello"}')`);
    log(`services: gateway (Express) → chat (Fastify) → mock-llm (Koa) at ${mockUrl}; OTLP/HTTP to ${tracesUrl}`);
    const seconds = duration();
    log(seconds ? `demo: sending traffic for ${seconds} s` : 'demo: sending traffic; Ctrl-C to stop');

    running = runTraffic({
      gatewayUrl,
      signal: traffic.signal,
      onResult: (r) => {
        counts.total++;
        counts[r.case] = (counts[r.case] ?? 0) + 1;
        if (!quiet) log(`  ${String(r.status || '---').padEnd(3)} ${r.case.padEnd(15)} ${String(r.ms).padStart(5)} ms${r.aborted ? '  (client left mid-stream)' : ''}`);
      },
    });
    if (seconds) setTimeout(() => stop(0), seconds * 1000).unref();
  } catch (err) {
    console.error(`demo: ${err.message}`);
    await stop(1);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
