/**
 * Trace files as `ConsoleExporter({ format: 'json' })` writes them: one `FinishedTrace` JSON object
 * per line. Lines that are not such an object are counted and skipped; a span's missing or
 * mistyped fields get the values an empty span would have, so a hand-edited file still opens.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Attributes, FinishedTrace, SpanData, SpanKind } from '@tracewire/core';

/** What reading one file gave. */
export interface TraceFile {
  traces: FinishedTrace[];
  /** 1-based numbers of the lines that were not a trace (at most the first 20). */
  badLines: number[];
  badLineCount: number;
}

const KINDS = new Set<SpanKind>(['server', 'client', 'internal', 'producer', 'consumer']);
const isObj = (v: unknown): v is Record<string, any> => v !== null && typeof v === 'object' && !Array.isArray(v);
const finite = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
const attrs = (v: unknown): Attributes => (isObj(v) ? (v as Attributes) : {});

function normalizeSpan(s: Record<string, any>, traceId: string): SpanData {
  const startTime = finite(s.startTime, 0);
  const span: SpanData = {
    traceId: typeof s.traceId === 'string' ? s.traceId : traceId,
    spanId: String(s.spanId ?? ''),
    name: typeof s.name === 'string' ? s.name : '',
    kind: KINDS.has(s.kind) ? s.kind : 'internal',
    startTime,
    endTime: Math.max(startTime, finite(s.endTime, startTime)),
    ended: s.ended !== false,
    status: isObj(s.status) && ['unset', 'ok', 'error'].includes(s.status.code) ? { code: s.status.code, ...(typeof s.status.message === 'string' ? { message: s.status.message } : {}) } : { code: 'unset' },
    attributes: attrs(s.attributes),
    events: Array.isArray(s.events) ? s.events.filter(isObj).map((e) => ({ name: String(e.name ?? ''), time: finite(e.time, startTime), attributes: attrs(e.attributes) })) : [],
    links: Array.isArray(s.links) ? s.links.filter(isObj).map((l) => ({ traceId: String(l.traceId ?? ''), spanId: String(l.spanId ?? ''), attributes: attrs(l.attributes) })) : [],
    traceFlags: finite(s.traceFlags, 1),
    dropped: isObj(s.dropped) ? { attributes: finite(s.dropped.attributes, 0), events: finite(s.dropped.events, 0), links: finite(s.dropped.links, 0) } : { attributes: 0, events: 0, links: 0 },
  };
  if (typeof s.parentSpanId === 'string' && s.parentSpanId !== '') span.parentSpanId = s.parentSpanId;
  if (typeof s.traceState === 'string' && s.traceState !== '') span.traceState = s.traceState;
  if (typeof s.parentIsRemote === 'boolean') span.parentIsRemote = s.parentIsRemote;
  return span;
}

/** One line of a trace file as a trace, or `undefined` when it is not one. */
export function parseTraceLine(line: string): FinishedTrace | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isObj(v) || typeof v.traceId !== 'string' || !Array.isArray(v.spans)) return undefined;
  const traceId = v.traceId;
  return {
    traceId,
    rootSpanId: typeof v.rootSpanId === 'string' ? v.rootSpanId : '',
    resource: attrs(v.resource),
    spans: v.spans.filter(isObj).map((s) => normalizeSpan(s, traceId)),
    incomplete: v.incomplete === true,
    fragment: finite(v.fragment, 0),
  };
}

/** Reads a JSON-lines trace file, streaming it line by line. Rejects only when the file cannot be read. */
export async function readTraceFile(path: string): Promise<TraceFile> {
  const out: TraceFile = { traces: [], badLines: [], badLineCount: 0 };
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    const trace = parseTraceLine(line);
    if (trace !== undefined) out.traces.push(trace);
    else {
      out.badLineCount++;
      if (out.badLines.length < 20) out.badLines.push(n);
    }
  }
  return out;
}
