'use strict';
/**
 * Helpers shared by the HTTP benchmark's orchestrator (run.js) and soak (soak.js): starting a
 * server process pinned to its core, talking to its control endpoint, and describing the machine.
 */
const { spawn, spawnSync } = require('node:child_process');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');

const SERVER = path.join(__dirname, 'server.js');
const RESULTS = path.join(__dirname, '..', 'results');

/** Whether `taskset` exists (Linux, util-linux) and can pin on this machine's cores. */
const HAS_TASKSET =
  process.platform === 'linux' && os.cpus().length >= 2 && spawnSync('taskset', ['-c', '0', 'true']).status === 0;

/**
 * Re-runs the current script under `taskset -c <core>` once, so the load generator (this process,
 * with all its threads) stays off the server's core. Returns true when the caller should stop:
 * the pinned child is running and this process only relays its exit code.
 */
function pinSelf(core) {
  if (!HAS_TASKSET || process.env.BENCH_PINNED) return false;
  const child = spawn('taskset', ['-c', String(core), process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_PINNED: String(core) },
  });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  return true;
}

/**
 * Starts `server.js <framework> <variant>` (pinned to core 0 when taskset exists; `<variant>=<adapter
 * options JSON>` runs it with those adapter options, for an experiment) and resolves with
 * `{ port, control, pid, stop() }` once it printed its ports.
 */
function startServer(framework, spec, { nodeArgs = [], env = {} } = {}) {
  // A variant may carry adapter options for experiments: tracewire='{"stream":false}', and the
  // tree whose build it runs, for A/B of two builds in one run: tracewire@/tmp/before-tree.
  const [named, options] = spec.split(/=(.*)/s);
  const [variant, tree] = named.split(/@(.*)/s);
  if (options) env = { ...env, BENCH_TW_OPTIONS: options };
  const args = [...nodeArgs, tree ? path.join(tree, 'bench', 'http', 'server.js') : SERVER, framework, variant];
  const [cmd, argv] = HAS_TASKSET ? ['taskset', ['-c', '0', process.execPath, ...args]] : [process.execPath, args];
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${framework}/${variant}: server did not print its port within 30 s`));
    }, 30000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${framework}/${variant}: server exited with code ${code} before it was ready`));
    });
    const lines = readline.createInterface({ input: child.stdout });
    const first = (line) => {
      // V8's tracing flags (BENCH_NODE_ARGS="--trace-gc") print before the server's line: passed on.
      if (nodeArgs.length > 0 && !line.startsWith('{')) {
        process.stderr.write(`[${framework}/${variant}] ${line}\n`);
        lines.once('line', first);
        return;
      }
      clearTimeout(timer);
      child.removeAllListeners('exit');
      let info;
      try {
        info = JSON.parse(line);
      } catch {
        child.kill('SIGKILL');
        reject(new Error(`${framework}/${variant}: unexpected first line from server: ${line}`));
        return;
      }
      // Anything the server prints later (it should print nothing) goes to our stderr.
      lines.on('line', (l) => process.stderr.write(`[${framework}/${variant}] ${l}\n`));
      const exited = new Promise((r) => child.once('exit', r));
      resolve({
        ...info,
        pid: child.pid,
        stop: async () => {
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(t);
        },
      });
    };
    lines.once('line', first);
  });
}

/** GET `http://127.0.0.1:<port><path>` and parse the JSON answer. */
function control(port, pathname) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: pathname, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`control ${pathname}: HTTP ${res.statusCode} ${body}`));
        try {
          resolve(JSON.parse(body));
        } catch (err) {
          reject(err);
        }
      });
    });
    req.setTimeout(60000, () => req.destroy(new Error(`control ${pathname}: timeout`)));
    req.on('error', reject);
  });
}

/** The machine the numbers were measured on. */
function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0] ? cpus[0].model.trim() : 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    v8: process.versions.v8,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    pinned: HAS_TASKSET ? 'server on core 0, load generator on core 1 (taskset)' : 'not pinned (no taskset)',
  };
}

/** Installed versions of the packages the servers load, read from their package.json. */
function versions(names) {
  const out = {};
  for (const name of names) {
    try {
      out[name] = require(`${name}/package.json`).version;
    } catch {
      try {
        // Packages whose exports map hides package.json: walk up from the resolved entry point.
        let dir = path.dirname(require.resolve(name));
        while (dir !== path.dirname(dir)) {
          try {
            const pkg = require(path.join(dir, 'package.json'));
            if (pkg.name === name) {
              out[name] = pkg.version;
              break;
            }
          } catch {
            // no package.json here; keep walking up
          }
          dir = path.dirname(dir);
        }
      } catch {
        out[name] = 'not installed';
      }
    }
  }
  return out;
}

/** Local date as YYYY-MM-DD (the results file name). */
function today() {
  const d = new Date();
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

module.exports = { HAS_TASKSET, RESULTS, pinSelf, startServer, control, machine, versions, today, sleep };
