'use strict';
/**
 * A stand-in for an OpenTelemetry Collector or Zipkin: a node:http server on 127.0.0.1 taking
 * OTLP/HTTP JSON on POST /v1/traces and Zipkin v2 JSON on POST /api/v2/spans (gzip or plain).
 * It keeps every span it receives, in one shape for both protocols, so run.js can print each
 * distributed trace across the services that sent it.
 */
const http = require('node:http');
const zlib = require('node:zlib');

const MAX_BODY = 8 * 1024 * 1024;

/** OTLP/JSON AnyValue to a plain value (int64 arrives as a decimal string). */
function anyValue(v) {
  if (v == null) return undefined;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  if ('arrayValue' in v) return (v.arrayValue.values || []).map(anyValue);
  return undefined;
}
const attributes = (list) => Object.fromEntries((list || []).map((kv) => [kv.key, anyValue(kv.value)]));

const OTLP_KIND = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const OTLP_STATUS = ['unset', 'ok', 'error'];

/** The spans of an OTLP ExportTraceServiceRequest (JSON), one plain object each. */
function fromOtlp(body) {
  const out = [];
  for (const rs of body.resourceSpans || []) {
    const resource = attributes(rs.resource && rs.resource.attributes);
    for (const ss of rs.scopeSpans || []) {
      for (const s of ss.spans || []) {
        const attrs = attributes(s.attributes);
        out.push({
          protocol: 'otlp',
          service: resource['service.name'],
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId || undefined,
          name: s.name,
          kind: OTLP_KIND[s.kind || 0],
          startMs: Number(BigInt(s.startTimeUnixNano) / 1000n) / 1000,
          durationMs: Number(BigInt(s.endTimeUnixNano) - BigInt(s.startTimeUnixNano)) / 1e6,
          status: OTLP_STATUS[(s.status && s.status.code) || 0],
          incomplete: attrs['tracewire.span.incomplete'] === true,
          attributes: attrs,
        });
      }
    }
  }
  return out;
}

/** The spans of a Zipkin v2 JSON list, in the same shape. */
function fromZipkin(list) {
  return list.map((z) => ({
    protocol: 'zipkin',
    service: z.localEndpoint && z.localEndpoint.serviceName,
    traceId: z.traceId,
    spanId: z.id,
    parentSpanId: z.parentId,
    name: z.name,
    kind: z.kind ? z.kind.toLowerCase() : 'internal',
    startMs: z.timestamp / 1000,
    durationMs: z.duration === undefined ? undefined : z.duration / 1000,
    status: z.tags && z.tags['otel.status_code'] ? z.tags['otel.status_code'].toLowerCase() : 'unset',
    incomplete: !!(z.tags && z.tags['tracewire.span.incomplete'] === 'true'),
    attributes: z.tags || {},
  }));
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    const source = req.headers['content-encoding'] === 'gzip' ? req.pipe(zlib.createGunzip()) : req;
    source.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        req.destroy();
        reject(new Error('body too large'));
      } else chunks.push(c);
    });
    source.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    source.on('error', reject);
  });
}

/**
 * Starts the receiver on 127.0.0.1:`port` (0: any free port). `onSpans(spans, protocol)` is told of
 * each delivery. Resolves with `{ url, spans, close() }`.
 */
function startReceiver({ port = 0, onSpans = () => undefined } = {}) {
  const spans = [];
  const server = http.createServer(async (req, res) => {
    const route = `${req.method} ${req.url.split('?')[0]}`;
    if (route !== 'POST /v1/traces' && route !== 'POST /api/v2/spans') {
      res.writeHead(404).end();
      return;
    }
    const type = String(req.headers['content-type'] || '');
    if (route === 'POST /v1/traces' && !type.startsWith('application/json')) {
      // This stand-in reads OTLP/JSON only; a real Collector takes protobuf too.
      res.writeHead(415, { 'content-type': 'text/plain' }).end('set protocol http/json (OTEL_EXPORTER_OTLP_PROTOCOL)');
      return;
    }
    try {
      const body = JSON.parse(await readBody(req));
      const got = route === 'POST /v1/traces' ? fromOtlp(body) : fromZipkin(body);
      spans.push(...got);
      onSpans(got, route === 'POST /v1/traces' ? 'OTLP/HTTP JSON' : 'Zipkin v2 JSON');
      if (route === 'POST /v1/traces') res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else res.writeHead(202).end();
    } catch (err) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(String(err.message));
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        spans,
        close: () => new Promise((r) => {
          server.closeAllConnections();
          server.close(r);
        }),
      });
    });
  });
}

/** Groups received spans by trace id, each trace's spans in start order. */
function byTrace(spans) {
  const traces = new Map();
  for (const s of spans) {
    if (!traces.has(s.traceId)) traces.set(s.traceId, []);
    traces.get(s.traceId).push(s);
  }
  for (const list of traces.values()) list.sort((a, b) => a.startMs - b.startMs);
  return traces;
}

/** One trace as an indented tree: service, kind, name, duration, status per span. */
function formatTrace(traceId, spans) {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map();
  for (const s of spans) {
    const parent = s.parentSpanId && ids.has(s.parentSpanId) ? s.parentSpanId : '';
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(s);
  }
  const services = [...new Set(spans.map((s) => s.service))].join(', ');
  const lines = [`trace ${traceId}  (${spans.length} spans from ${services})`];
  const walk = (parent, depth) => {
    for (const s of children.get(parent) || []) {
      const ms = s.durationMs === undefined ? 'open' : `${s.durationMs.toFixed(1)} ms`;
      const status = s.status === 'unset' ? '' : `  ${s.status.toUpperCase()}`;
      const code = s.attributes['http.response.status_code'];
      lines.push(`${'  '.repeat(depth + 1)}${String(s.service).padEnd(10)} ${s.kind.padEnd(8)} ${s.name}  ${ms}${code ? `  ${code}` : ''}${status}${s.incomplete ? '  (incomplete)' : ''}`);
      walk(s.spanId, depth + 1);
    }
  };
  walk('', 0);
  return lines.join('\n');
}

module.exports = { startReceiver, byTrace, formatTrace };
