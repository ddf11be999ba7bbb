'use strict';
/**
 * The compact tables the top-level README shows, from results files of run.js:
 *   node bench/http/summary.js bench/results/<date>-node<major>.json   (one run, with its verdicts)
 *   node bench/http/summary.js <node24.json> <node26.json>            (runs side by side)
 * One row per framework, route and variant: CPU µs per request and the added CPU over bare
 * (median of the rounds, min–max), the server's busy share, then the targets' verdicts.
 */
const fs = require('node:fs');

const FRAMEWORKS = { express: 'Express 5', koa: 'Koa 3', fastify: 'Fastify 5' };
const ROUTES = { hello: 'hello', stream: 'stream (50 SSE chunks)' };
const VARIANTS = {
  bare: 'bare',
  tracewire: 'tracewire',
  'tracewire-unsampled': 'tracewire unsampled',
  opentelemetry: 'OpenTelemetry',
  'context-only': 'context only (the floor)',
};

const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '—');
const signed = (x) => (x > 0 ? '+' : '') + f1(x);

function summary(r) {
  const out = [];
  out.push('| framework | route | variant | CPU µs/req | added CPU µs/req (min–max) | server busy |');
  out.push('|---|---|---|---|---|---|');
  let last = '';
  let lastRoute = '';
  for (const c of r.cells) {
    const fw = c.framework === last ? '' : FRAMEWORKS[c.framework] || c.framework;
    const route = c.framework === last && c.route === lastRoute ? '' : ROUTES[c.route] || c.route;
    last = c.framework;
    lastRoute = c.route;
    const variant = VARIANTS[c.variant] || c.variant;
    const added = c.vsBare ? `${signed(c.vsBare.addedCpuUs.median)} (${signed(c.vsBare.addedCpuUs.min)} … ${signed(c.vsBare.addedCpuUs.max)})` : '—';
    out.push(`| ${fw} | ${route} | ${variant} | ${f1(c.cpuUsPerReq.median)} | ${added} | ${Math.round(c.cpuUtil.min * 100)}–${Math.round(c.cpuUtil.max * 100)}% |`);
  }
  out.push('');
  out.push('| framework | target | median | worst round | limit | |');
  out.push('|---|---|---|---|---|---|');
  for (const t of r.targets) {
    const v = (x) => (t.kind === 'factor' ? f1(x) : signed(x));
    out.push(`| ${FRAMEWORKS[t.framework] || t.framework} | ${t.target} | ${v(t.value)} | ${v(t.worstRound)} | ${t.limit} | ${t.pass ? 'pass' : '**miss**'} |`);
  }
  return `${out.join('\n')}\n`;
}

/** Several runs side by side (one Node version each): added CPU µs/req per run, then each run's verdicts. */
function compare(runs) {
  const head = runs.map((r) => `Node ${r.machine.node.replace(/^v/, '').split('.')[0]}: CPU µs/req, added (min–max)`);
  const out = [];
  out.push(`| framework | route | variant | ${head.join(' | ')} |`);
  out.push(`|---|---|---|${head.map(() => '---').join('|')}|`);
  let last = '';
  let lastRoute = '';
  for (const c of runs[0].cells) {
    const fw = c.framework === last ? '' : FRAMEWORKS[c.framework] || c.framework;
    const route = c.framework === last && c.route === lastRoute ? '' : ROUTES[c.route] || c.route;
    last = c.framework;
    lastRoute = c.route;
    const cols = runs.map((r) => {
      const x = r.cells.find((y) => y.framework === c.framework && y.route === c.route && y.variant === c.variant);
      if (!x) return '—';
      if (!x.vsBare) return f1(x.cpuUsPerReq.median);
      const a = x.vsBare.addedCpuUs;
      return `${f1(x.cpuUsPerReq.median)}, **${signed(a.median)}** (${signed(a.min)} … ${signed(a.max)})`;
    });
    out.push(`| ${fw} | ${route} | ${VARIANTS[c.variant] || c.variant} | ${cols.join(' | ')} |`);
  }
  return `${out.join('\n')}\n`;
}

module.exports = { summary, compare };

if (require.main === module) {
  const files = process.argv.slice(2);
  if (!files.length) {
    console.error('usage: node bench/http/summary.js <results.json> [<results.json> ...]');
    process.exit(2);
  }
  const runs = files.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
  process.stdout.write(runs.length === 1 ? summary(runs[0]) : compare(runs));
}
