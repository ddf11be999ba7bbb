import type {
  AttributesInput,
  InstrumentationScope,
  SpanKind,
  Exporter,
  Link,
  Span,
  SpanContext,
  StartSpanOptions,
  TracerOptions,
  TracerStats,
} from '../types';
import { TraceFlags } from '../types';
import { SUPPRESSED, activeOrSuppressed, currentSpan, isTracingSuppressed, runWithSpan } from '../context/storage';
import { newSpanId, newTraceId } from '../trace/ids';
import { INVALID_SPAN, NonRecordingSpan, RecordingSpan, errorTypeOf, isSpan, ownerOf } from '../trace/span';
import { TraceStore } from '../store/store';
import { TraceProcessor } from '../processor/processor';
import { ConsoleExporter } from '../export/console';
import { defaultGetter, isValidSpanId, isValidTraceId } from '../propagation';
import type { Baggage, CarrierGetter } from '../propagation';
import { SAMPLING_DEFERRED, isTraceIdOnly } from '../propagation/remote';
import type { RemoteContext } from '../propagation/remote';
import { resolveConfig } from '../config';
import { traceIdBelowRatio } from '../sampling';
import type { ResolvedConfig } from '../config';
import { warnOnce } from '../diag/warn';
import { checkObserver, combineObservers } from '../observe';
import type { ObserverSet, TracerObserver } from '../observe';

/** The tracer: starts spans, owns the trace store and the export pipeline. */
export interface Tracer {
  /** Starts a span; its parent defaults to the active span (`parent: null` starts a new trace). */
  startSpan(name: string, opts?: StartSpanOptions): Span;
  /**
   * Runs `fn` inside a new active span and ends it when `fn` returns or its promise settles. A throw
   * or rejection is recorded (exception event, status error, `error.type`) and re-thrown untouched.
   */
  withSpan<T>(name: string, fn: (span: Span) => T, opts?: StartSpanOptions): T;
  /** The active span, if any. */
  activeSpan(): Span | undefined;
  /**
   * Starts the local root for incoming work described by `carrier` (HTTP headers): extracts
   * `traceparent`/`tracestate` and applies the `trustIncoming` policy.
   */
  startIncomingSpan(name: string, carrier: unknown, opts?: StartSpanOptions, getter?: CarrierGetter<unknown>): Span;
  /** Exports every finished trace queued so far. */
  forceFlush(): Promise<void>;
  /** Exports live traces (as incomplete), delivers everything queued, shuts exporters down. */
  shutdown(timeoutMs?: number): Promise<void>;
  /** Live, exported and dropped counts. */
  stats(): TracerStats;
  /** The resolved configuration (read-only; adapters read redaction and capture settings). */
  readonly config: ResolvedConfig;
  /**
   * The registered observers as one guarded dispatcher, or undefined when there are none: the
   * request path reads this once per request and does nothing more without observers.
   */
  readonly observer?: ObserverSet;
  /**
   * Registers an observer of every request, `tracedFetch` call and LLM call outcome, sampled or
   * not (what `@tracewire/metrics` uses). Returns the function that removes it. A bad observer
   * throws a TypeError.
   */
  addObserver?(observer: TracerObserver): () => void;
}

/** Records `err` on `span` the way every Tracewire helper does. */
export function recordError(span: Span, err: unknown): void {
  if (!span.isRecording()) return;
  span.recordException(err);
  span.setStatus({ code: 'error', message: err instanceof Error ? err.message : typeof err === 'string' ? err : undefined });
  span.setAttribute('error.type', errorTypeOf(err));
}

/** The tracer owning each store: children of a span belong to the tracer of the trace they join. */
const TRACER_OF_STORE = new WeakMap<object, TracerImpl>();

/**
 * The tracer whose trace `span` belongs to, if it is a recorded Tracewire span: module-level
 * helpers and other tracers start its children there, so that tracer's limits and counters apply.
 */
export function tracerOwning(span: Span | SpanContext | null | undefined): Tracer | undefined {
  return span instanceof RecordingSpan ? TRACER_OF_STORE.get(ownerOf(span) as TraceStore) : undefined;
}

/** A scope exporters can write: a non-empty name, and strings (or nothing) for version and schemaUrl. */
function isScope(x: InstrumentationScope | null): x is InstrumentationScope {
  return (
    x !== null &&
    typeof x === 'object' &&
    typeof x.name === 'string' &&
    x.name !== '' &&
    (x.version === undefined || typeof x.version === 'string') &&
    (x.schemaUrl === undefined || typeof x.schemaUrl === 'string')
  );
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return !!x && (typeof x === 'object' || typeof x === 'function') && typeof (x as PromiseLike<unknown>).then === 'function';
}

