import { TraceFlags } from '../types';
import type { Sampler, SamplingParams } from '../types';
import { optionError } from '../internal/validate';
import { warnOnce } from '../diag/warn';
import { guardCallback, isTrue } from '../internal/guard';

/** A head sampler as built by this module: decides at span start, before anything is allocated. */
export interface HeadSampler {
  shouldSample(params: SamplingParams): boolean;
  toString(): string;
}

/** A normalised sampling decision function. */
export type SampleFn = (params: SamplingParams) => boolean;

// Samplers we built ourselves never throw, so toSampleFn can skip the try/catch for them.
const builtIn = new WeakSet<object>();
function make(shouldSample: SampleFn, description: string): HeadSampler {
  const sampler: HeadSampler = { shouldSample, toString: () => description };
  builtIn.add(sampler);
  return sampler;
}

const TWO_POW_52 = 2 ** 52;

/**
 * The trace-id ratio rule shared by head and tail sampling: the lowest 52 bits of the trace id
 * (its last 13 hex digits, random under W3C Trace Context Level 2) read as an integer, kept iff
 * below `ratio * 2^52`. Every service computes the same decision for the same trace.
 * A malformed id (NaN) is never below the threshold, so it is sampled only when `ratio` is 1.
 */
export function traceIdBelowRatio(traceId: string, ratio: number): boolean {
  if (ratio >= 1) return true;
  if (ratio <= 0) return false;
  return parseInt(traceId.slice(-13), 16) < ratio * TWO_POW_52;
}

function checkRatio(ratio: unknown, name: string): number {
  if (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1)) {
    throw optionError(name, 'a number between 0 and 1', ratio);
  }
  return ratio;
}

const ALWAYS_ON = make(() => true, 'AlwaysOnSampler');
const ALWAYS_OFF = make(() => false, 'AlwaysOffSampler');

/** Sample every span. */
export function alwaysOn(): HeadSampler {
  return ALWAYS_ON;
}

/** Sample no span. */
export function alwaysOff(): HeadSampler {
  return ALWAYS_OFF;
}

/**
 * Sample a fraction `ratio` (0..1) of traces, decided by trace id so every service that sees the
 * trace decides the same way. Throws a TypeError naming `ratio` when it is out of range.
 */
export function traceIdRatio(ratio: number): HeadSampler {
  checkRatio(ratio, 'ratio');
  const description = `TraceIdRatioBased{${ratio}}`;
  if (ratio === 0) return make(() => false, description);
  if (ratio === 1) return make(() => true, description);
  const threshold = ratio * TWO_POW_52;
  return make((p) => parseInt(p.traceId.slice(-13), 16) < threshold, description);
}

/** Options of `parentBased`; each delegate defaults as in OpenTelemetry's ParentBasedSampler. */
export interface ParentBasedOptions {
  /** Decides for spans without a parent. */
  root: Sampler;
  remoteParentSampled?: Sampler;
  remoteParentNotSampled?: Sampler;
  localParentSampled?: Sampler;
  localParentNotSampled?: Sampler;
}

/** Follow the parent's sampled flag when there is a parent; ask `root` otherwise. */
export function parentBased(options: ParentBasedOptions): HeadSampler {
  if (options === null || typeof options !== 'object') {
    throw optionError('parentBased', 'an object with a root sampler', options);
  }
  const pick = (s: Sampler | undefined, name: string, fallback: HeadSampler): [SampleFn, string] =>
    s === undefined ? [fallback.shouldSample, fallback.toString()] : [toSampleFnNamed(s, name), describe(s)];
  if (options.root === undefined) throw optionError('root', 'a sampler', undefined);
  const [root, rootD] = pick(options.root, 'root', ALWAYS_ON);
  const [rs, rsD] = pick(options.remoteParentSampled, 'remoteParentSampled', ALWAYS_ON);
  const [rn, rnD] = pick(options.remoteParentNotSampled, 'remoteParentNotSampled', ALWAYS_OFF);
  const [ls, lsD] = pick(options.localParentSampled, 'localParentSampled', ALWAYS_ON);
  const [ln, lnD] = pick(options.localParentNotSampled, 'localParentNotSampled', ALWAYS_OFF);
  const description =
    `ParentBased{root=${rootD}, remoteParentSampled=${rsD}, remoteParentNotSampled=${rnD}, ` +
    `localParentSampled=${lsD}, localParentNotSampled=${lnD}}`;
  return make((p) => {
    const parent = p.parent;
    if (parent == null) return root(p); // null too: callers pass `parent: null` for a new root
    const sampled = (parent.traceFlags & TraceFlags.SAMPLED) !== 0;
    if (parent.isRemote === true) return sampled ? rs(p) : rn(p);
    return sampled ? ls(p) : ln(p);
  }, description);
}

