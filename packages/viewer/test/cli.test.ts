/**
 * `tracewire-viewer`: opens the JSON-lines files ConsoleExporter({ format: 'json' }) writes, then
 * serves them. In process through main(), and as the package's bin in a child process (built
 * output: `pnpm test` builds first).
 */
import { spawn } from 'node:child_process';
import { appendFileSync, createWriteStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsoleExporter, createTracer } from '@tracewire/core';
import { main, parseArgs } from '../src/cli';
import type { TraceSummary } from '../src';
import { getJson } from './helpers';

let dir: string;
let file: string;
const traceIds: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tracewire-viewer-'));
  file = join(dir, 'traces.jsonl');
  const stream = createWriteStream(file);
  const tracer = createTracer({ serviceName: 'from-file', exporters: [new ConsoleExporter({ format: 'json', stream })] });
  for (const name of ['GET /a', 'GET /b']) {
    const root = tracer.startSpan(name, { kind: 'server', attributes: { 'http.route': name.slice(4) } });
    tracer.startSpan('child', { parent: root }).end();
    root.end();
    traceIds.push(root.spanContext().traceId);
  }
  await tracer.shutdown();
  await new Promise<void>((resolve) => stream.end(resolve));
  appendFileSync(file, 'this is not json\n\n{"traceId": 1}\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseArgs', () => {
  it('reads --port, --host, --max-traces (also as --flag=value) and files', () => {
    expect(parseArgs(['--port', '0', '--host=::1', '--max-traces', '5', 'a.jsonl', 'b.jsonl'])).toEqual({ port: 0, host: '::1', maxTraces: 5, files: ['a.jsonl', 'b.jsonl'], help: false });
    expect(parseArgs([])).toEqual({ port: 4318, host: '127.0.0.1', files: [], help: false });
  });
  it('names what is wrong', () => {
    expect(() => parseArgs(['--port', 'x'])).toThrow('--port must be an integer from 0 to 65535, got x');
    expect(() => parseArgs(['--port'])).toThrow('--port needs a value');
    expect(() => parseArgs(['--max-traces', '0'])).toThrow(/--max-traces must be a positive integer/);
    expect(() => parseArgs(['--verbose'])).toThrow('unknown option --verbose');
  });
});

describe('main', () => {
  afterEach(() => {
    process.exitCode = undefined;
  });

  it('loads the traces of a ConsoleExporter json file, reports lines that are not traces, and serves them', async () => {
    const lines: string[] = [];
    const close = await main(['--port', '0', file], (l) => lines.push(l));
    try {
      expect(lines[0]).toBe(`loaded 2 trace(s) from ${file}; skipped 2 line(s) that are not traces (line 3, 5)`);
      const url = lines.find((l) => l.startsWith('viewer: '))!.slice('viewer: '.length);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const traces = await getJson<TraceSummary[]>(url, '/api/traces');
      expect(traces.map((t) => t.traceId).sort()).toEqual([...traceIds].sort());
      expect(traces.every((t) => t.services[0] === 'from-file' && t.spanCount === 2)).toBe(true);
      const detail = await getJson(url, `/api/traces/${traceIds[0]}`);
      expect(detail.spans.map((s: any) => s.name)).toEqual(['GET /a', 'child']);
    } finally {
      await close();
    }
    expect(process.exitCode).toBeUndefined();
  });

  it('says which file it cannot read and sets a failing exit code', async () => {
    const lines: string[] = [];
    const close = await main(['--port', '0', join(dir, 'missing.jsonl')], (l) => lines.push(l));
    await close();
    expect(lines[0]).toMatch(/^tracewire-viewer: cannot read .*missing\.jsonl: ENOENT/);
    expect(process.exitCode).toBe(1);
  });

  it('explains a port already in use', async () => {
    const first: string[] = [];
    const close = await main(['--port', '0'], (l) => first.push(l));
    const port = first.find((l) => l.startsWith('viewer: '))!.split(':').pop()!;
    const lines: string[] = [];
    try {
      await main(['--port', port], (l) => lines.push(l));
      expect(lines[0]).toBe(`tracewire-viewer: port ${port} is in use on 127.0.0.1 (another viewer or an OpenTelemetry Collector?); try --port 0`);
      expect(process.exitCode).toBe(1);
    } finally {
      await close();
    }
  });

  it('prints usage for a bad option, with exit code 2', async () => {
    const lines: string[] = [];
    await main(['--nope'], (l) => lines.push(l));
    expect(lines[0]).toMatch(/^tracewire-viewer: unknown option --nope\n\nusage: tracewire-viewer/);
    expect(process.exitCode).toBe(2);
  });
});

describe('the tracewire-viewer bin', () => {
  it('runs standalone, serves the file it was given, and stops on SIGTERM', async () => {
    const bin = join(__dirname, '..', 'bin', 'tracewire-viewer.js');
    if (!existsSync(join(__dirname, '..', 'dist', 'cli.js'))) throw new Error('packages/viewer/dist is missing: run `pnpm build` first (pnpm test does)');
    const child = spawn(process.execPath, [bin, '--port', '0', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no viewer line in time: ${stderr}`)), 10000);
      child.stderr.on('data', () => {
        const m = /viewer: (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
    });
    const traces = await getJson<TraceSummary[]>(url, '/api/traces');
    expect(traces).toHaveLength(2);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
