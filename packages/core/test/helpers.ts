import { createTracer, InMemoryExporter } from '../src';
import type { FinishedTrace, SpanData, Tracer, TracerOptions } from '../src';
import { resetWarnings } from '../src/diag/warn';

/** A tracer exporting into memory immediately (tiny batch delay) for tests. */
export function memoryTracer(options: TracerOptions = {}): { tracer: Tracer; exporter: InMemoryExporter } {
  const exporter = new InMemoryExporter();
  const tracer = createTracer({
    serviceName: 'test-service',
    exporters: [exporter],
    batch: { scheduledDelayMillis: 1 },
    ...options,
  });
  return { tracer, exporter };
}

export interface StderrCapture {
  /** The spy on `process.stderr.write` for the running test. */
  readonly spy: jest.SpyInstance;
  /** What the running test wrote to stderr, one entry per write. */
  lines(): string[];
}

/**
 * Silences stderr around every test of the calling scope and resets the warn-once state first,
 * so each test sees only its own warnings. Call at the top of a file or `describe`.
 */
export function captureStderr(): StderrCapture {
  let spy: jest.SpyInstance | undefined;
  beforeEach(() => {
    resetWarnings();
    spy = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => spy?.mockRestore());
  const current = (): jest.SpyInstance => {
    if (!spy) throw new Error('captureStderr: used outside a test');
    return spy;
  };
  return {
    get spy() {
      return current();
    },
    lines: () => current().mock.calls.map((c) => String(c[0])),
  };
}

/** Start time of the spans `makeSpan` builds (epoch ms). */
export const T0 = 1_700_000_000_000;
/** Trace id of the spans and traces `makeSpan` and `makeTrace` build. */
export const SPAN_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

/** A finished, sampled internal span lasting 10 ms from `T0`; `overrides` win. */
export function makeSpan(overrides: Partial<SpanData> = {}): SpanData {
  return {
    traceId: SPAN_TRACE_ID,
    spanId: '00f067aa0ba902b7',
    parentSpanId: undefined,
    name: 'span',
    kind: 'internal',
    startTime: T0,
    endTime: T0 + 10,
    ended: true,
    status: { code: 'unset' },
    attributes: {},
    events: [],
    links: [],
    traceFlags: 1,
    traceState: undefined,
    dropped: { attributes: 0, events: 0, links: 0 },
    ...overrides,
  };
}

/** A complete trace of `spans` rooted at the first one, with an empty resource; `overrides` win. */
export function makeTrace(spans: SpanData[] = [], overrides: Partial<FinishedTrace> = {}): FinishedTrace {
  return {
    traceId: SPAN_TRACE_ID,
    rootSpanId: spans[0]?.spanId ?? '',
    resource: {},
    spans,
    incomplete: false,
    fragment: 0,
    ...overrides,
  };
}