function describe(s: Sampler): string {
  if (typeof s === 'function') return s.name ? `function ${s.name}` : 'function';
  try {
    const text = typeof s.toString === 'function' ? String(s.toString()) : '';
    return text && text !== '[object Object]' ? text : 'custom sampler';
  } catch {
    return 'custom sampler';
  }
}

const DEFAULT_SAMPLER = parentBased({ root: ALWAYS_ON });

/**
 * Guard a user decision function: only `true` samples; a throw samples nothing and is reported
 * once per sampler (never thrown into the request).
 */
function guard(fn: SampleFn, what: string): SampleFn {
  return guardCallback(fn, what, isTrue, false, 'the span is not sampled');
}

function toSampleFnNamed(sampler: Sampler | number | undefined, name: string): SampleFn {
  if (sampler === undefined) return DEFAULT_SAMPLER.shouldSample;
  if (typeof sampler === 'number') {
    checkRatio(sampler, name);
    return parentBased({ root: traceIdRatio(sampler) }).shouldSample;
  }
  if (typeof sampler === 'function') return guard(sampler, `the ${name} function`);
  if (sampler !== null && typeof sampler === 'object' && typeof sampler.shouldSample === 'function') {
    if (builtIn.has(sampler)) return sampler.shouldSample;
    return guard(sampler.shouldSample.bind(sampler), `${name}.shouldSample`);
  }
  throw optionError(name, 'a Sampler (an object with shouldSample, or a function) or a ratio 0..1', sampler);
}

/**
 * Normalise a `sampler` option to one decision function, once at setup:
 * a number is a parent-based trace-id ratio, a function or object is used as given (a throw from
 * it samples nothing and is reported once), undefined is parent-based always-on.
 */
export function toSampleFn(sampler: Sampler | number | undefined): SampleFn {
  return toSampleFnNamed(sampler, 'sampler');
}

/** The `OTEL_TRACES_SAMPLER` values this library understands. */
export const ENV_SAMPLER_NAMES: readonly string[] = Object.freeze([
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
]);

/**
 * The sampler named by `OTEL_TRACES_SAMPLER` (`name`) with `OTEL_TRACES_SAMPLER_ARG` (`arg`).
 * An unknown name is reported and replaced by parentbased_always_on; a missing or invalid ratio
 * is reported and replaced by 1.0 (OpenTelemetry's behaviour).
 * https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/#general-sdk-configuration
 */
export function samplerFromEnv(
  name: string | undefined,
  arg: string | undefined,
  warn: (message: string) => void = (m) => warnOnce(m, m),
): HeadSampler {
  const key = (name ?? '').trim().toLowerCase();
  const ratio = (): number => {
    const text = (arg ?? '').trim();
    if (text === '') {
      warn(`OTEL_TRACES_SAMPLER_ARG is not set for OTEL_TRACES_SAMPLER=${key}; using the default 1.0`);
      return 1;
    }
    const n = Number(text);
    if (!/^[+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) || !(n >= 0 && n <= 1)) {
      warn(`OTEL_TRACES_SAMPLER_ARG=${JSON.stringify(arg)} is not a number between 0 and 1; using the default 1.0`);
      return 1;
    }
    return n;
  };
  switch (key) {
    case 'always_on':
      return ALWAYS_ON;
    case 'always_off':
      return ALWAYS_OFF;
    case 'traceidratio':
      return traceIdRatio(ratio());
    case 'parentbased_always_on':
      return DEFAULT_SAMPLER;
    case 'parentbased_always_off':
      return parentBased({ root: ALWAYS_OFF });
    case 'parentbased_traceidratio':
      return parentBased({ root: traceIdRatio(ratio()) });
    default:
      warn(
        `OTEL_TRACES_SAMPLER=${JSON.stringify(name ?? '')} is not supported ` +
          `(known: ${ENV_SAMPLER_NAMES.join(', ')}); using the default parentbased_always_on`,
      );
      return DEFAULT_SAMPLER;
  }
}
