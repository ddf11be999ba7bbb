/**
 * The official W3C Trace Context test suite (https://github.com/w3c/trace-context/tree/main/test,
 * vendored in integration/w3c-trace-context with its licence and commit) against an Express service
 * that calls out with tracedFetch: the harness POSTs `[{ url, arguments }]` with hand-written trace
 * headers, the service calls each `url` and the harness checks the headers it receives.
 * SPEC_LEVEL=2 (Level 2: the random flag) and STRICT_LEVEL=2 (every tracestate limit): 41 tests.
 * Needs Python 3 with aiohttp: scripts/ensure-system-deps.sh installs Debian's python3-aiohttp
 * when it is missing (as root, or with passwordless sudo).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { getTracer, setGlobalTracer, tracedFetch } from '@tracewire/core';
import type { Tracer } from '@tracewire/core';
import { tracingMiddleware } from '@tracewire/express';
import { memoryTracer } from '../packages/core/test/helpers';
import { listen } from '../test-utils/http';
import type { Listening } from '../test-utils/http';
import { express } from './frameworks';

const SUITE = join(__dirname, 'w3c-trace-context');
const ROOT = join(__dirname, '..');
/** Debian's python3-aiohttp is installed for the system Python, not for one earlier on PATH. */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const EXPECTED_TESTS = 41;

let previous: Tracer;
let tracer: Tracer;
let service: Listening;

/** A port free right now on 127.0.0.1, for the harness (it needs a fixed one to call back on). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function runSuite(endpoint: string, port: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['test.py', endpoint], {
      cwd: SUITE,
      env: {
        ...process.env,
        SPEC_LEVEL: '2',
        STRICT_LEVEL: '2',
        HARNESS_HOST: '127.0.0.1',
        HARNESS_PORT: String(port),
        HARNESS_TIMEOUT: '5',
        // No __pycache__ inside the repository.
        PYTHONDONTWRITEBYTECODE: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

beforeAll(async () => {
  // Installs python3-aiohttp when it is missing (CI on a fresh machine); a no-op otherwise.
  execFileSync('bash', [join(ROOT, 'scripts', 'ensure-system-deps.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });

  previous = getTracer();
  ({ tracer } = memoryTracer());
  setGlobalTracer(tracer);
  const app = express();
  app.use(tracingMiddleware());
  app.use(express.json());
  app.post('/test', async (req: any, res: any, next: any) => {
    try {
      for (const item of req.body as Array<{ url: string; arguments: unknown }>) {
        const r = await tracedFetch(item.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(item.arguments),
        });
        await r.text();
      }
      res.json({ ok: true });
    } catch (err) {
      next(err);
    }
  });
  service = await listen(http.createServer(app));
}, 300_000);

afterAll(async () => {
  await service?.close();
  await tracer?.shutdown();
  if (previous) setGlobalTracer(previous);
});

describe('W3C Trace Context test suite (Express + tracedFetch, SPEC_LEVEL=2, STRICT_LEVEL=2)', () => {
  it(`passes all ${EXPECTED_TESTS} tests`, async () => {
    const { code, output } = await runSuite(`${service.url}/test`, await freePort());
    const passed = output.split('\n').filter((l) => / \.\.\. ok$/.test(l)).length;
    const failed = output.split('\n').filter((l) => / \.\.\. (FAIL|ERROR)$/.test(l) || / \.\.\. skipped /.test(l));
    // The whole harness output on failure: which test, which header.
    if (code !== 0 || passed !== EXPECTED_TESTS) process.stderr.write(output + '\n');
    expect(failed).toEqual([]);
    expect(output).toMatch(new RegExp(`^Ran ${EXPECTED_TESTS} tests in`, 'm'));
    expect(passed).toBe(EXPECTED_TESTS);
    expect(code).toBe(0);
  }, 280_000);
});
