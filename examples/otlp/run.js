'use strict';
// Two services, one distributed trace, one backend: starts a local receiver (a stand-in for an
// OpenTelemetry Collector or Zipkin), the back service (Koa, "inventory") and the front service
// (Express, "shop") as separate processes exporting to it, sends the front a few requests, stops
// the services (which deliver what they still hold), prints each trace as the receiver got it
// from both services, and exits.
//
// Run: npx -y pnpm@10 example:otlp          (OTLP/HTTP JSON)
//      EXPORTER=zipkin npx -y pnpm@10 example:otlp   (Zipkin v2 JSON)
//      node examples/otlp/run.js --keep       (after a build: keeps serving until Ctrl-C)
const { fork } = require('node:child_process');
const http = require('node:http');
const path = require('node:path');
const { startReceiver, byTrace, formatTrace } = require('./receiver');

const KEEP = process.argv.includes('--keep');
const ZIPKIN = process.env.EXPORTER === 'zipkin';
// One JSON line per trace when piped, a tree on a terminal (OUTPUT=json or OUTPUT=tree to choose).
const JSON_LINES = process.env.OUTPUT ? process.env.OUTPUT === 'json' : !process.stdout.isTTY;

function get(url, headers) {
  return new Promise((resolve) => {
    http.get(url, { headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    }).on('error', () => resolve(0));
  });
}

/** Forks a service with the OTEL_* environment pointing at the receiver; resolves with its URL. */
function startService(file, serviceName, receiverUrl, extraEnv) {
  const env = {
    ...process.env,
    ...extraEnv,
    PORT: '0',
    OTEL_SERVICE_NAME: serviceName,
    OTEL_BSP_SCHEDULE_DELAY: '500',
  };
  if (ZIPKIN) {
    env.OTEL_TRACES_EXPORTER = 'zipkin';
    env.OTEL_EXPORTER_ZIPKIN_ENDPOINT = `${receiverUrl}/api/v2/spans`;
  } else {
    env.OTEL_TRACES_EXPORTER = 'otlp';
    env.OTEL_EXPORTER_OTLP_ENDPOINT = receiverUrl; // the exporter appends /v1/traces
    env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json'; // this receiver reads JSON; the default is protobuf
  }
  // cwd: the example's folder, where @tracewire/otlp is installed beside core.
  const child = fork(path.join(__dirname, file), [], { cwd: __dirname, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve({ child, url: m.ready }));
    child.once('exit', (code) => reject(new Error(`${file} exited (${code}) before listening`)));
  });
}

function stop(service) {
  return new Promise((resolve) => {
    if (service.child.exitCode !== null) return resolve();
    const timer = setTimeout(() => service.child.kill('SIGKILL'), 8000);
    service.child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (service.child.connected) service.child.send({ stop: true }, () => undefined);
    else service.child.kill('SIGTERM');
  });
}

function print(receiver) {
  for (const [traceId, spans] of byTrace(receiver.spans)) {
    if (JSON_LINES) console.log(JSON.stringify({ traceId, spans }));
    else console.log(formatTrace(traceId, spans) + '\n');
  }
}

async function main() {
  const receiver = await startReceiver({
    onSpans: (spans, protocol) => {
      const services = [...new Set(spans.map((s) => s.service))].join(', ');
      console.error(`receiver: ${spans.length} span(s) over ${protocol} from ${services}`);
    },
  });
  console.error(`receiver listening on ${receiver.url} (${ZIPKIN ? 'POST /api/v2/spans, Zipkin' : 'POST /v1/traces, OTLP/HTTP JSON'})`);
  const back = await startService('back.js', 'inventory', receiver.url);
  const front = await startService('front.js', 'shop', receiver.url, { INVENTORY_URL: back.url });
  console.error(`inventory on ${back.url}, shop on ${front.url}`);

  let finishing;
  const finish = () => {
    finishing ??= (async () => {
      await Promise.all([stop(front), stop(back)]);
      print(receiver);
      await receiver.close();
      process.exit(0);
    })();
    return finishing;
  };
  process.once('SIGINT', finish);
  process.once('SIGTERM', finish);

  // The first request continues a caller's trace (W3C traceparent), the way a gateway would send it.
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  for (const [p, headers] of [['/checkout/A-7', { traceparent }], ['/checkout/B-2'], ['/checkout/Z-9']]) {
    const status = await get(front.url + p, headers);
    console.error(`GET ${p} -> ${status}`);
  }
  if (KEEP) {
    console.error(`try: curl ${front.url}/checkout/A-7   (Ctrl-C prints what the receiver got and exits)`);
    return;
  }
  await finish();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