/** Filled by `incomingSpan`: what else the incoming carrier gave besides the span. */
export interface IncomingOut {
  baggage: Baggage | undefined;
}

/**
 * Starts the span for incoming work and reports the accepted incoming baggage in `out`. For a
 * Tracer that is not one of ours (a wrapper), plain `startIncomingSpan`, without baggage.
 */
export function incomingSpan(tracer: Tracer, name: string, carrier: unknown, opts: StartSpanOptions, getter: CarrierGetter<unknown>, out: IncomingOut): Span {
  if (tracer instanceof TracerImpl) return tracer.incoming(name, carrier, opts, getter, out);
  out.baggage = undefined;
  return tracer.startIncomingSpan(name, carrier, opts, getter);
}

class TracerImpl implements Tracer {
  readonly config: ResolvedConfig;
  private readonly store: TraceStore;
  private readonly processor: TraceProcessor;
  private shutDown = false;
  /** Set when the sampler is parent-based trace-id ratio (the default, or a number): decided inline. */
  private readonly ratio: number | undefined;
  observer: ObserverSet | undefined = undefined;
  private readonly observers: TracerObserver[] = [];
  /** The last instrumentation scope found valid, when frozen (so it stays valid): see startSpan. */
  private checkedScope: InstrumentationScope | undefined = undefined;

  constructor(options?: TracerOptions) {
    this.config = resolveConfig(options);
    this.ratio = this.config.parentBasedRatio;
    const exporters = this.config.exporters ?? exportersByName(this.config.exporterNames ?? ['console']);
    const names = this.config.exporterNames;
    if (exporters.length === 0 && names !== undefined && names.length > 0) {
      warnOnce('no-exporter', `OTEL_TRACES_EXPORTER=${names.join(',')} gave no usable exporter; finished traces are counted as dropped (no_exporter)`);
    }
    // The store completes traces; the processor decides (tail), counts and queues them.
    this.processor = new TraceProcessor({ exporters, batch: this.config.batch, tail: this.config.tail, name: String(this.config.resource['service.name']) });
    this.store = new TraceStore(this.config.store, this.config.resource, this.processor, this.config.spanLimits);
    TRACER_OF_STORE.set(this.store, this);
    if (this.config.observers !== undefined) for (const o of this.config.observers) this.addObserver(o);
    // OTEL_METRICS_EXPORTER: @tracewire/metrics, installed beside core, observes this tracer.
    if (this.config.metricsFromEnv && this.config.enabled) attachEnvMetrics(this);
  }

