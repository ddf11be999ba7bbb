/**
 * Zipkin v2 JSON exporter, mapped as the OpenTelemetry specification's "OpenTelemetry to Zipkin
 * Transformation" says (specification/trace/sdk_exporters/zipkin.md, with the generic rules of
 * specification/common/mapping-to-non-otlp.md). Where the specification leaves a field "TBD"
 * (trace state, links) the OpenTelemetry Collector's zipkin translator's tags are used, so nothing
 * of a FinishedTrace is lost.
 */
import { isIP } from 'node:net';
import type { AttributeValue, Attributes, Exporter, FinishedTrace, SpanData } from '@tracewire/core';
import { SCOPE, epochMicros, exportedAttributes, splitEpochMs } from './common';
import type { Agent } from 'node:http';
import { createAgent, postOnce, readEnv, warnEnv } from './zipkin-http';

/** Options of `new ZipkinExporter(options)`; each falls back to its environment variable. */
export interface ZipkinExporterOptions {
  /** Default `OTEL_EXPORTER_ZIPKIN_ENDPOINT`, else `http://localhost:9411/api/v2/spans`. */
  url?: string;
  /** Extra request headers (an auth token for a hosted Zipkin, for example). */
  headers?: Record<string, string>;
  /** Per request, default `OTEL_EXPORTER_ZIPKIN_TIMEOUT`, else 10000 ms. */
  timeoutMillis?: number;
}

/** A Zipkin v2 endpoint (zipkin2-api.yaml `Endpoint`). */
export interface ZipkinEndpoint {
  serviceName?: string;
  ipv4?: string;
  ipv6?: string;
  port?: number;
}

/** A Zipkin v2 span as sent (zipkin2-api.yaml `Span`); absent fields are omitted, as the spec asks. */
export interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind?: 'CLIENT' | 'SERVER' | 'PRODUCER' | 'CONSUMER';
  timestamp: number;
  duration?: number;
  localEndpoint: ZipkinEndpoint;
  remoteEndpoint?: ZipkinEndpoint;
  annotations?: { timestamp: number; value: string }[];
  tags: Record<string, string>;
}

const DEFAULT_URL = 'http://localhost:9411/api/v2/spans';
const DEFAULT_TIMEOUT = 10000;
/** The default Resource's service name (core's default too), when a trace has none. */
const DEFAULT_SERVICE_NAME = 'unknown_service:node';

const KINDS: Record<SpanData['kind'], ZipkinSpan['kind']> = {
  server: 'SERVER',
  client: 'CLIENT',
  producer: 'PRODUCER',
  consumer: 'CONSUMER',
  internal: undefined, // "must be omitted (set to null)"
};

/**
 * Attributes naming the remote endpoint of a CLIENT or PRODUCER span, by the spec's rank.
 * `port` pairs a name or address with the attribute holding its port; `ip` ranks are used only
 * when the value is an IP literal (the spec's "remote socket address" attributes).
 */
const REMOTE_RANK: { key: string; port?: string; ip?: true }[] = [
  { key: 'peer.service' },
  { key: 'server.address', port: 'server.port' },
  { key: 'net.peer.name', port: 'net.peer.port' },
  { key: 'network.peer.address', port: 'network.peer.port', ip: true },
  { key: 'server.socket.domain' },
  { key: 'server.socket.address', port: 'server.socket.port', ip: true },
  { key: 'net.sock.peer.name' },
  { key: 'net.sock.peer.addr', port: 'net.sock.peer.port', ip: true },
  { key: 'peer.hostname' },
  { key: 'peer.address' },
  { key: 'db.name' },
];

/** A tag value: primitives as strings (booleans `true`/`false`), arrays as a JSON list. */
function tagValue(value: AttributeValue): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return JSON.stringify(value);
  return String(value);
}

function portOf(value: AttributeValue | undefined): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 && n <= 65535 ? n : undefined;
}

function remoteEndpoint(attributes: Attributes): ZipkinEndpoint | undefined {
  for (const rank of REMOTE_RANK) {
    const raw = attributes[rank.key];
    if (raw === undefined || raw === '' || Array.isArray(raw)) continue;
    const value = String(raw);
    const family = isIP(value);
    if (rank.ip === true && family === 0) continue; // not a socket address: try the next rank
    const endpoint: ZipkinEndpoint = {};
    if (family === 4) endpoint.ipv4 = value;
    else if (family === 6) endpoint.ipv6 = value;
    else endpoint.serviceName = value;
    const port = rank.port !== undefined ? portOf(attributes[rank.port]) : undefined;
    if (port !== undefined) endpoint.port = port;
    return endpoint;
  }
  return undefined;
}

/** Duration in whole microseconds from exact nanoseconds; below 1 µs rounds up to 1 (Zipkin's rule). */
function durationMicros(startMs: number, endMs: number): number | undefined {
  const [sMs, sNs] = splitEpochMs(startMs);
  const [eMs, eNs] = splitEpochMs(endMs);
  const ns = (eMs - sMs) * 1e6 + (eNs - sNs);
  if (!(ns > 0)) return undefined;
  return Math.max(1, Math.round(ns / 1000));
}

