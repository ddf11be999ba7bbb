/**
 * The packages as a user installs them. Every package under packages/ is packed with `pnpm pack`
 * (its prepack builds it; `workspace:^` ranges become real versions), the tarballs are installed
 * with npm into fresh apps in the system temp folder, outside the repository, and the README's
 * quick-start snippets (the code blocks marked `<!-- snippet: name -->`) run there as written,
 * CommonJS and ES modules, each serving a real request whose trace it must print.
 *
 * Two apps: `latest` takes the newest release of the highest major each adapter's peer range
 * allows (Express 5, Koa 3, Fastify 5), `oldest` the lowest version the range allows (Express
 * 4.17.0, Koa 2.13.0, Fastify 4.0.0, @grpc/grpc-js 1.10.0), so both ends of the ranges we publish are exercised. The
 * `latest` app also type-checks a TypeScript file against the installed declarations.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FinishedTrace, SpanData } from '@tracewire/core';

const repo = join(__dirname, '..');
const PNPM = ['-y', 'pnpm@10'];
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** The framework each adapter serves, by adapter directory. */
const FRAMEWORKS: Record<string, string> = { express: 'express', koa: 'koa', fastify: 'fastify', grpc: '@grpc/grpc-js' };

jest.setTimeout(60_000);

// ---------------------------------------------------------------------------------------------
// helpers

