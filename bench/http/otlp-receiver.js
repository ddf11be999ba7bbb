'use strict';
/**
 * The OTLP receiver of the `tracewire-otlp` variant: a separate process (off the server's core
 * when taskset exists) that reads each POSTed batch, counts it and answers 200 with an empty
 * ExportTraceServiceResponse, as a Collector does. Prints `{"port":…}` once listening.
 * GET /count returns `{ requests, bytes }`.
 */
const http = require('node:http');

let requests = 0;
let bytes = 0;
const server = http.createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ requests, bytes }));
    return;
  }
  req.on('data', (c) => {
    bytes += c.length;
  });
  req.on('end', () => {
    requests++;
    res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '0' }).end();
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
process.on('SIGTERM', () => process.exit(0));