/** Annotation value of an event: its name, or `"name": {attributes as JSON}` (the spec's format). */
function annotationValue(name: string, attributes: Attributes): string {
  for (const _ in attributes) return `${JSON.stringify(name)}: ${JSON.stringify(attributes)}`;
  return name;
}

/** The tags every span of a trace shares: resource attributes (but service.name) and the scope. */
function sharedTags(resource: Attributes): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const key in resource) {
    if (key !== 'service.name') tags[key] = tagValue(resource[key]);
  }
  tags['otel.scope.name'] = SCOPE.name;
  tags['otel.scope.version'] = SCOPE.version;
  // "The following deprecated aliases MUST also be reported with exact same values."
  tags['otel.library.name'] = SCOPE.name;
  tags['otel.library.version'] = SCOPE.version;
  return tags;
}

function toZipkinSpan(trace: FinishedTrace, span: SpanData, serviceName: string, shared: Record<string, string>): ZipkinSpan {
  const attributes = exportedAttributes(trace, span);
  const tags: Record<string, string> = { ...shared };
  const scope = span.instrumentationScope;
  if (scope !== undefined && scope !== null && typeof scope.name === 'string') {
    // A span another library made (through @tracewire/opentelemetry): its own scope.
    tags['otel.scope.name'] = scope.name;
    tags['otel.library.name'] = scope.name;
    if (scope.version !== undefined) {
      tags['otel.scope.version'] = scope.version;
      tags['otel.library.version'] = scope.version;
    } else {
      delete tags['otel.scope.version'];
      delete tags['otel.library.version'];
    }
  }
  for (const key in attributes) tags[key] = tagValue(attributes[key]);

  const status = span.status;
  if (status.code === 'error') {
    tags['otel.status_code'] = 'ERROR';
    // "MUST be set if the code is ERROR, use an empty string if Description has no value."
    tags.error = status.message ?? '';
  } else {
    // Zipkin treats any span carrying `error` as failed; only status ERROR may set it.
    delete tags.error;
    if (status.code === 'ok') tags['otel.status_code'] = 'OK';
  }
  if (span.dropped.attributes > 0) tags['otel.dropped_attributes_count'] = String(span.dropped.attributes);
  if (span.dropped.events > 0) tags['otel.dropped_events_count'] = String(span.dropped.events);
  if (span.dropped.links > 0) tags['otel.dropped_links_count'] = String(span.dropped.links);
  if (span.traceState) tags['w3c.tracestate'] = span.traceState;
  // Links are "TBD" in the spec: the Collector's form, `traceId|spanId|tracestate|attributes|dropped`.
  for (let i = 0; i < span.links.length; i++) {
    const link = span.links[i];
    tags[`otlp.link.${i}`] = `${link.traceId}|${link.spanId}||${JSON.stringify(link.attributes)}|0`;
  }

  const out: ZipkinSpan = {
    traceId: span.traceId,
    id: span.spanId,
    name: span.name,
    timestamp: epochMicros(span.startTime),
    localEndpoint: { serviceName },
    tags,
  };
  if (span.parentSpanId !== undefined) out.parentId = span.parentSpanId;
  const kind = KINDS[span.kind];
  if (kind !== undefined) out.kind = kind;
  // A span exported open has no duration: Zipkin's own form of an unfinished span, which Zipkin
  // merges with the ended copy of the same span id sent in a later fragment.
  if (span.ended !== false) {
    const duration = durationMicros(span.startTime, span.endTime);
    if (duration !== undefined) out.duration = duration;
  }
  // "If Zipkin SpanKind resolves to either CLIENT or PRODUCER then the service SHOULD specify
  // remote endpoint otherwise Zipkin won't treat the Span as a dependency."
  if (kind === 'CLIENT' || kind === 'PRODUCER') {
    const remote = remoteEndpoint(attributes);
    if (remote !== undefined) out.remoteEndpoint = remote;
  }
  if (span.events.length > 0) {
    out.annotations = span.events.map((e) => ({ timestamp: epochMicros(e.time), value: annotationValue(e.name, e.attributes) }));
  }
  return out;
}

/** The Zipkin v2 spans of a batch of finished traces, in order. */
export function toZipkinSpans(traces: FinishedTrace[]): ZipkinSpan[] {
  const out: ZipkinSpan[] = [];
  for (const trace of traces) {
    const resource = trace.resource ?? {};
    const name = resource['service.name'];
    const serviceName = typeof name === 'string' && name !== '' ? name : DEFAULT_SERVICE_NAME;
    const shared = sharedTags(resource);
    for (const span of trace.spans) out.push(toZipkinSpan(trace, span, serviceName, shared));
  }
  return out;
}