  addObserver(observer: TracerObserver): () => void {
    checkObserver(observer, 'observer');
    this.observers.push(observer);
    this.observer = combineObservers(this.observers);
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      const i = this.observers.indexOf(observer);
      if (i !== -1) this.observers.splice(i, 1);
      this.observer = combineObservers(this.observers);
    };
  }

  startSpan(name: string, opts?: StartSpanOptions): Span {
    if (!opts) return this.start(name, 'internal', undefined, undefined, undefined, undefined);
    let scope = opts.instrumentationScope;
    if (scope !== undefined && scope !== this.checkedScope) {
      // A library's tracer passes one scope object for all its spans: checked once while it repeats.
      if (!isScope(scope)) scope = undefined;
      else if (Object.isFrozen(scope)) this.checkedScope = scope;
    }
    return this.start(name, opts.kind || 'internal', opts.attributes, opts.links, opts.startTime, opts.parent, undefined, scope);
  }

  /** startSpan with positional arguments: no options object on the per-request path. */
  private start(
    name: string,
    kind: SpanKind,
    attributes: AttributesInput | undefined,
    links: Link[] | undefined,
    startTime: StartSpanOptions['startTime'],
    parent: Span | SpanContext | undefined | null,
    rootTraceId?: string,
    scope?: InstrumentationScope,
    /** The parent is a context our propagators extracted: its ids were checked as they were parsed. */
    extracted?: boolean,
  ): Span {
    if (parent === undefined) {
      // The active span is the parent: one read of the context tells that and the suppression.
      const active = activeOrSuppressed();
      if (active === SUPPRESSED) return INVALID_SPAN;
      parent = active;
    } else if (isTracingSuppressed()) return INVALID_SPAN;
    if (parent instanceof NonRecordingSpan && parent.propagateOnly) return parent;
    let parentCtx: SpanContext | undefined;
    let localParent: RecordingSpan | undefined;
    if (parent) {
      if (parent instanceof RecordingSpan) {
        const owner = ownerOf(parent);
        if (owner !== this.store) {
          // A span of another tracer's trace: the child joins that trace, under that tracer's limits.
          const other = TRACER_OF_STORE.get(owner as TraceStore);
          if (other !== undefined) return other.start(name, kind, attributes, links, startTime, parent, undefined, scope);
        }
        // Our own span: its ids are valid by construction, no need to re-check them, and its
        // fields are a SpanContext's (traceId, spanId, traceFlags, traceState): read them there,
        // without making its context object.
        localParent = parent;
        parentCtx = parent;
      } else {
        parentCtx = isSpan(parent) ? parent.spanContext() : parent;
        if (extracted !== true && (!parentCtx || !isValidTraceId(parentCtx.traceId) || !isValidSpanId(parentCtx.spanId))) parentCtx = undefined;
      }
    }
    // rootTraceId: a new root in a trace the caller named without a parent span (legacy X-Trace-ID).
    const traceId = parentCtx ? parentCtx.traceId : rootTraceId !== undefined ? rootTraceId : newTraceId();
    const spanId = newSpanId();
    // A trace id we generate is random: Level 2 `random` flag. A continued trace keeps the caller's.
    const randomFlag = parentCtx ? parentCtx.traceFlags & TraceFlags.RANDOM : rootTraceId !== undefined ? TraceFlags.NONE : TraceFlags.RANDOM;
    const traceState = parentCtx ? parentCtx.traceState : undefined;
    if (!this.config.enabled || this.shutDown) {
      return new NonRecordingSpan({ traceId, spanId, traceFlags: randomFlag | (parentCtx ? parentCtx.traceFlags & TraceFlags.SAMPLED : 0), traceState });
    }
    // The default sampler, parent-based trace-id ratio, is decided inline (no params object).
    const ratio = this.ratio;
    const sampled =
      ratio !== undefined
        ? parentCtx
          ? (parentCtx.traceFlags & TraceFlags.SAMPLED) !== 0
          : ratio >= 1 || traceIdBelowRatio(traceId, ratio)
        : this.config.sample({ traceId, name, kind, attributes, parent: localParent !== undefined ? localParent.spanContext() : parentCtx });
    const traceFlags = randomFlag | (sampled ? TraceFlags.SAMPLED : 0);
    if (!sampled) return new NonRecordingSpan(traceState ? { traceId, spanId, traceFlags, traceState } : { traceId, spanId, traceFlags });

    // A child takes a place in its parent's local trace; a root opens one (both counted past the caps).
    const trace = localParent !== undefined ? this.store.traceOfSpan(localParent) : this.store.openTrace();
    if (trace === undefined || (localParent !== undefined && !this.store.admit(trace))) {
      return new NonRecordingSpan({ traceId, spanId, traceFlags, traceState });
    }
    const span = new RecordingSpan(
      this.store,
      trace,
      traceId,
      spanId,
      parentCtx ? parentCtx.spanId : undefined,
      // Only a local root can have a non-local parent; remote when it was extracted from a carrier.
      parentCtx !== undefined && localParent === undefined && parentCtx.isRemote === true,
      traceFlags,
      traceState,
      typeof name === 'string' ? name : String(name),
      kind,
      scope,
      attributes,
      links,
      startTime,
    );
    this.store.add(trace, span);
    return span;
  }

  withSpan<T>(name: string, fn: (span: Span) => T, opts?: StartSpanOptions): T {
    const span = this.startSpan(name, opts);
    let result: T;
    try {
      result = runWithSpan(span, () => fn(span));
    } catch (err) {
      recordError(span, err);
      span.end();
      throw err;
    }
    if (isThenable(result)) {
      return (result as unknown as PromiseLike<unknown>).then(
        (value) => {
          span.end();
          return value;
        },
        (err) => {
          recordError(span, err);
          span.end();
          throw err;
        },
      ) as unknown as T;
    }
    span.end();
    return result;
  }

  activeSpan(): Span | undefined {
    return currentSpan();
  }

  startIncomingSpan(name: string, carrier: unknown, opts?: StartSpanOptions, getter?: CarrierGetter<unknown>): Span {
    return this.incoming(name, carrier, opts, getter, undefined);
  }

  /**
   * startIncomingSpan, also handing out the accepted incoming baggage in `out` (a scratch object the
   * caller reuses: no allocation per request). Every configured format is read through
   * `config.propagation`; the trust policy decides for all of them, baggage included.
   */
  incoming(name: string, carrier: unknown, opts: StartSpanOptions | undefined, getter: CarrierGetter<unknown> | undefined, out: IncomingOut | undefined): Span {
    const kind = (opts && opts.kind) || 'internal';
    const attributes = opts && opts.attributes;
    const startTime = opts && opts.startTime;
    const links = opts && opts.links;
    const propagation = this.config.propagation;
    const get = getter ?? defaultGetter;
    let remote: RemoteContext | null = null;
    let baggage: Baggage | undefined;
    try {
      remote = propagation.extract(carrier, get);
      baggage = propagation.extractBaggage(carrier, get);
    } catch {
      // A user getter that throws is a carrier we cannot read: a fresh trace rather than a failed
      // request (docs/design.md "Safety defaults").
      remote = null;
      baggage = undefined;
    }
    if (out !== undefined) out.baggage = undefined;
    if (!remote && !baggage) return this.start(name, kind, attributes, links, startTime, null);
    let trust = this.config.trustIncoming;
    if (typeof trust === 'function') {
      try {
        trust = !!trust(carrier);
      } catch (err) {
        warnOnce('trust-predicate', `trustIncoming predicate threw (${err instanceof Error ? err.message : String(err)}); treating the caller as untrusted`);
        trust = false;
      }
    }
    if (!trust) {
      // Untrusted caller, whatever the format: a new trace whose sampling ignores the caller's
      // flag, linked to its context; its baggage is not taken in (it would travel on to every
      // service behind this one).
      if (!remote || isTraceIdOnly(remote)) return this.start(name, kind, attributes, links, startTime, null);
      const link: Link = { context: remote, attributes: { 'tracewire.link.reason': 'untrusted_parent' } };
      return this.start(name, kind, attributes, links ? [...links, link] : [link], startTime, null);
    }
    let span: Span;
    if (!remote) {
      span = this.start(name, kind, attributes, links, startTime, null);
    } else {
      if (remote[SAMPLING_DEFERRED]) {
        // B3 without a sampling state, legacy X-Trace-ID: the caller left the decision to us, so it
        // is taken as for a new trace (by trace id), and followed from here on.
        const sampled = this.sampleRoot(remote.traceId, name, kind, attributes);
        const { traceId, spanId, traceFlags } = remote;
        remote = { traceId, spanId, traceFlags: sampled ? traceFlags | TraceFlags.SAMPLED : traceFlags & ~TraceFlags.SAMPLED, isRemote: true };
      }
      span = isTraceIdOnly(remote)
        ? this.start(name, kind, attributes, links, startTime, null, remote.traceId)
        : this.start(name, kind, attributes, links, startTime, remote, undefined, undefined, true);
    }
    if (baggage !== undefined) {
      if (out !== undefined) out.baggage = baggage;
      const keys = propagation.baggageAttributes;
      if (keys !== undefined && span.isRecording()) {
        for (let i = 0; i < keys.length; i++) {
          const entry = baggage.get(keys[i]);
          if (entry !== undefined) span.setAttribute(keys[i], entry.value);
        }
      }
    }
    return span;
  }

  /** The head-sampling decision for a new trace with this id (a caller that deferred it). */
  private sampleRoot(traceId: string, name: string, kind: SpanKind, attributes: AttributesInput | undefined): boolean {
    const ratio = this.ratio;
    if (ratio !== undefined) return ratio >= 1 || traceIdBelowRatio(traceId, ratio);
    return this.config.sample({ traceId, name, kind, attributes, parent: undefined });
  }

  async forceFlush(): Promise<void> {
    await this.processor.forceFlush();
  }

  async shutdown(timeoutMs = 30000): Promise<void> {
    if (this.shutDown) return;
    // Live traces go out as they stand (incomplete or partial); then nothing new is recorded.
    this.store.close();
    this.shutDown = true;
    await this.processor.shutdown(timeoutMs);
  }

  stats(): TracerStats {
    return { liveTraces: this.store.liveCount, startedTraces: this.store.openedCount, ...this.processor.stats() };
  }
}

