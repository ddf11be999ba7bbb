/**
 * The import rules of the layout (ARCHITECTURE.md "What each folder may import", issue #12): each
 * folder of packages/core/src imports only the folders listed for it, `stream/` (data only) never
 * reaches spans or the tracer, `server/` stays transport-neutral, core has no runtime dependency,
 * and every other package reaches core through '@tracewire/core' alone and never imports another
 * adapter. Imports are read with TypeScript's own pre-processor (import, export-from and
 * import-type declarations alike).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, normalize, relative, sep } from 'node:path';
import ts from 'typescript';

const repo = join(__dirname, '..');
const coreSrc = join(repo, 'packages', 'core', 'src');

/** Folders of packages/core/src (and its two top-level files) and what each may import. */
const ALLOWED: Record<string, readonly string[]> = {
  'types.ts': ['propagation', 'observe'],
  'index.ts': ['*'],
  diag: [],
  internal: ['diag'],
  trace: ['internal', 'diag', 'types.ts'],
  sampling: ['internal', 'diag', 'types.ts'],
  context: ['propagation', 'trace', 'diag', 'types.ts'],
  propagation: ['trace', 'context', 'internal', 'diag', 'types.ts'],
  observe: ['llm', 'diag', 'types.ts'],
  stream: ['llm', 'internal', 'diag', 'types.ts'],
  llm: ['stream', 'fetch', 'tracer', 'trace', 'context', 'observe', 'internal', 'diag', 'types.ts'],
  store: ['trace', 'internal', 'diag', 'types.ts'],
  export: ['context', 'config', 'internal', 'diag', 'types.ts'],
  processor: ['export', 'store', 'sampling', 'internal', 'diag', 'types.ts'],
  config: ['propagation', 'sampling', 'store', 'observe', 'internal', 'diag', 'types.ts'],
  tracer: ['trace', 'store', 'processor', 'export', 'context', 'propagation', 'sampling', 'config', 'observe', 'internal', 'diag', 'types.ts'],
  server: ['tracer', 'trace', 'context', 'propagation', 'observe', 'internal', 'diag', 'types.ts'],
  http: ['server', 'tracer', 'trace', 'stream', 'llm', 'observe', 'propagation', 'internal', 'diag', 'types.ts'],
  fetch: ['tracer', 'trace', 'context', 'propagation', 'stream', 'llm', 'observe', 'config', 'internal', 'diag', 'types.ts'],
};

/** Of `llm/`, the plain-data modules `stream/` and `observe/` may use (never the helpers, which start spans). */
const LLM_DATA = ['llm/types', 'llm/attributes', 'llm/pricing', 'llm/prices', 'llm/messages'];

/** Node's built-in modules, `node:` prefixed or not. */
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The module specifiers a file imports or re-exports (value and type imports alike). */
function importsOf(file: string): string[] {
  return ts.preProcessFile(readFileSync(file, 'utf8'), true, false).importedFiles.map((f) => f.fileName);
}

/** `stream/sse` for packages/core/src/stream/sse.ts; the folder is its first segment. */
const coreModule = (file: string): string => relative(coreSrc, file).split(sep).join('/').replace(/\.ts$/, '');
const folderOf = (module: string): string => {
  if (module.includes('/')) return module.slice(0, module.indexOf('/'));
  // `../observe`: a folder's index; `../types`: a top-level file.
  return statSync(join(coreSrc, module), { throwIfNoEntry: false })?.isDirectory() ? module : `${module}.ts`;
};

interface Violation {
  file: string;
  imports: string;
  rule: string;
}

/** A core module (`stream/sse`) and what it imports. */
interface CoreModule {
  module: string;
  imports: string[];
}

function coreModules(): CoreModule[] {
  return tsFiles(coreSrc).map((file) => ({ module: coreModule(file), imports: importsOf(file) }));
}

