'use strict';
/** What the two services share: saying where they listen, and stopping with their traces delivered. */

/** Tells run.js (over IPC) or you (on stderr) where `name` listens. */
function listening(name, server) {
  const url = `http://127.0.0.1:${server.address().port}`;
  if (process.send) process.send({ ready: url });
  else console.error(`${name} listening on ${url}`);
}

/** On SIGINT/SIGTERM (or run.js saying stop): close the server, deliver what is queued, exit. */
function stopOnSignals(tracer, server) {
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    server.closeAllConnections?.();
    await new Promise((r) => server.close(r));
    await tracer.shutdown(3000); // exports what is still queued, within 3 s
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.on('message', (m) => m && m.stop && stop());
  process.on('disconnect', stop); // run.js went away
}

module.exports = { listening, stopOnSignals };
