'use strict';
/**
 * Start and stop for the example servers: listen, say where, send the warm-up requests, and on
 * Ctrl-C flush the traces still queued before exiting.
 */
const { warmup, announce } = require('./warmup');

/** Tells you where the example listens, then sends its warm-up requests. */
async function ready(name, base, paths) {
  announce(name, base, paths);
  await warmup(base, paths);
}

/** Listens on 127.0.0.1, port $PORT or `defaultPort`, then `ready`. For Express and Koa apps. */
function serve(name, app, defaultPort, paths) {
  const server = app.listen(Number(process.env.PORT ?? defaultPort), '127.0.0.1', async () => {
    await ready(name, `http://127.0.0.1:${server.address().port}`, paths);
  });
  return server;
}

/** On SIGINT or SIGTERM: `close()` the server, export what the tracer still holds, exit. */
function stopOnSignals(tracer, close) {
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, async () => {
      await close();
      await tracer.shutdown(2000);
      process.exit(0);
    });
  }
}

module.exports = { ready, serve, stopOnSignals };
