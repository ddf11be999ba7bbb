/**
 * `registerOpenTelemetry()`: puts the bridge's TracerProvider, ContextManager and propagator into
 * `@opentelemetry/api`'s global registry, where every library that uses the API finds them.
 *
 * The API keeps one registry per process (`globalThis[Symbol.for('opentelemetry.js.api.1')]`),
 * stamped with the version of the copy that created it. A copy registers only into a registry of
 * its own exact version, and reads only from one whose minor version is at least its own: with
 * two copies of the API in different versions, a library on the newer one sees nothing. That is
 * checked here, and said once on stderr, since it is the usual reason spans go missing.
 */
import { dirname, join } from 'node:path';
import { readFileSync } from 'node:fs';
import { context, propagation, trace } from '@opentelemetry/api';
import type * as otel from '@opentelemetry/api';
import { warnOnce } from '@tracewire/core';
import type { Tracer } from '@tracewire/core';
import { TracewireContextManager } from './context';
import { TracewirePropagator } from './propagator';
import { TracewireTracerProvider } from './tracer';

/** Options of `registerOpenTelemetry`. */
export interface RegisterOpenTelemetryOptions {
  /**
   * The Tracewire tracer for spans that start a new trace (default: the global tracer,
   * `getTracer()`). A span under a Tracewire span joins that span's trace, under its tracer.
   */
  tracer?: Tracer;
  /**
   * Replace a tracer provider, context manager or propagator that something else (an OpenTelemetry
   * SDK) registered already (default false: warn and register nothing). The function returned
   * then puts them back.
   */
  override?: boolean;
}

const KNOWN = ['tracer', 'override'];
const REGISTRY_KEY = Symbol.for('opentelemetry.js.api.1');

interface Registry {
  version?: string;
  trace?: { getDelegate?: () => unknown };
  context?: otel.ContextManager;
  propagation?: otel.TextMapPropagator;
}

function registry(): Registry | undefined {
  const r = (globalThis as unknown as Record<symbol, Registry | undefined>)[REGISTRY_KEY];
  return r !== null && typeof r === 'object' ? r : undefined;
}

function nameOf(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  const ctor = (x as { constructor?: { name?: unknown } }).constructor;
  return ctor && typeof ctor.name === 'string' && ctor.name !== '' && ctor.name !== 'Object' ? ctor.name : 'an object';
}

/** The version of the `@opentelemetry/api` this package resolves (the one it registers through). */
function ownApiVersion(): string {
  try {
    // build/src/index.js (1.9) or dist/index.cjs (1.10): walk up to the package's own package.json.
    let dir = dirname(require.resolve('@opentelemetry/api'));
    for (let i = 0; i < 4; i++) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
        if (pkg.name === '@opentelemetry/api' && typeof pkg.version === 'string') return pkg.version;
      } catch {
        // no package.json at this level
      }
      dir = dirname(dir);
    }
  } catch {
    // not resolvable from here: the version is only used in messages
  }
  return 'unknown';
}

// build/src/version.js up to 1.9, dist/version.cjs from 1.10.
const VERSION_FILE = /[\\/]@opentelemetry[\\/]api[\\/](?:build[\\/](?:src|esm|esnext)|dist)[\\/]version\.c?js$/;
const SEMVER = /^(\d+)\.(\d+)\.(\d+)(-.+)?$/;

/** Other copies of `@opentelemetry/api` loaded in this process (CommonJS), by path and version. */
function loadedApiCopies(): Array<{ path: string; version: string }> {
  const out: Array<{ path: string; version: string }> = [];
  for (const path of Object.keys(require.cache)) {
    if (!VERSION_FILE.test(path)) continue;
    const version = (require.cache[path]?.exports as { VERSION?: unknown } | undefined)?.VERSION;
    // The package folder: above dist/version.cjs, or build/<format>/version.js.
    const folder = path.endsWith('.cjs') ? dirname(dirname(path)) : dirname(dirname(dirname(path)));
    if (typeof version === 'string') out.push({ path: folder, version });
  }
  return out;
}

/** Whether a copy of the API at `reader` reads a registry stamped `registered` (the API's own rule). */
export function canRead(reader: string, registered: string): boolean {
  if (reader === registered) return true;
  const r = SEMVER.exec(reader);
  const g = SEMVER.exec(registered);
  if (r === null || g === null || r[4] !== undefined || g[4] !== undefined || r[1] !== g[1]) return false;
  if (r[1] === '0') return r[2] === g[2] && Number(r[3]) <= Number(g[3]);
  return Number(r[2]) <= Number(g[2]);
}

function checkOptions(options: unknown): RegisterOpenTelemetryOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`tracewire: registerOpenTelemetry(options) must be an object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`);
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!KNOWN.includes(key)) throw new TypeError(`tracewire: unknown option "${key}" of registerOpenTelemetry (known: ${KNOWN.join(', ')})`);
  }
  if (o.tracer !== undefined && (o.tracer === null || typeof o.tracer !== 'object' || typeof (o.tracer as Tracer).startSpan !== 'function')) {
    throw new TypeError('tracewire: option "tracer" of registerOpenTelemetry must be a Tracewire Tracer (createTracer() or getTracer())');
  }
  if (o.override !== undefined && typeof o.override !== 'boolean') {
    throw new TypeError(`tracewire: option "override" of registerOpenTelemetry must be a boolean, got ${typeof o.override}`);
  }
  return o as RegisterOpenTelemetryOptions;
}