/** The exports of @tracewire/otlp that `OTEL_TRACES_EXPORTER` names, when it is installed. */
interface OtlpPackage {
  OTLPTraceExporter?: new () => Exporter;
  ZipkinExporter?: new () => Exporter;
}

/**
 * Loads @tracewire/otlp, installed beside core in the application: resolved from core's own
 * location first (npm, yarn, pnpm's hoisting), then from the application's working directory.
 * Undefined, with one warning saying what to install, when it is not there.
 */
function loadOtlpPackage(wanted: string[]): OtlpPackage | undefined {
  const id = '@tracewire/otlp';
  const notFound = (err: unknown) =>
    !!err && (err as { code?: unknown }).code === 'MODULE_NOT_FOUND' && String((err as Error).message).includes(id);
  try {
    return require(id) as OtlpPackage;
  } catch (err) {
    if (!notFound(err)) {
      warnOnce('otlp-load', `OTEL_TRACES_EXPORTER names ${wanted.join(', ')} but ${id} failed to load (${err instanceof Error ? err.message : String(err)}); no traces are exported there`);
      return undefined;
    }
  }
  try {
    return require(require.resolve(id, { paths: [process.cwd()] })) as OtlpPackage;
  } catch {
    warnOnce(
      'otlp-missing',
      `OTEL_TRACES_EXPORTER names ${wanted.join(', ')}, which come from ${id}, but it is not installed; ` +
        `install it beside @tracewire/core (npm install ${id}). No traces are exported there.`,
    );
    return undefined;
  }
}

