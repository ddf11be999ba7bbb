import type { AttributeValue, Attributes, Exporter, FinishedTrace, SpanData } from '../types';

/** Options of `ConsoleExporter`. */
export interface ConsoleExporterOptions {
  /** Where to write (default `process.stdout`). */
  stream?: NodeJS.WritableStream;
  /** `tree`: a readable waterfall; `json`: one JSON line per trace; `auto` (default): tree on a TTY. */
  format?: 'tree' | 'json' | 'auto';
  /** ANSI colors in tree mode (default: on when the stream is a TTY and `NO_COLOR` is unset). */
  color?: boolean;
  /** Width of the duration bar in characters (default 30). */
  width?: number;
}

const FORMATS = ['tree', 'json', 'auto'];
const MAX_WIDTH = 500;
// Past this depth the indentation stops growing, so one runaway chain cannot push lines off-screen;
// with MIN_NAME_WIDTH and the longest kind marker it still fits MAX_NAME_COLUMN, keeping columns aligned.
const MAX_INDENT_DEPTH = 16;
const MAX_NAME_COLUMN = 64;
const MIN_NAME_WIDTH = 16;
const MAX_VALUE_LENGTH = 120;

type Paint = (s: string) => string;
interface Palette {
  bold: Paint;
  dim: Paint;
  red: Paint;
  yellow: Paint;
  cyan: Paint;
}

const ansi = (open: number, close: number): Paint => (s) => (s === '' ? s : `\x1b[${open}m${s}\x1b[${close}m`);
const plain: Paint = (s) => s;
const COLOR: Palette = { bold: ansi(1, 22), dim: ansi(2, 22), red: ansi(31, 39), yellow: ansi(33, 39), cyan: ansi(36, 39) };
const NO_COLOR: Palette = { bold: plain, dim: plain, red: plain, yellow: plain, cyan: plain };

/** Writes finished traces to a stream: a waterfall for humans on a terminal, JSON lines otherwise. */
export class ConsoleExporter implements Exporter {
  readonly name = 'console';
  /** A trace is written as soon as it is complete, not after the tracer's batch delay. */
  readonly scheduledDelayMillis = 0;
  private readonly stream: NodeJS.WritableStream;
  private readonly format: 'tree' | 'json';
  private readonly palette: Palette;
  private readonly width: number;

  constructor(options: ConsoleExporterOptions = {}) {
    const { stream = process.stdout, format = 'auto', color, width = 30 } = options;
    if (stream === null || typeof stream !== 'object' || typeof stream.write !== 'function') {
      throw new TypeError('ConsoleExporter: option "stream" must be a writable stream');
    }
    if (!FORMATS.includes(format)) {
      throw new TypeError(`ConsoleExporter: option "format" must be 'tree', 'json' or 'auto', got ${String(format)}`);
    }
    if (color !== undefined && typeof color !== 'boolean') {
      throw new TypeError('ConsoleExporter: option "color" must be a boolean');
    }
    if (!Number.isInteger(width) || width < 1 || width > MAX_WIDTH) {
      throw new TypeError(`ConsoleExporter: option "width" must be an integer from 1 to ${MAX_WIDTH}, got ${String(width)}`);
    }
    const isTTY = (stream as { isTTY?: unknown }).isTTY === true;
    this.stream = stream;
    this.format = format === 'auto' ? (isTTY ? 'tree' : 'json') : format;
    // https://no-color.org: set and non-empty disables color.
    const useColor = color ?? (this.format === 'tree' && isTTY && !process.env.NO_COLOR);
    this.palette = useColor && this.format === 'tree' ? COLOR : NO_COLOR;
    this.width = width;
  }