/**
 * The environment of every child: ours, without what would change how npm or Tracewire behave
 * (the npm_* settings pnpm passes to its scripts, OTEL_* variables, NODE_OPTIONS).
 */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  const keep = /^npm_config_(registry|cache|userconfig|proxy|https_proxy|noproxy|strict_ssl|cafile)$/i;
  for (const [k, v] of Object.entries(process.env)) {
    if (/^OTEL_/i.test(k) || k === 'NODE_OPTIONS' || k === 'NODE_PATH') continue;
    if (/^(npm|pnpm)_/i.test(k) && !keep.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/** Runs a command to its end; rejects with its output when it fails. */
function run(cmd: string, args: string[], cwd: string, timeoutMs: number, env = childEnv()): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** The README's code blocks marked `<!-- snippet: name -->`, by name. */
function readmeSnippets(): Map<string, string> {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const out = new Map<string, string>();
  const re = /<!-- snippet: ([\w.-]+) -->\s*\n```[a-z]*\n([\s\S]*?)\n```/g;
  for (const m of readme.matchAll(re)) {
    if (out.has(m[1])) throw new Error(`README.md: two snippets named ${m[1]}`);
    out.set(m[1], m[2] + '\n');
  }
  return out;
}

const children = new Set<ChildProcess>();

/** A running snippet: its stdout split into lines, and the traces among them (JSON lines). */
class Proc {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly traces: FinishedTrace[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private waiters: Array<() => void> = [];

  constructor(cwd: string, file: string, env: Record<string, string>) {
    this.child = spawn(process.execPath, [file], { cwd, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(this.child);
    let buf = '';
    this.child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        this.lines.push(line);
        if (line.startsWith('{')) this.traces.push(JSON.parse(line) as FinishedTrace);
      }
      this.notify();
    });
    this.child.stderr!.on('data', (c: Buffer) => (this.stderr += c.toString()));
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code) => {
        children.delete(this.child);
        this.notify();
        resolve(code);
      });
    });
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once `test` holds of what was printed; rejects with the output after `ms`. */
  async until<T>(what: string, test: () => T | undefined, ms = 20_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = test();
      if (v !== undefined) return v;
      if (this.child.exitCode !== null || this.child.signalCode !== null || Date.now() > deadline) {
        throw new Error(`waiting for ${what}: ${this.child.exitCode !== null ? `exited ${this.child.exitCode}` : 'timed out'}\nstdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The URL the snippet printed (`listening on <url>`). */
  url(): Promise<string> {
    return this.until('listening on <url>', () => {
      for (const l of this.lines) {
        const m = /listening on (http:\/\/\S+)/.exec(l);
        if (m) return m[1].replace(/\/$/, '');
      }
      return undefined;
    });
  }

  /** The first `n` traces printed. */
  tracesN(n: number): Promise<FinishedTrace[]> {
    return this.until(`${n} traces`, () => (this.traces.length >= n ? this.traces.slice(0, n) : undefined));
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }
}

const root = (t: FinishedTrace): SpanData => t.spans.find((s) => s.spanId === t.rootSpanId)!;
const byName = (t: FinishedTrace, name: string): SpanData => {
  const s = t.spans.find((x) => x.name === name);
  if (!s) throw new Error(`no span ${name} in ${JSON.stringify(t.spans.map((x) => x.name))}`);
  return s;
};
const traceNamed = (traces: FinishedTrace[], name: string): FinishedTrace => {
  const t = traces.find((x) => root(x).name === name);
  if (!t) throw new Error(`no trace ${name} in ${JSON.stringify(traces.map((x) => root(x).name))}`);
  return t;
};

/** Lowest and highest alternatives of a peer range such as `^4.17.0 || ^5.0.0`. */
function rangeEnds(range: string): { oldest: string; latest: string } {
  const alts = range.split('||').map((a) => a.trim());
  const oldest = /^\^?(\d+\.\d+\.\d+)$/.exec(alts[0]);
  const latest = /^\^?(\d+)\.\d+\.\d+$/.exec(alts[alts.length - 1]);
  if (!oldest || !latest) throw new Error(`cannot read the peer range ${range}`);
  return { oldest: oldest[1], latest: `^${latest[1]}.0.0` };
}

// ---------------------------------------------------------------------------------------------
// setup: pack, install

interface Packed {
  dir: string; // packages/<dir>
  tarball: string;
  files: string[];
  manifest: Record<string, any>;
}

const work = mkdtempSync(join(tmpdir(), 'tracewire-pack-'));
const snippets = readmeSnippets();
const packed: Packed[] = [];
const apps = { latest: join(work, 'latest'), oldest: join(work, 'oldest') };
const installed: Record<keyof typeof apps, Record<string, string>> = { latest: {}, oldest: {} };

beforeAll(async () => {
  const tarballs = join(work, 'tarballs');
  mkdirSync(tarballs);
  // The packages to publish, by name; every one is packed by one recursive pack (each prepack builds).
  const dirOf = new Map<string, string>();
  for (const d of readdirSync(join(repo, 'packages'))) {
    try {
      const m = JSON.parse(readFileSync(join(repo, 'packages', d, 'package.json'), 'utf8'));
      if (!m.private) dirOf.set(m.name, d);
    } catch {
      // not a package
    }
  }
  await run(npx, [...PNPM, '-r', '--filter', './packages/*', 'pack', '--pack-destination', tarballs], repo, 300_000);
  for (const file of readdirSync(tarballs).filter((f) => f.endsWith('.tgz'))) {
    const tarball = join(tarballs, file);
    const files = (await run('tar', ['-tzf', tarball], work, 30_000)).split('\n').filter(Boolean);
    const manifest = JSON.parse(await run('tar', ['-xzOf', tarball, 'package/package.json'], work, 30_000));
    const dir = dirOf.get(manifest.name);
    if (dir === undefined) throw new Error(`pnpm pack made ${file}, not a package of packages/`);
    packed.push({ dir, tarball, files, manifest });
  }
  expect(packed.map((p) => p.manifest.name).sort()).toEqual([...dirOf.keys()].sort());

  const monorepo = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
  const devVersion = (name: string) => monorepo.devDependencies[name] as string;
  const common: Record<string, string> = {};
  for (const p of packed) common[p.manifest.name] = `file:${p.tarball}`;
  for (const app of ['latest', 'oldest'] as const) {
    const deps: Record<string, string> = { ...common };
    for (const p of packed) {
      const fw = FRAMEWORKS[p.dir];
      if (fw) deps[fw] = rangeEnds(p.manifest.peerDependencies[fw])[app];
    }
    deps['@koa/router'] = JSON.parse(readFileSync(join(repo, 'packages', 'koa', 'package.json'), 'utf8')).devDependencies['@koa/router'];
    // @tracewire/opentelemetry's peer range, >=1.9.0 <1.10.0: its lowest and its newest release.
    deps['@opentelemetry/api'] = app === 'oldest' ? '1.9.0' : '~1.9.0';
    // The gRPC snippet reads its service with proto-loader, as gRPC apps do.
    deps['@grpc/proto-loader'] = JSON.parse(readFileSync(join(repo, 'packages', 'grpc', 'package.json'), 'utf8')).devDependencies['@grpc/proto-loader'];
    if (app === 'latest') {
      // The tracedFetch snippet builds the OpenAI and Anthropic clients; the TypeScript check.
      Object.assign(deps, {
        openai: devVersion('openai'),
        '@anthropic-ai/sdk': devVersion('@anthropic-ai/sdk'),
        typescript: devVersion('typescript'),
        '@types/node': devVersion('@types/node'),
        '@types/express': '^5.0.0',
        '@types/koa': '^3.0.0',
      });
    }
    mkdirSync(apps[app]);
    writeFileSync(join(apps[app], 'package.json'), JSON.stringify({ name: `tracewire-${app}-app`, version: '0.0.0', private: true, dependencies: deps }, null, 2));
    for (const [name, code] of snippets) writeFileSync(join(apps[app], name), code);
  }
  // Both installs at once: they share npm's cache, and most of the time is the network.
  await Promise.all(
    (['latest', 'oldest'] as const).map((app) =>
      run(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], apps[app], 300_000),
    ),
  );
  for (const app of ['latest', 'oldest'] as const) {
    for (const fw of [...Object.values(FRAMEWORKS), '@koa/router', '@opentelemetry/api']) {
      installed[app][fw] = JSON.parse(readFileSync(join(apps[app], 'node_modules', fw, 'package.json'), 'utf8')).version;
    }
  }
}, 600_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------

describe('the packed packages', () => {
  it('come with the README snippets this test runs', () => {
    expect([...snippets.keys()].sort()).toEqual(
      expect.arrayContaining(['express.cjs', 'express.mjs', 'fastify.cjs', 'fastify.mjs', 'fetch.cjs', 'grpc.cjs', 'koa.cjs', 'koa.mjs', 'metrics.cjs', 'spans.cjs']),
    );
  });

  it('pack every package of the repository, built, with what publishing needs', () => {
    expect(packed.map((p) => p.dir).sort()).toEqual(expect.arrayContaining(['core', 'express', 'fastify', 'koa']));
    const core = packed.find((p) => p.dir === 'core')!.manifest;
    for (const { dir, files, manifest } of packed) {
      const where = `packages/${dir}`;
      expect([where, files]).toEqual([where, expect.arrayContaining(['package/package.json', 'package/README.md', 'package/LICENSE', 'package/dist/index.js', 'package/dist/index.d.ts'])]);
      // The build and what it needs at run time, never sources, tests, source maps or build configs.
      const extra = files.filter((f) => /^package\/(src|test)\/|\.map$|tsconfig|\.tsbuildinfo$|(?<!\.d)\.ts$/.test(f));
      expect([where, extra]).toEqual([where, []]);
      expect([where, JSON.stringify(manifest).includes('workspace:')]).toEqual([where, false]);
      const dot = manifest.exports?.['.'];
      expect([where, typeof dot?.types, typeof dot?.require, typeof (dot?.import ?? dot?.default)]).toEqual([where, 'string', 'string', 'string']);
      expect([where, manifest.license, manifest.engines?.node, typeof manifest.sideEffects]).toEqual([where, 'MIT', '>=20', 'boolean']);
      expect([where, manifest.repository?.url, manifest.repository?.directory]).toEqual([where, expect.stringContaining('github.com/tracewire/tracewire'), where]);
      if (dir !== 'core') {
        expect([where, manifest.dependencies?.['@tracewire/core']]).toEqual([where, undefined]);
        expect([where, manifest.peerDependencies?.['@tracewire/core']]).toEqual([where, `^${core.version}`]);
      }
    }
  });

  it('install the framework versions at both ends of the peer ranges', () => {
    expect(installed.latest.express).toMatch(/^5\./);
    expect(installed.latest.koa).toMatch(/^3\./);
    expect(installed.latest.fastify).toMatch(/^5\./);
    expect(installed.oldest.express).toMatch(/^4\./);
    expect(installed.oldest.koa).toMatch(/^2\./);
    expect(installed.oldest.fastify).toMatch(/^4\./);
    expect(installed.latest['@grpc/grpc-js']).toMatch(/^1\.(1[4-9]|[2-9]\d)\./);
    expect(installed.oldest['@grpc/grpc-js']).toBe('1.10.0');
  });

  it('give ES modules every named export of the CommonJS build', async () => {
    const names = packed.map((p) => p.manifest.name as string);
    const script = [
      "import { createRequire } from 'node:module';",
      'const require = createRequire(import.meta.url);',
      'const out = {};',
      `for (const name of ${JSON.stringify(names)}) {`,
      '  const cjs = Object.keys(require(name)).filter((k) => k !== "default" && k !== "__esModule");',
      '  const esm = await import(name);',
      '  out[name] = { count: cjs.length, missing: cjs.filter((k) => !(k in esm) || esm[k] !== require(name)[k]) };',
      '}',
      'console.log(JSON.stringify(out));',
    ].join('\n');
    writeFileSync(join(apps.latest, 'named-exports.mjs'), script);
    const out = JSON.parse(await run(process.execPath, ['named-exports.mjs'], apps.latest, 30_000));
    for (const name of names) {
      expect([name, out[name].missing]).toEqual([name, []]);
      expect(out[name].count).toBeGreaterThan(0);
    }
    // The form the README's ES module snippets use, as a one-liner.
    await run(process.execPath, ['--input-type=module', '-e', "import { tracingMiddleware } from '@tracewire/express'; if (typeof tracingMiddleware !== 'function') process.exit(1);"], apps.latest, 30_000);
  });
});

describe.each(['latest', 'oldest'] as const)('README quick starts, %s framework versions', (app) => {
  const dir = () => apps[app];

  it.each(['cjs', 'mjs'])('Express (%s) traces GET /users/:id with its children', async (ext) => {
    const p = new Proc(dir(), `express.${ext}`, { PORT: '0' });
    try {
      const url = await p.url();
      const res = await fetch(`${url}/users/42`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ id: '42', name: 'Ada' });
      const [trace] = await p.tracesN(1);
      expect(root(trace).name).toBe('GET /users/:id');
      expect(root(trace).attributes['http.response.status_code']).toBe(200);
      expect(trace.resource['service.name']).toBe('chat-api');
      expect(byName(trace, 'load user').parentSpanId).toBe(trace.rootSpanId);
      expect(byName(trace, 'db.query users').parentSpanId).toBe(byName(trace, 'load user').spanId);
    } finally {
      await p.stop();
    }
  });

  it.each(['cjs', 'mjs'])('Koa (%s) traces GET /api/users/:id with its children', async (ext) => {
    const p = new Proc(dir(), `koa.${ext}`, { PORT: '0' });
    try {
      const url = await p.url();
      const res = await fetch(`${url}/api/users/42`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ id: '42', name: 'Ada' });
      const [trace] = await p.tracesN(1);
      expect(root(trace).name).toBe('GET /api/users/:id');
      expect(byName(trace, 'load user').parentSpanId).toBe(trace.rootSpanId);
      expect(byName(trace, 'db.query users').parentSpanId).toBe(byName(trace, 'load user').spanId);
    } finally {
      await p.stop();
    }
  });

  it.each(['cjs', 'mjs'])('Fastify (%s) traces its routes, names one by its config and skips the ignored one', async (ext) => {
    const p = new Proc(dir(), `fastify.${ext}`, { PORT: '0' });
    try {
      const url = await p.url();
      expect(await (await fetch(`${url}/health`)).text()).toBe('ok');
      expect(await (await fetch(`${url}/users/42`)).json()).toEqual({ id: '42', name: 'Ada' });
      expect(await (await fetch(`${url}/chat`)).json()).toEqual({ reply: 'hello' });
      const traces = await p.tracesN(2);
      const users = traceNamed(traces, 'GET /users/:id');
      expect(byName(users, 'db.query users').parentSpanId).toBe(users.rootSpanId);
      expect(root(traceNamed(traces, 'chat turn')).attributes['http.route']).toBe('/chat');
    } finally {
      await p.stop();
    }
    // /health was asked first: had it been traced, its trace would be among these.
    expect(p.traces.map((t) => root(t).name).sort()).toEqual(['GET /users/:id', 'chat turn']);
  });
});

describe.each(['latest', 'oldest'] as const)('README OpenTelemetry snippet, %s @opentelemetry/api', (app) => {
  it('a span made through @opentelemetry/api is a child of the Express server span, with its scope', async () => {
    expect(installed[app]['@opentelemetry/api']).toEqual(app === 'oldest' ? '1.9.0' : expect.stringMatching(/^1\.9\.\d+$/));
    const p = new Proc(apps[app], 'opentelemetry.cjs', { PORT: '0' });
    try {
      const url = await p.url();
      const body = (await (await fetch(`${url}/answer`)).json()) as { traceId: string };
      const [trace] = await p.tracesN(1);
      expect(trace.traceId).toBe(body.traceId);
      expect(root(trace).name).toBe('GET /answer');
      const work = byName(trace, 'my-lib.work');
      expect([work.parentSpanId, work.instrumentationScope, work.attributes['work.items']]).toEqual([trace.rootSpanId, { name: 'my-lib', version: '1.0.0' }, 3]);
      expect(p.stderr).toBe('');
    } finally {
      await p.stop();
    }
  });
});

describe.each(['latest', 'oldest'] as const)('README gRPC snippet, %s @grpc/grpc-js', (app) => {
  it('traces a unary call on both ends: greet → CLIENT span → SERVER span (remote parent) → render greeting, then exits', async () => {
    const p = new Proc(apps[app], 'grpc.cjs', {});
    const code = await p.exited;
    expect([code, p.stderr]).toEqual([0, '']);
    expect(p.lines).toContain('hello Ada');
    const greet = traceNamed(p.traces, 'greet');
    const client = byName(greet, 'helloworld.Greeter/SayHello');
    expect([client.kind, client.parentSpanId, client.attributes['rpc.status_code'], client.attributes['rpc.system.name']]).toEqual(['client', greet.rootSpanId, 'OK', 'grpc']);
    const served = p.traces.find((t) => t !== greet && t.traceId === greet.traceId)!;
    const server = root(served);
    expect([server.name, server.kind, server.parentSpanId, server.attributes['rpc.method']]).toEqual(['helloworld.Greeter/SayHello', 'server', client.spanId, 'helloworld.Greeter/SayHello']);
    expect(byName(served, 'render greeting').parentSpanId).toBe(server.spanId);
  });
});

describe('README snippets outside a framework', () => {
  it('"Spans of your own" prints its traces and exits', async () => {
    const p = new Proc(apps.latest, 'spans.cjs', {});
    const code = await p.exited;
    expect([code, p.stderr]).toEqual([0, '']);
    expect(p.lines).toContain('best score 0.9');
    const rerank = traceNamed(p.traces, 'rerank');
    expect(rerank.spans.map((s) => s.name)).toEqual(['rerank', 'score']);
    expect(byName(rerank, 'score').parentSpanId).toBe(rerank.rootSpanId);
    expect(root(rerank).attributes['rerank.candidates']).toBe(3);
    expect(root(rerank).events.map((e) => e.name)).toEqual(['scored']);
    const fill = traceNamed(p.traces, 'cache.fill');
    expect(root(fill).parentSpanId).toBeUndefined();
    expect(root(fill).kind).toBe('internal');
  });

  it('tracedFetch calls the Express quick start: one distributed trace across both processes', async () => {
    const server = new Proc(apps.latest, 'express.cjs', { PORT: '0' });
    try {
      const url = await server.url();
      const client = new Proc(apps.latest, 'fetch.cjs', { API_URL: url, OPENAI_API_KEY: 'sk-test', ANTHROPIC_API_KEY: 'sk-ant-test' });
      const code = await client.exited;
      expect([code, client.stderr]).toEqual([0, '']);
      expect(client.lines.some((l) => l.startsWith('200 '))).toBe(true);
      const sync = traceNamed(client.traces, 'sync users');
      const call = sync.spans.find((s) => s.kind === 'client')!;
      expect(call.parentSpanId).toBe(sync.rootSpanId);
      expect(call.attributes['url.full']).toBe(`${url}/users/7`);
      expect(call.attributes['http.response.status_code']).toBe(200);
      const [served] = await server.tracesN(1);
      expect(root(served).name).toBe('GET /users/:id');
      expect(served.traceId).toBe(sync.traceId);
      expect(root(served).parentSpanId).toBe(call.spanId);
    } finally {
      await server.stop();
    }
  });
});

describe('README metrics (@tracewire/metrics installed beside core)', () => {
  /** A free port on 127.0.0.1 (asked of the system, then released). */
  const freePort = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const srv = createNetServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as AddressInfo;
        srv.close(() => resolve(port));
      });
    });
  /** `http_server_request_duration_count` of one route in a scrape of the text format. */
  const requestCount = (text: string, route: string): number | undefined => {
    const line = text.split('\n').find((l) => l.startsWith('http_server_request_duration_count{') && l.includes(`http_route="${route}"`));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  };

  /** Scrapes `url` until `done(text)` (at most 5 s), and returns the last scrape. */
  const scrapeUntil = async (url: string, done: (text: string) => boolean): Promise<string> => {
    let text = '';
    for (const end = Date.now() + 5000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
      text = await (await fetch(url)).text();
      if (done(text)) break;
    }
    return text;
  };

  it('the metrics snippet counts every request, 1% sampled or not, on its Prometheus endpoint', async () => {
    const p = new Proc(apps.latest, 'metrics.cjs', { PORT: '0', OTEL_EXPORTER_PROMETHEUS_PORT: '0' });
    try {
      const metricsUrl = await p.until('metrics on <url>', () => p.lines.map((l) => /^metrics on (http:\/\/\S+)$/.exec(l)?.[1]).find(Boolean));
      const url = await p.url();
      for (const id of [1, 2, 3, 4, 5]) expect((await fetch(`${url}/users/${id}`)).status).toBe(200);
      // A request is counted at its response's `close`, just after the client has read it.
      const text = await scrapeUntil(metricsUrl, (t) => requestCount(t, '/users/:id') === 5);
      expect([requestCount(text, '/users/:id'), text]).toEqual([5, expect.stringContaining('# TYPE http_server_request_duration histogram')]);
      expect(text).toMatch(/^target_info\{service_name="chat-api"/m);
    } finally {
      await p.stop();
    }
    expect(p.stderr).toBe('');
  });

  it('OTEL_METRICS_EXPORTER=prometheus: the Express quick start, unchanged, serves metrics on OTEL_EXPORTER_PROMETHEUS_PORT', async () => {
    const port = await freePort();
    const p = new Proc(apps.latest, 'express.cjs', { PORT: '0', OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_PROMETHEUS_PORT: String(port) });
    try {
      const url = await p.url();
      for (let i = 0; i < 2; i++) expect((await fetch(`${url}/users/42`)).status).toBe(200);
      await p.tracesN(2);
      const text = await scrapeUntil(`http://127.0.0.1:${port}/metrics`, (t) => requestCount(t, '/users/:id') === 2);
      expect(requestCount(text, '/users/:id')).toBe(2);
      expect(text).toContain('tracewire_traces_started_total');
    } finally {
      await p.stop();
    }
    expect(p.stderr).toBe('');
  });
});

