import type { ServerResponse } from 'node:http';

/**
 * Calls `finish` once the response is over: at its `close`, which node:http emits after the last
 * byte left and also when the client went away first (docs/design.md "The path of one request",
 * step 4) — not at `finish`, and not at a framework's send hook, so a streamed body is measured to
 * its end. A response already closed (the client left during an earlier async hook) finishes now.
 * The one finish hook of the Express, Koa and Fastify adapters.
 */
export function onResponseClose(res: ServerResponse, finish: () => void): void {
  if (res.closed) finish();
  else res.once('close', finish);
}