  /**
   * Writes each trace with a single `write`. Rejects with the first error if a trace could not be
   * serialised or written; the other traces are still attempted.
   */
  export(traces: FinishedTrace[]): Promise<void> {
    let failure: unknown;
    let failed = false;
    for (const trace of traces) {
      try {
        const text = this.format === 'json' ? JSON.stringify(trace) + '\n' : formatTree(trace, this.width, this.palette);
        this.stream.write(text);
      } catch (err) {
        if (!failed) {
          failed = true;
          failure = err;
        }
      }
    }
    return failed ? Promise.reject(failure) : Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

interface Row {
  span: SpanData;
  depth: number;
}

/** Renders one trace as a waterfall: header, then each span under its parent, ordered by start. */
function formatTree(trace: FinishedTrace, width: number, p: Palette): string {
  const spans: SpanData[] = Array.isArray(trace?.spans) ? trace.spans.filter((s) => s !== null && typeof s === 'object') : [];

  let start = Infinity;
  let end = -Infinity;
  for (const s of spans) {
    const st = finite(s.startTime);
    const en = finite(s.endTime);
    if (st !== undefined) {
      start = Math.min(start, st);
      end = Math.max(end, st);
    }
    if (en !== undefined) end = Math.max(end, en);
  }
  if (start === Infinity) start = end === -Infinity ? 0 : end;
  if (end === -Infinity) end = start;
  const total = Math.max(0, end - start);

  const resource: Attributes = trace?.resource !== null && typeof trace?.resource === 'object' ? trace.resource : {};
  const service = resource['service.name'];
  const header = [
    p.bold(clean(typeof service === 'string' && service !== '' ? service : 'unknown_service')),
    `trace ${clean(String(trace?.traceId))}`,
    ms(total),
    `${spans.length} ${spans.length === 1 ? 'span' : 'spans'}`,
  ];
  if (trace?.incomplete) header.push(p.yellow('incomplete'));
  if (typeof trace?.fragment === 'number' && trace.fragment > 0) header.push(p.yellow(`fragment ${trace.fragment}`));
  const lines = [header.join('  ')];

  const rows = treeOrder(spans);
  if (rows.length === 0) lines.push(p.dim('  (no spans)'));

  const labels = rows.map((r) => {
    const indent = '  '.repeat(1 + Math.min(r.depth, MAX_INDENT_DEPTH));
    return { indent, name: clean(String(r.span.name)), kind: ` [${clean(String(r.span.kind))}]` };
  });
  const column = Math.min(MAX_NAME_COLUMN, Math.max(0, ...labels.map((l) => l.indent.length + l.name.length + l.kind.length)));

  rows.forEach((row, i) => {
    const { span } = row;
    const { indent, kind } = labels[i];
    // Long names are cut, never the kind marker.
    const label = truncate(labels[i].name, Math.max(MIN_NAME_WIDTH, column - indent.length - kind.length)) + kind;
    const st = finite(span.startTime) ?? start;
    const duration = (finite(span.endTime) ?? st) - st;
    const isError = span.status?.code === 'error';

    const offset = total > 0 ? Math.min(width - 1, Math.max(0, Math.floor(((st - start) / total) * width))) : 0;
    const length = total > 0 ? Math.min(width - offset, Math.max(1, Math.round((Math.max(0, duration) / total) * width))) : 1;
    const bar = p.dim('·'.repeat(offset)) + (isError ? p.red : p.cyan)('█'.repeat(length)) + p.dim('·'.repeat(width - offset - length));

    let line = `${indent}${label}${' '.repeat(Math.max(0, column - indent.length - label.length))}  ${ms(duration).padStart(10)}  ${bar}`;
    if (isError) {
      const message = typeof span.status.message === 'string' && span.status.message !== '' ? ` ${clean(truncate(span.status.message, MAX_VALUE_LENGTH))}` : '';
      line += '  ' + p.red(`✗${message}`);
    }
    if (span.ended === false) line += '  ' + p.yellow('(open)');
    lines.push(line);

    const attrs = keyAttributes(span.attributes);
    // Hung from the span's own column with a gutter, so it cannot be mistaken for a child span.
    if (attrs !== '') lines.push(`${indent}${p.dim('│')} ${p.dim(attrs)}`);
  });

  return lines.join('\n') + '\n';
}

/**
 * Depth-first order: children under their parent (by parentSpanId), siblings by start time. A span
 * whose parent is not in the trace is a root; spans caught in a parent cycle are shown as roots too,
 * so every span appears exactly once.
 */
function treeOrder(spans: SpanData[]): Row[] {
  const byStart = spans.slice().sort((a, b) => (finite(a.startTime) ?? 0) - (finite(b.startTime) ?? 0));
  const ids = new Set(byStart.map((s) => s.spanId));
  const children = new Map<string, SpanData[]>();
  const roots: SpanData[] = [];
  for (const s of byStart) {
    const parent = s.parentSpanId;
    if (parent === undefined || parent === s.spanId || !ids.has(parent)) {
      roots.push(s);
    } else {
      const list = children.get(parent);
      if (list) list.push(s);
      else children.set(parent, [s]);
    }
  }

  const rows: Row[] = [];
  const seen = new Set<SpanData>();
  const expanded = new Set<string>();
  // Iterative, so a long parent chain cannot overflow the stack.
  const visit = (root: SpanData): void => {
    const stack: Row[] = [{ span: root, depth: 0 }];
    while (stack.length > 0) {
      const row = stack.pop() as Row;
      if (seen.has(row.span)) continue;
      seen.add(row.span);
      rows.push(row);
      // Duplicate span ids: attach the children under the first of them only.
      if (expanded.has(row.span.spanId)) continue;
      expanded.add(row.span.spanId);
      const kids = children.get(row.span.spanId) ?? [];
      for (let i = kids.length - 1; i >= 0; i--) stack.push({ span: kids[i], depth: row.depth + 1 });
    }
  };
  for (const r of roots) visit(r);
  for (const s of byStart) if (!seen.has(s)) visit(s);
  return rows;
}

/** The attributes worth a glance, in a fixed order, with short labels. Empty when none is present. */
function keyAttributes(attributes: Attributes | undefined): string {
  if (attributes === null || typeof attributes !== 'object') return '';
  const a = attributes;
  const parts: string[] = [];
  const http = [a['http.request.method'], a['http.route'], a['url.full']].filter((v) => v !== undefined).map(value);
  if (a['http.response.status_code'] !== undefined) http.push(`→ ${value(a['http.response.status_code'])}`);
  if (http.length > 0) parts.push(http.join(' '));
  if (a['gen_ai.request.model'] !== undefined) parts.push(`model=${value(a['gen_ai.request.model'])}`);
  if (a['gen_ai.usage.input_tokens'] !== undefined) parts.push(`in=${value(a['gen_ai.usage.input_tokens'])}`);
  if (a['gen_ai.usage.output_tokens'] !== undefined) parts.push(`out=${value(a['gen_ai.usage.output_tokens'])}`);
  const ttfc = a['gen_ai.response.time_to_first_chunk'];
  if (ttfc !== undefined) parts.push(`ttfc=${typeof ttfc === 'number' ? ms(ttfc * 1000) : value(ttfc)}`);
  if (a['tracewire.stream.chunks'] !== undefined) parts.push(`chunks=${value(a['tracewire.stream.chunks'])}`);
  const cost = a['tracewire.usage.cost'];
  if (cost !== undefined) parts.push(`cost=${typeof cost === 'number' && Number.isFinite(cost) ? `$${Number(cost.toFixed(6))}` : value(cost)}`);
  if (a['error.type'] !== undefined) parts.push(`error=${value(a['error.type'])}`);
  return parts.join('  ');
}

function value(v: AttributeValue): string {
  return clean(truncate(Array.isArray(v) ? v.join(',') : String(v), MAX_VALUE_LENGTH));
}

function ms(n: number): string {
  return `${Math.abs(n) >= 1 || n === 0 ? n.toFixed(1) : n.toFixed(2)} ms`;
}

function finite(n: unknown): number | undefined {
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, Math.max(0, max - 1)) + '…';
}

// Span names and attribute values can come from requests: control characters (ANSI escapes, newlines)
// must not reach the terminal or break the one-line-per-span layout.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
function clean(s: string): string {
  return s.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