function coreViolations(modules: CoreModule[]): Violation[] {
  const out: Violation[] = [];
  for (const { module: from, imports } of modules) {
    const folder = folderOf(from);
    const allowed = ALLOWED[folder];
    const where = `packages/core/src/${from}.ts`;
    if (allowed === undefined) {
      out.push({ file: where, imports: '', rule: `the folder "${folder}" is not in the layout (ARCHITECTURE.md): add it with what it may import` });
      continue;
    }
    for (const spec of imports) {
      if (!spec.startsWith('.')) {
        if (!BUILTINS.has(spec)) out.push({ file: where, imports: spec, rule: '@tracewire/core has no runtime dependencies: Node built-ins only' });
        else if (folder === 'server' && /^(node:)?(http|https|http2|net)$/.test(spec)) out.push({ file: where, imports: spec, rule: 'server/ is transport-neutral: node:http belongs to http/' });
        continue;
      }
      const target = normalize(join(dirname(from), spec)).split(sep).join('/');
      if (target === '.' || target === 'index' || target.startsWith('..')) {
        out.push({ file: where, imports: spec, rule: "inside core, import the module itself, never the package's index" });
        continue;
      }
      const to = folderOf(target);
      if (to === folder) continue;
      if (!allowed.includes('*') && !allowed.includes(to)) {
        out.push({ file: where, imports: spec, rule: `${folder} may import only ${allowed.length ? allowed.join(', ') : 'nothing else'}` });
        continue;
      }
      if ((folder === 'stream' || folder === 'observe') && to === 'llm' && !LLM_DATA.includes(target)) {
        // `llm` alone is llm/index.ts, which re-exports the helpers too.
        out.push({ file: where, imports: spec, rule: `${folder}/ may use only the data modules of llm/ (${LLM_DATA.join(', ')})` });
      }
    }
  }
  return out;
}

const PACKAGES = readdirSync(join(repo, 'packages')).filter((p) => p !== 'core' && statSync(join(repo, 'packages', p, 'src'), { throwIfNoEntry: false })?.isDirectory());

/** A file of another package (`packages/koa/src/index.ts`) and what it imports. */
interface PackageFile {
  pkg: string;
  file: string;
  imports: string[];
}

function packageFiles(): PackageFile[] {
  return PACKAGES.flatMap((pkg) => tsFiles(join(repo, 'packages', pkg, 'src')).map((file) => ({ pkg, file: relative(repo, file).split(sep).join('/'), imports: importsOf(file) })));
}

function packageViolations(files: PackageFile[]): Violation[] {
  const out: Violation[] = [];
  for (const { pkg, file, imports } of files) {
    const src = `packages/${pkg}/src/`;
    for (const spec of imports) {
      if (spec.startsWith('.')) {
        const target = normalize(join(dirname(file), spec)).split(sep).join('/');
        if (!target.startsWith(src)) out.push({ file, imports: spec, rule: `${pkg} reaches only into its own src/` });
      } else if (spec.startsWith('@tracewire/') && spec !== '@tracewire/core') {
        out.push({ file, imports: spec, rule: `${pkg} imports core by its name alone ('@tracewire/core'), and never another Tracewire package` });
      }
    }
  }
  return out;
}

describe('layout: what each folder may import', () => {
  it('every folder of packages/core/src imports only what ARCHITECTURE.md allows it', () => {
    expect(coreViolations(coreModules())).toEqual([]);
  });

  it('adapters and integrations import core by its name only, and never each other', () => {
    expect(PACKAGES).toEqual(expect.arrayContaining(['express', 'koa', 'fastify', 'otlp']));
    expect(packageViolations(packageFiles())).toEqual([]);
  });

  it('reports the imports the layout forbids', () => {
    const rules = coreViolations([
      { module: 'stream/sse', imports: ['../trace/span', '../llm/helpers', '../llm/types'] },
      { module: 'server/span', imports: ['node:http', '../http/server'] },
      { module: 'trace/span', imports: ['../tracer/tracer', '..', 'some-package'] },
      { module: 'store/store', imports: ['../config/warn'] },
    ]).map((v) => `${v.file} ${v.imports}`);
    expect(rules).toEqual([
      'packages/core/src/stream/sse.ts ../trace/span',
      'packages/core/src/stream/sse.ts ../llm/helpers',
      'packages/core/src/server/span.ts node:http',
      'packages/core/src/server/span.ts ../http/server',
      'packages/core/src/trace/span.ts ../tracer/tracer',
      'packages/core/src/trace/span.ts ..',
      'packages/core/src/trace/span.ts some-package',
      'packages/core/src/store/store.ts ../config/warn',
    ]);
    // A relative import from an adapter into core's sources (a string the rule is fed, not a path
    // this test reads), joined so that no checker takes it for one.
    const intoCore = ['..', '..', 'core', 'src', 'http'].join('/');
    const adapters = packageViolations([
      { pkg: 'koa', file: 'packages/koa/src/index.ts', imports: ['@tracewire/express', '@tracewire/core/dist/http/server', intoCore, './route', '@tracewire/core', 'koa'] },
    ]).map((v) => v.imports);
    expect(adapters).toEqual(['@tracewire/express', '@tracewire/core/dist/http/server', intoCore]);
  });
});