describe('the installed type declarations', () => {
  // Written for tsc only; each `@ts-expect-error` must meet an error, so a declaration that turns
  // to `any` fails the check as surely as one that is wrong.
  const body = `
const memory = new InMemoryExporter();
const mine: Exporter = {
  name: 'mine',
  async export(traces: FinishedTrace[]) {
    for (const t of traces) for (const s of t.spans) {
      const name: string = s.name;
      const end: number = s.endTime;
      const kind: 'server' | 'client' | 'internal' | 'producer' | 'consumer' = s.kind;
      void name; void end; void kind;
    }
  },
};
const tracer: Tracer = createTracer({ serviceName: 'typed', exporters: [memory, mine, new ConsoleExporter()], sampler: 0.5, limits: { maxSpansPerTrace: 10 } });
// @ts-expect-error an unknown option
createTracer({ serviceNme: 'typo' });

const app = express();
app.use(expressTracing({ tracer, ignore: ['/health'], captureHeaders: ['x-request-id'] }));
app.get('/users/:id', expressTraced('load user', async (req: express.Request, res: express.Response) => {
  res.json(await withSpan('db', async (span) => {
    span.setAttribute('db.system.name', 'postgresql');
    return { id: req.params.id };
  }));
}));

const koa = new Koa();
koa.use(koaTracing({ tracer }));
const router = new Router({ prefix: '/api' });
router.get('/users/:id', koaTraced('load user', async (ctx) => { ctx.body = { id: ctx.params.id }; }));
koa.use(router.routes());

const fastify = Fastify();
void fastify.register(tracingPlugin, { tracer, spanName: ({ method, route }) => method + ' ' + (route ?? '') });
fastify.get('/health', { config: { tracing: { ignore: true } } }, async () => 'ok');
// @ts-expect-error tracing.ignore is a boolean (the plugin's FastifyContextConfig augmentation)
fastify.get('/x', { config: { tracing: { ignore: 'yes' } } }, async () => 'x');

const span = startSpan('manual', { kind: 'internal' });
const stats: TracerStats = tracer.stats();
const data: SpanData[] = memory.spans();
void span; void stats; void data;
`;
  const imports = `
import express from 'express';
import Koa from 'koa';
import Router from '@koa/router';
import Fastify from 'fastify';
import { createTracer, ConsoleExporter, InMemoryExporter, withSpan, startSpan } from '@tracewire/core';
import type { Exporter, FinishedTrace, SpanData, Tracer, TracerStats } from '@tracewire/core';
import { tracingMiddleware as expressTracing, traced as expressTraced } from '@tracewire/express';
import { tracingMiddleware as koaTracing, traced as koaTraced } from '@tracewire/koa';
import { tracingPlugin } from '@tracewire/fastify';
`;
  // skipLibCheck as most apps have it: @types/koa 3 does not compile against the declarations that
  // content-disposition 1.x (a dependency of Koa 3) ships. Our own declarations get a strict check.
  const compilerOptions = { strict: true, noEmit: true, skipLibCheck: true, esModuleInterop: true, target: 'ES2022', types: ['node'] };
  const tsc = (config: string) => run(process.execPath, [join('node_modules', 'typescript', 'bin', 'tsc'), '-p', config], apps.latest, 120_000);

  it('type-check a program with tsc --noEmit (ES module and CommonJS files, node16 resolution)', async () => {
    writeFileSync(join(apps.latest, 'check.mts'), imports + body);
    writeFileSync(join(apps.latest, 'check.cts'), imports + body);
    writeFileSync(join(apps.latest, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...compilerOptions, module: 'node16', moduleResolution: 'node16' }, files: ['check.mts', 'check.cts'] }));
    await tsc('tsconfig.json');
  });

  it('type-check the same program with the classic node resolution (types field)', async () => {
    writeFileSync(join(apps.latest, 'check-node10.ts'), imports + body);
    writeFileSync(join(apps.latest, 'tsconfig.node10.json'), JSON.stringify({ compilerOptions: { ...compilerOptions, module: 'commonjs', moduleResolution: 'node10' }, files: ['check-node10.ts'] }));
    await tsc('tsconfig.node10.json');
  });

  it('compile our shipped declarations without skipLibCheck', async () => {
    const names = packed.map((p) => p.manifest.name as string);
    const own = names.map((n, i) => `import * as m${i} from '${n}';\nvoid m${i};\n`).join('');
    writeFileSync(join(apps.latest, 'own.mts'), own);
    writeFileSync(join(apps.latest, 'tsconfig.own.json'), JSON.stringify({ compilerOptions: { ...compilerOptions, skipLibCheck: false, module: 'node16', moduleResolution: 'node16' }, files: ['own.mts'] }));
    await tsc('tsconfig.own.json');
  });
});
