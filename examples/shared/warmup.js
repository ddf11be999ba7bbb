'use strict';
/**
 * Sends a few requests to a freshly started example so its first traces print right away, then
 * tells you how to send your own. Set WARMUP=0 to skip.
 */
const http = require('node:http');

function get(url, headers) {
  return new Promise((resolve) => {
    const req = http.get(url, { headers }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', resolve);
  });
}

async function warmup(base, paths) {
  if (process.env.WARMUP === '0') return;
  // One request continues a caller's trace, to show W3C traceparent in action.
  await get(base + paths[0], { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
  for (const p of paths.slice(1)) await get(base + p);
}

function announce(name, base, paths) {
  console.error(`\n${name} listening on ${base}`);
  console.error(`try: ${paths.map((p) => `curl ${base}${p}`).join('\n     ')}\n`);
}

module.exports = { warmup, announce };