/** What core calls in @tracewire/metrics when `OTEL_METRICS_EXPORTER` asks for metrics. */
interface MetricsPackage {
  attachFromEnvironment?: (tracer: Tracer) => void;
}

/**
 * `OTEL_METRICS_EXPORTER` (otlp, prometheus, console): @tracewire/metrics, installed beside core
 * and resolved like @tracewire/otlp, attaches this tracer to the process's metrics pipeline, which
 * it builds from the environment on first use. Without the package, one warning says what to install.
 */
function attachEnvMetrics(tracer: Tracer): void {
  const id = '@tracewire/metrics';
  const value = process.env.OTEL_METRICS_EXPORTER;
  let pkg: MetricsPackage | undefined;
  try {
    pkg = require(id) as MetricsPackage;
  } catch (err) {
    const missing = !!err && (err as { code?: unknown }).code === 'MODULE_NOT_FOUND' && String((err as Error).message).includes(id);
    if (!missing) {
      warnOnce('metrics-load', `OTEL_METRICS_EXPORTER=${value} but ${id} failed to load (${err instanceof Error ? err.message : String(err)}); no metrics are recorded`);
      return;
    }
    try {
      pkg = require(require.resolve(id, { paths: [process.cwd()] })) as MetricsPackage;
    } catch {
      warnOnce('metrics-missing', `OTEL_METRICS_EXPORTER=${value} needs ${id}, which is not installed; install it beside @tracewire/core (npm install ${id}). No metrics are recorded.`);
      return;
    }
  }
  if (typeof pkg.attachFromEnvironment !== 'function') {
    warnOnce('metrics-old', `OTEL_METRICS_EXPORTER=${value}: the installed ${id} cannot be configured from the environment; update it`);
    return;
  }
  try {
    pkg.attachFromEnvironment(tracer);
  } catch (err) {
    warnOnce('metrics-attach', `OTEL_METRICS_EXPORTER=${value}: ${id} could not start (${err instanceof Error ? err.message : String(err)}); no metrics are recorded`);
  }
}

/**
 * Exporters named by OTEL_TRACES_EXPORTER: `console` from core; `otlp` (OTLPTraceExporter) and
 * `zipkin` (ZipkinExporter) from the optional @tracewire/otlp package, configured from the
 * environment (`OTEL_EXPORTER_OTLP_*`, `OTEL_EXPORTER_ZIPKIN_ENDPOINT`).
 */
function exportersByName(names: string[]): Exporter[] {
  const out: Exporter[] = [];
  const fromPackage = names.filter((n) => n === 'otlp' || n === 'zipkin');
  const pkg = fromPackage.length > 0 ? loadOtlpPackage(fromPackage) : undefined;
  for (const name of names) {
    if (name === 'console') {
      out.push(new ConsoleExporter());
      continue;
    }
    if (pkg === undefined || (name !== 'otlp' && name !== 'zipkin')) continue;
    const ctor = name === 'otlp' ? pkg.OTLPTraceExporter : pkg.ZipkinExporter;
    if (typeof ctor !== 'function') {
      warnOnce(`otlp-missing-${name}`, `OTEL_TRACES_EXPORTER names "${name}" but the installed @tracewire/otlp has no exporter for it; update @tracewire/otlp`);
      continue;
    }
    try {
      out.push(new ctor());
    } catch (err) {
      warnOnce(`otlp-create-${name}`, `OTEL_TRACES_EXPORTER: the "${name}" exporter could not be created (${err instanceof Error ? err.message : String(err)}); skipping it`);
    }
  }
  return out;
}

/** Creates a tracer. Bad options throw a TypeError naming the option. */
export function createTracer(options?: TracerOptions): Tracer {
  return new TracerImpl(options);
}