/** What this package registered last (so a second call says so instead of fighting itself). */
let current: TracewireTracerProvider | undefined;

/**
 * Registers with `@opentelemetry/api` a TracerProvider whose tracers start Tracewire spans, a
 * ContextManager that is Tracewire's own context, and a propagator writing and reading
 * Tracewire's headers (W3C trace context and baggage by default). Spans that libraries make
 * through the API (the Vercel AI SDK's `experimental_telemetry`, LangChain.js, the official
 * instrumentations) then join Tracewire's traces, and `trace.getActiveSpan()` inside a Tracewire
 * span is that span.
 *
 * Returns a function that unregisters them (and puts back what `override: true` replaced).
 * Bad options throw a TypeError naming the option. When something else is registered already,
 * or the API's registry belongs to another version of the API, one warning says what was found
 * and nothing is registered.
 */
export function registerOpenTelemetry(options?: RegisterOpenTelemetryOptions): () => void {
  const o = checkOptions(options);
  const own = ownApiVersion();
  const noop = (): void => undefined;

  let reg = registry();
  if (reg !== undefined && typeof reg.version === 'string' && reg.version !== own) {
    warnOnce(
      'otel-registry-version',
      `registerOpenTelemetry: @opentelemetry/api's global registry was created by version ${reg.version}, but @tracewire/opentelemetry resolves @opentelemetry/api ${own}; ` +
        'the API accepts registrations only from the version that created it, so nothing was registered and OpenTelemetry spans are not recorded. ' +
        'Make every copy one version (npm ls @opentelemetry/api; npm dedupe, or a pnpm override).',
    );
    return noop;
  }

  const delegate = reg?.trace?.getDelegate?.();
  const found: string[] = [];
  if (reg?.trace !== undefined && delegate !== undefined && nameOf(delegate) !== 'NoopTracerProvider') found.push(`the tracer provider ${nameOf(delegate)}`);
  if (reg?.context !== undefined) found.push(`the context manager ${nameOf(reg.context)}`);
  if (reg?.propagation !== undefined) found.push(`the propagator ${nameOf(reg.propagation)}`);
  if (found.length > 0 && current !== undefined && delegate === current) {
    warnOnce('otel-registered-twice', 'registerOpenTelemetry: already registered (call the function it returned to unregister first); this call changed nothing');
    return noop;
  }
  if (found.length > 0 && o.override !== true) {
    warnOnce(
      'otel-already-registered',
      `registerOpenTelemetry: @opentelemetry/api already has ${found.join(', ')} (an OpenTelemetry SDK?); nothing was registered, so spans made through the API go there, not to Tracewire. ` +
        'Pass { override: true } to replace them.',
    );
    return noop;
  }

  // What override replaces, to put back on unregister.
  const previous =
    found.length > 0
      ? { provider: reg?.trace !== undefined ? (delegate as otel.TracerProvider | undefined) : undefined, contextManager: reg?.context, propagator: reg?.propagation }
      : undefined;
  if (previous !== undefined) {
    if (previous.provider !== undefined) trace.disable();
    if (previous.contextManager !== undefined) context.disable();
    if (previous.propagator !== undefined) propagation.disable();
  }

  const contextManager = new TracewireContextManager();
  const provider = new TracewireTracerProvider(o.tracer, contextManager);
  const propagator = new TracewirePropagator();
  const ok = [trace.setGlobalTracerProvider(provider), context.setGlobalContextManager(contextManager), propagation.setGlobalPropagator(propagator)];
  if (ok.includes(false)) {
    // Only a registry changed under our feet gets here (the checks above passed): undo what took.
    reg = registry();
    if (ok[0]) trace.disable();
    if (ok[1]) context.disable();
    if (ok[2]) propagation.disable();
    provider.disabled = true;
    warnOnce('otel-register-failed', `registerOpenTelemetry: @opentelemetry/api ${own} refused the registration (registry version ${reg?.version ?? 'none'}); nothing was registered`);
    return noop;
  }
  current = provider;
  warnAboutOtherCopies(own);

  let done = false;
  return function unregisterOpenTelemetry(): void {
    if (done) return;
    done = true;
    provider.disabled = true;
    const r = registry();
    if (r?.trace?.getDelegate?.() === provider) trace.disable();
    if (r?.context === contextManager) context.disable();
    else contextManager.disable();
    if (r?.propagation === propagator) propagation.disable();
    if (current === provider) current = undefined;
    if (previous !== undefined) {
      if (previous.provider !== undefined) trace.setGlobalTracerProvider(previous.provider);
      if (previous.contextManager !== undefined) context.setGlobalContextManager(previous.contextManager.enable());
      if (previous.propagator !== undefined) propagation.setGlobalPropagator(previous.propagator);
    }
  };
}

/** Says once which loaded copies of the API cannot see the registration just made. */
function warnAboutOtherCopies(own: string): void {
  for (const copy of loadedApiCopies()) {
    if (canRead(copy.version, own)) continue;
    warnOnce(
      `otel-api-copy:${copy.path}`,
      `registerOpenTelemetry: a second @opentelemetry/api, version ${copy.version} at ${copy.path}, is loaded; it cannot see a registration made through ${own} ` +
        `(the API reads only a registry of its own or a newer minor version), so spans of libraries using it are not recorded. Make every copy one version (npm ls @opentelemetry/api).`,
    );
  }
}