function resolveUrl(option: string | undefined): URL {
  if (option !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(option);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new TypeError(`ZipkinExporter: "url" must be an http(s) URL, got ${JSON.stringify(option)}`);
    }
    return url;
  }
  const env = readEnv('OTEL_EXPORTER_ZIPKIN_ENDPOINT');
  if (env !== undefined) {
    try {
      const url = new URL(env);
      if (url.protocol === 'http:' || url.protocol === 'https:') return url;
    } catch {
      // reported below
    }
    warnEnv('OTEL_EXPORTER_ZIPKIN_ENDPOINT', env, DEFAULT_URL);
  }
  return new URL(DEFAULT_URL);
}

function resolveTimeout(option: number | undefined): number {
  if (option !== undefined) {
    if (typeof option !== 'number' || !(option > 0) || !Number.isFinite(option)) {
      throw new TypeError(`ZipkinExporter: "timeoutMillis" must be a positive number of milliseconds, got ${String(option)}`);
    }
    return option;
  }
  const env = readEnv('OTEL_EXPORTER_ZIPKIN_TIMEOUT');
  if (env !== undefined) {
    const n = Number(env);
    if (Number.isFinite(n) && n > 0) return n;
    warnEnv('OTEL_EXPORTER_ZIPKIN_TIMEOUT', env, String(DEFAULT_TIMEOUT));
  }
  return DEFAULT_TIMEOUT;
}

const OPTION_KEYS: ReadonlySet<string> = new Set(['url', 'headers', 'timeoutMillis']);
// Set by the exporter itself: a user header of the same name would corrupt the request.
const OWN_HEADERS: ReadonlySet<string> = new Set(['content-type', 'content-length', 'content-encoding', 'transfer-encoding', 'host', 'connection']);

function resolveHeaders(option: Record<string, string> | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (option === undefined) return headers;
  if (option === null || typeof option !== 'object' || Array.isArray(option)) {
    throw new TypeError('ZipkinExporter: "headers" must be an object of header names to string values');
  }
  for (const [name, value] of Object.entries(option)) {
    if (typeof value !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n\0]/.test(value)) {
      throw new TypeError(`ZipkinExporter: "headers" has an invalid header ${JSON.stringify(name)}`);
    }
    if (OWN_HEADERS.has(name.toLowerCase())) {
      throw new TypeError(`ZipkinExporter: "headers" may not set ${JSON.stringify(name)}, which the exporter sets itself`);
    }
    headers[name.toLowerCase()] = value;
  }
  return headers;
}

/**
 * Sends finished traces to Zipkin (or anything taking Zipkin v2 JSON: Jaeger, Tempo, the
 * Collector's zipkin receiver) with one POST per batch. A failed POST rejects, so the tracer
 * counts the batch as failed in `tracer.stats()`; it is not retried (one retry only when a reused
 * keep-alive connection was closed under the request before any response).
 */
export class ZipkinExporter implements Exporter {
  readonly name = 'zipkin';
  /** Where spans are POSTed. */
  readonly url: string;
  private readonly target: URL;
  private readonly headers: Record<string, string>;
  private readonly timeoutMillis: number;
  private readonly agent: Agent;
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(options: ZipkinExporterOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError('ZipkinExporter: options must be an object');
    }
    for (const key of Object.keys(options)) {
      if (!OPTION_KEYS.has(key)) throw new TypeError(`ZipkinExporter: unknown option "${key}" (known: ${[...OPTION_KEYS].join(', ')})`);
    }
    this.target = resolveUrl(options.url);
    this.url = this.target.href;
    this.timeoutMillis = resolveTimeout(options.timeoutMillis);
    this.headers = { ...resolveHeaders(options.headers), 'content-type': 'application/json' };
    this.agent = createAgent(this.target);
  }

  /** POSTs the traces' spans as one JSON array; rejects on a non-2xx answer, an error or the timeout. */
  export(traces: FinishedTrace[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('ZipkinExporter is shut down'));
    const spans = toZipkinSpans(traces);
    if (spans.length === 0) return Promise.resolve();
    const body = Buffer.from(JSON.stringify(spans), 'utf8');
    const sent = postOnce(this.target, this.agent, this.headers, body, this.timeoutMillis).then((res) => {
      if (res.status < 200 || res.status >= 300) {
        const detail = res.body.length > 0 ? `: ${res.body.slice(0, 200)}` : '';
        throw new Error(`Zipkin at ${this.target.host} answered HTTP ${res.status}${detail}`);
      }
    });
    this.inFlight.add(sent);
    const done = (): void => {
      this.inFlight.delete(sent);
    };
    sent.then(done, done);
    return sent;
  }

  /** Waits for the POSTs in flight (nothing is buffered here; the tracer holds the queue). */
  async forceFlush(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  /** Waits for the POSTs in flight, then closes the kept-alive connections; later exports reject. */
  async shutdown(): Promise<void> {
    this.closed = true;
    await this.forceFlush();
    this.agent.destroy();
  }
}
