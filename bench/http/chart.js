'use strict';
/**
 * The HTTP bench's chart: added server CPU per request over the bare app, Tracewire against
 * OpenTelemetry, per framework and route, one panel per results file (one Node version each).
 * run.js writes one next to each results file; to put several runs in one picture:
 *   node bench/http/chart.js bench/results/<a>.json [<b>.json ...] > chart.svg
 * Plain SVG, no dependency: bars are medians over rounds, whiskers the min–max of the rounds, the
 * tick on a Tracewire bar its target when the run judged one.
 */
const fs = require('node:fs');

const FRAMEWORKS = { express: 'Express 5', koa: 'Koa 3', fastify: 'Fastify 5' };
const ROUTES = { hello: 'hello', stream: '50-chunk SSE stream' };
const SERIES = [
  { variant: 'tracewire', label: 'Tracewire', color: '#2563eb' },
  { variant: 'opentelemetry', label: 'OpenTelemetry (http + framework instrumentation)', color: '#9ca3af' },
];

const W = 820;
const LABEL = 200; // left column: framework and route
const RIGHT = 70; // room for the value labels past the longest bar
const BAR = 15;
const GAP = 3;
const GROUP = 14;

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

/** A round upper bound for the axis, and its tick step. */
function axis(max) {
  const steps = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500];
  const step = steps.find((s) => max / s <= 6) || 1000;
  return { top: Math.max(step, Math.ceil(max / step) * step), step };
}

/** Rows of one run: `{ framework, route, bars: [{ series, median, min, max, target }] }`. */
function rowsOf(result) {
  const rows = [];
  for (const framework of result.settings.frameworks) {
    for (const route of result.settings.routes) {
      const bars = [];
      for (const s of SERIES) {
        const c = result.cells.find((x) => x.framework === framework && x.route === route && x.variant === s.variant);
        if (!c || !c.vsBare) continue;
        const a = c.vsBare.addedCpuUs;
        const t = (result.targets || []).find((x) => x.framework === framework && x.route === route && x.kind === 'added' && x.variant === s.variant);
        bars.push({ series: s, median: a.median, min: a.min, max: a.max, target: t ? t.limitValue : undefined });
      }
      if (bars.length) rows.push({ framework, route, bars });
    }
  }
  return rows;
}

function panel(result, y0) {
  const rows = rowsOf(result);
  const { top, step } = axis(Math.max(1, ...rows.flatMap((r) => r.bars.flatMap((b) => [b.max, b.median, b.target || 0]))));
  const plotW = W - LABEL - RIGHT;
  const x = (v) => (LABEL + (Math.max(0, v) / top) * plotW).toFixed(1);
  const m = result.machine;
  const head = [];
  const grid = [];
  const bars = [];
  let y = y0;
  head.push(`<text x="10" y="${y + 16}" font-size="15" font-weight="bold">Node ${esc(m.node)}: added server CPU µs per request over the bare app</text>`);
  head.push(`<text x="10" y="${y + 34}" font-size="11" fill="#4b5563">${esc(result.date)}, ${esc(m.cpu)} ${m.cores} cores; median of ${result.settings.rounds} rounds × ${result.settings.duration} s, whiskers min–max of the rounds; lower is better</text>`);
  y += 48;
  let lx = 10;
  for (const s of SERIES) {
    head.push(`<rect x="${lx}" y="${y}" width="12" height="12" fill="${s.color}"/>`);
    head.push(`<text x="${lx + 17}" y="${y + 10}" font-size="11">${esc(s.label)}</text>`);
    lx += 30 + s.label.length * 6;
  }
  head.push(`<line x1="${lx}" y1="${y}" x2="${lx}" y2="${y + 12}" stroke="#111827" stroke-width="2"/>`);
  head.push(`<text x="${lx + 6}" y="${y + 10}" font-size="11">target</text>`);
  y += 24;
  const plotTop = y;
  for (const r of rows) {
    const h = r.bars.length * BAR + (r.bars.length - 1) * GAP;
    bars.push(`<text x="10" y="${y + h / 2 - 2}" font-size="12" font-weight="bold">${esc(FRAMEWORKS[r.framework] || r.framework)}</text>`);
    bars.push(`<text x="10" y="${y + h / 2 + 11}" font-size="11" fill="#4b5563">${esc(ROUTES[r.route] || r.route)}</text>`);
    for (const b of r.bars) {
      const mid = y + BAR / 2;
      const title = `${b.series.label}: ${fmt(b.median)} µs (${fmt(b.min)}–${fmt(b.max)})`;
      bars.push(`<rect x="${LABEL}" y="${y}" width="${Math.max(x(b.median) - LABEL, 1).toFixed(1)}" height="${BAR}" fill="${b.series.color}"><title>${esc(title)}</title></rect>`);
      bars.push(`<line x1="${x(b.min)}" y1="${mid}" x2="${x(b.max)}" y2="${mid}" stroke="#111827" stroke-width="1"/>`);
      for (const v of [b.min, b.max]) bars.push(`<line x1="${x(v)}" y1="${mid - 4}" x2="${x(v)}" y2="${mid + 4}" stroke="#111827" stroke-width="1"/>`);
      if (b.target !== undefined) bars.push(`<line x1="${x(b.target)}" y1="${y - 2}" x2="${x(b.target)}" y2="${y + BAR + 2}" stroke="#111827" stroke-width="2"/>`);
      const lv = Math.max(Number(x(b.median)), Number(x(b.max)), b.target !== undefined ? Number(x(b.target)) : 0) + 5;
      bars.push(`<text x="${lv.toFixed(1)}" y="${y + BAR - 3}" font-size="11">${b.median > 0 ? '+' : ''}${fmt(b.median)}</text>`);
      y += BAR + GAP;
    }
    y += GROUP - GAP;
  }
  // Axis and grid lines, drawn first so the bars cover them.
  grid.push(`<line x1="${LABEL}" y1="${plotTop - 4}" x2="${LABEL}" y2="${y}" stroke="#111827"/>`);
  for (let v = 0; v <= top + 1e-9; v += step) {
    grid.push(`<line x1="${x(v)}" y1="${plotTop - 4}" x2="${x(v)}" y2="${y}" stroke="#e5e7eb"/>`);
    grid.push(`<line x1="${x(v)}" y1="${y}" x2="${x(v)}" y2="${y + 4}" stroke="#111827"/>`);
    grid.push(`<text x="${x(v)}" y="${y + 16}" font-size="11" text-anchor="middle">${v}</text>`);
  }
  grid.push(`<text x="${LABEL + plotW / 2}" y="${y + 32}" font-size="11" text-anchor="middle">µs of server CPU added per request</text>`);
  return { svg: [...head, ...grid, ...bars], height: y + 44 - y0 };
}

/** The SVG document for one or more results (each a parsed run.js results file). */
function chart(results) {
  const parts = [];
  let y = 10;
  for (const r of results) {
    const p = panel(r, y);
    parts.push(...p.svg);
    y += p.height + 16;
  }
  // Inline style only: a README renders the file as an image, with no stylesheet.
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y}" viewBox="0 0 ${W} ${y}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" fill="#111827">`,
    `<rect width="${W}" height="${y}" fill="#ffffff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

module.exports = { chart };

if (require.main === module) {
  const files = process.argv.slice(2);
  if (!files.length) {
    console.error('usage: node bench/http/chart.js <results.json> [...] > chart.svg');
    process.exit(2);
  }
  process.stdout.write(chart(files.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')))));
}
