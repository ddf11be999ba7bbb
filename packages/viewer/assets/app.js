/*
 * Tracewire viewer page. Plain browser JavaScript, no framework, no build step, no network beyond
 * its own origin: the trace list (GET /api/traces), totals (/api/totals), filter menus
 * (/api/facets), one trace (/api/traces/:id) and live updates (SSE, /api/events).
 * Every value from a trace is put in the page with textContent, never parsed as HTML.
 */
/* global document, location, history, URLSearchParams, EventSource, CSS, Node, HTMLElement, HTMLInputElement, HTMLSelectElement, HTMLTextAreaElement */
'use strict';

(function () {
  // ---------- small helpers ----------
  const $ = (id) => document.getElementById(id);

  /** Creates an element: el('span', { class: 'x', title: 't' }, child, 'text', ...). */
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === 'class') node.className = v;
        else if (k === 'text') node.textContent = v;
        else if (k === 'style') Object.assign(node.style, v);
        else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
        else if (k === 'dataset') Object.assign(node.dataset, v);
        else node.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function fmtMs(ms) {
    if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
    if (ms < 1) return `${ms.toFixed(2)} ms`;
    if (ms < 1000) return `${Math.round(ms)} ms`;
    if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
    return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
  }

  function fmtCost(usd) {
    if (usd === null || usd === undefined || !Number.isFinite(usd)) return '–';
    if (usd === 0) return '$0';
    if (usd >= 1) return `$${usd.toFixed(2)}`;
    if (usd >= 0.01) return `$${usd.toFixed(3)}`;
    return `$${usd.toPrecision(2)}`;
  }

  function fmtInt(n) {
    if (n === null || n === undefined || !Number.isFinite(n)) return '–';
    return Math.round(n).toLocaleString('en-US');
  }

  function fmtTokens(n) {
    if (n === null || n === undefined) return '–';
    return n >= 10000 ? `${(n / 1000).toFixed(1)}k` : String(n);
  }

  function fmtAgo(epochMs) {
    const s = Math.max(0, (Date.now() - epochMs) / 1000);
    if (s < 5) return 'just now';
    if (s < 60) return `${Math.round(s)} s ago`;
    if (s < 3600) return `${Math.round(s / 60)} min ago`;
    return new Date(epochMs).toLocaleTimeString();
  }

  function fmtValue(v) {
    if (Array.isArray(v)) return JSON.stringify(v);
    return String(v);
  }

  async function getJson(url) {
    const res = await fetch(url, { headers: { accept: 'application/json' } });
    if (!res.ok) {
      let msg = `${res.status}`;
      try {
        msg = (await res.json()).error || msg;
      } catch {
        // not JSON: keep the status
      }
      throw new Error(msg);
    }
    return res.json();
  }

  // Colour per service, assigned on first sight and kept for the page's life, so a service has one
  // colour in every trace. Chosen for contrast on white and against each other.
  const PALETTE = ['#2563eb', '#d97706', '#059669', '#9333ea', '#db2777', '#0891b2', '#65a30d', '#dc2626', '#4f46e5', '#a16207'];
  const serviceColors = new Map();
  function colorOf(service) {
    if (!serviceColors.has(service)) serviceColors.set(service, PALETTE[serviceColors.size % PALETTE.length]);
    return serviceColors.get(service);
  }

  // ---------- LLM attributes (the same names the server reads; see src/summary.ts) ----------
  const NOT_A_CALL = new Set(['execute_tool', 'invoke_agent', 'create_agent', 'invoke_workflow']);
  const attr = (s, ...keys) => {
    for (const k of keys) if (s.attributes[k] !== undefined) return s.attributes[k];
    return undefined;
  };
  function isLLMSpan(s) {
    const op = s.attributes['gen_ai.operation.name'];
    if (typeof op === 'string' && NOT_A_CALL.has(op)) return false;
    return s.attributes['gen_ai.provider.name'] !== undefined || s.attributes['gen_ai.system'] !== undefined;
  }
  function llmOf(s) {
    const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
    const ttft = num(attr(s, 'gen_ai.response.time_to_first_chunk'));
    return {
      provider: attr(s, 'gen_ai.provider.name', 'gen_ai.system'),
      requestModel: attr(s, 'gen_ai.request.model'),
      responseModel: attr(s, 'gen_ai.response.model'),
      operation: attr(s, 'gen_ai.operation.name'),
      input: num(attr(s, 'gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens')),
      output: num(attr(s, 'gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens')),
      cached: num(attr(s, 'gen_ai.usage.cache_read.input_tokens', 'gen_ai.usage.cached_tokens')),
      cacheWrite: num(attr(s, 'gen_ai.usage.cache_creation.input_tokens', 'gen_ai.usage.cache_write.input_tokens')),
      reasoning: num(attr(s, 'gen_ai.usage.reasoning.output_tokens')),
      cost: num(attr(s, 'tracewire.usage.cost')),
      ttftMs: ttft === undefined ? undefined : ttft * 1000,
      chunks: num(attr(s, 'tracewire.llm.chunks')),
      finish: attr(s, 'gen_ai.response.finish_reasons'),
      responseId: attr(s, 'gen_ai.response.id'),
      truncated: attr(s, 'tracewire.llm.truncated') === true,
      input_messages: attr(s, 'gen_ai.input.messages'),
      output_messages: attr(s, 'gen_ai.output.messages'),
      system: attr(s, 'gen_ai.system_instructions'),
    };
  }
  const isAborted = (s) => s.attributes['tracewire.stream.aborted'] === true || s.attributes['error.type'] === 'client_aborted';

  /** The spans that are one model call each (the deepest non-server LLM span of each chain). */
  function callSpanIds(spans, byId) {
    const llm = spans.filter(isLLMSpan);
    const ids = new Set(llm.map((s) => s.spanId));
    const below = new Map();
    const walkUp = (s, fn) => {
      const seen = new Set();
      let p = s.parentSpanId;
      while (p && byId.has(p) && !seen.has(p)) {
        seen.add(p);
        if (fn(byId.get(p)) === true) return true;
        p = byId.get(p).parentSpanId;
      }
      return false;
    };
    for (const s of llm) {
      walkUp(s, (parent) => {
        const m = below.get(parent.spanId) || { any: false, nonServer: false };
        m.any = true;
        if (s.kind !== 'server') m.nonServer = true;
        below.set(parent.spanId, m);
      });
    }
    const calls = new Set();
    for (const s of llm) {
      const m = below.get(s.spanId);
      const counts = s.kind !== 'server' ? !(m && m.nonServer) : !(m && m.any) && !walkUp(s, (p) => ids.has(p.spanId) && p.kind !== 'server');
      if (counts) calls.add(s.spanId);
    }
    return calls;
  }

  // ---------- state ----------
  const state = {
    traces: [],
    selectedTrace: null, // trace id
    trace: null, // { traceId, spans }
    selectedSpan: null, // span id
    llmOnly: false,
    paused: false,
    missed: false,
  };

  function queryString() {
    const p = new URLSearchParams();
    const q = $('f-q').value.trim();
    if (q) p.set('q', q);
    if ($('f-service').value) p.set('service', $('f-service').value);
    if ($('f-route').value) p.set('route', $('f-route').value);
    if ($('f-status').value) p.set('status', $('f-status').value);
    const min = $('f-min').value.trim();
    if (min && Number(min) >= 0) p.set('minMs', min);
    if ($('f-llm').checked) p.set('llm', '1');
    p.set('limit', '500');
    return p.toString();
  }

  function filterDescription() {
    const parts = [];
    if ($('f-q').value.trim()) parts.push(`matching “${$('f-q').value.trim()}”`);
    if ($('f-service').value) parts.push(`in ${$('f-service').value}`);
    if ($('f-route').value) parts.push(`on ${$('f-route').value}`);
    if ($('f-status').value === 'error') parts.push('with errors');
    if ($('f-status').value === 'ok') parts.push('without errors');
    if ($('f-min').value.trim()) parts.push(`slower than ${$('f-min').value.trim()} ms`);
    if ($('f-llm').checked) parts.push('with LLM calls');
    return parts.join(', ');
  }

  // ---------- trace list ----------
  let listSeq = 0;
  async function refreshList({ live = false } = {}) {
    const seq = ++listSeq;
    const qs = queryString();
    // Described as asked: the filters may change while the answer is on its way.
    const desc = filterDescription();
    let traces;
    let totals;
    try {
      [traces, totals] = await Promise.all([getJson(`/api/traces?${qs}`), getJson(`/api/totals?${qs}`)]);
    } catch (err) {
      $('list-status').textContent = `Could not load traces: ${err.message}`;
      return;
    }
    if (seq !== listSeq) return; // a newer refresh is on its way
    state.traces = traces;
    renderList(live);
    renderTotals(totals, desc);
    $('list-status').textContent = traces.length === 0
      ? (desc ? `No traces ${desc}.` : 'No traces yet. Send some over OTLP/HTTP to /v1/traces.')
      : `${traces.length} ${traces.length === 1 ? 'trace' : 'traces'}${desc ? ' ' + desc : ''}.`;
  }

  // Every trace id the list has shown: a row is marked new only the first time it appears live.
  const shownIds = new Set();
  function renderList(live) {
    const list = $('trace-list');
    const focusedId = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.traceId : undefined;
    list.replaceChildren(...state.traces.map((t) => traceRow(t, live)));
    for (const t of state.traces) shownIds.add(t.traceId);
    if (focusedId) {
      const again = list.querySelector(`button[data-trace-id="${CSS.escape(focusedId)}"]`);
      if (again) again.focus();
    }
  }

  function traceRow(t, live) {
    const selected = t.traceId === state.selectedTrace;
    const llm = t.llm;
    const badges = [];
    if (t.error) badges.push(el('span', { class: 'badge error', text: 'error' }));
    if (llm.calls > 0) {
      badges.push(el('span', { class: 'badge llm', text: llm.calls === 1 ? 'LLM' : `LLM ×${llm.calls}` }));
      if (llm.ttftMs !== null) badges.push(el('span', { class: 'badge ttft', text: `TTFT ${fmtMs(llm.ttftMs)}` }));
      if (llm.inputTokens !== null || llm.outputTokens !== null) {
        badges.push(el('span', { class: 'badge tokens', text: `${fmtTokens(llm.inputTokens)} → ${fmtTokens(llm.outputTokens)} tok` }));
      }
      if (llm.cost !== null) badges.push(el('span', { class: 'badge cost', text: fmtCost(llm.cost) }));
    }
    const label = [
      t.rootName || '(unnamed)',
      `${fmtMs(t.durationMs)}`,
      `${t.spanCount} spans`,
      `services ${t.services.join(', ')}`,
      t.error ? 'has errors' : '',
      llm.calls > 0 ? `${llm.calls} LLM ${llm.calls === 1 ? 'call' : 'calls'}` : '',
      llm.ttftMs !== null ? `first token after ${fmtMs(llm.ttftMs)}` : '',
      llm.inputTokens !== null ? `${llm.inputTokens} input tokens` : '',
      llm.outputTokens !== null ? `${llm.outputTokens} output tokens` : '',
      llm.cost !== null ? `cost ${fmtCost(llm.cost)}` : '',
      fmtAgo(t.startTime),
    ].filter(Boolean).join(', ');
    const button = el(
      'button',
      {
        type: 'button',
        class: `trace-row${t.error ? ' has-error' : ''}${live && shownIds.size > 0 && !shownIds.has(t.traceId) ? ' fresh' : ''}`,
        dataset: { traceId: t.traceId },
        'aria-current': selected ? 'true' : undefined,
        'aria-label': label,
        onclick: () => openTrace(t.traceId, { focus: true }),
      },
      el('span', { class: 'row-top' },
        el('span', { class: 'root-name', text: t.rootName || '(unnamed)' }),
        el('span', { class: 'duration', text: fmtMs(t.durationMs) })),
      el('span', { class: 'row-services' },
        t.services.map((s) => el('span', { class: 'svc', style: { '--svc': colorOf(s) }, text: s }))),
      el('span', { class: 'row-bottom' },
        el('span', { class: 'badges' }, badges),
        el('span', { class: 'muted when', text: `${t.spanCount} spans · ${fmtAgo(t.startTime)}` })),
    );
    return el('li', null, button);
  }

  function renderTotals(t, desc) {
    const fig = (name, value, title) => [el('div', { class: 'fig' }, el('dt', { text: name }), el('dd', { text: value, title }))];
    const errRate = t.requests > 0 ? ` (${Math.round((t.errors / t.requests) * 100)}%)` : '';
    $('totals-figures').replaceChildren(
      ...fig('Requests', fmtInt(t.requests)),
      ...fig('Errors', `${fmtInt(t.errors)}${errRate}`),
      ...fig('Duration p50 / p95', `${fmtMs(t.durationMs.p50)} / ${fmtMs(t.durationMs.p95)}`),
      ...fig('TTFT p50 / p95', `${fmtMs(t.ttftMs.p50)} / ${fmtMs(t.ttftMs.p95)}`, 'time to first token, from the request start'),
      ...fig('Tokens in / out', `${fmtInt(t.inputTokens)} / ${fmtInt(t.outputTokens)}`),
      ...fig('Cost', fmtCost(t.cost)),
    );
    $('totals-scope').textContent = desc ? `(${desc})` : '';
    const body = $('totals-models').tBodies[0];
    body.replaceChildren(...t.models.map((m) => el('tr', null,
      el('th', { scope: 'row', text: m.model }),
      el('td', { text: fmtInt(m.calls) }),
      el('td', { text: fmtInt(m.inputTokens) }),
      el('td', { text: fmtInt(m.outputTokens) }),
      el('td', { text: fmtInt(m.cachedInputTokens) }),
      el('td', { text: fmtCost(m.cost) }))));
    $('totals-models').hidden = t.models.length === 0;
  }

  // Metrics (POST /v1/metrics): every request of every service, not only the traces kept.
  const METRIC_ROWS = 5;
  const pct = (n, of) => (of > 0 ? `${Math.round((n / of) * 100)}%` : '');
  async function refreshMetrics() {
    let m;
    try {
      m = await getJson('/api/metrics');
    } catch {
      return;
    }
    $('metrics').hidden = m.routes.length === 0 && m.models.length === 0;
    $('metrics-routes').tBodies[0].replaceChildren(...m.routes.slice(0, METRIC_ROWS).map((r) => el('tr', null,
      el('th', { scope: 'row', text: `${r.service} · ${r.route ?? '(no route)'}`, title: `${r.service} · ${r.route ?? 'requests no route matched'}` }),
      el('td', { text: fmtInt(r.requests) }),
      el('td', { text: fmtInt(r.errors), title: r.errors > 0 ? `${pct(r.errors, r.requests)} of the requests` : undefined }),
      el('td', { text: r.p50 === null ? '–' : fmtMs(r.p50 * 1000) }),
      el('td', { text: r.p95 === null ? '–' : fmtMs(r.p95 * 1000) }))));
    $('metrics-routes').hidden = m.routes.length === 0;
    // A service that calls a model, and one that serves (or relays) its tokens, are rows of their own.
    $('metrics-models').tBodies[0].replaceChildren(...m.models.slice(0, METRIC_ROWS).map((x) => el('tr', null,
      el('th', { scope: 'row', text: `${x.service} · ${x.model}`, title: `${x.service} · ${x.model}${x.provider ? ` (${x.provider})` : ''}` }),
      el('td', x.calls > 0
        ? { text: fmtInt(x.calls), title: x.errors > 0 ? `${fmtInt(x.errors)} failed` : undefined }
        : { text: `${fmtInt(x.served)} out`, title: `${fmtInt(x.served)} token streams this service sent (gen_ai.server.*)` }),
      el('td', { text: fmtInt(x.inputTokens) }),
      el('td', { text: fmtInt(x.outputTokens) }),
      el('td', { text: x.ttfcP50 === null ? '–' : fmtMs(x.ttfcP50 * 1000) }),
      el('td', { text: fmtCost(x.cost) }))));
    $('metrics-models').hidden = m.models.length === 0;
  }

  let facetsKey = '';
  async function refreshFacets() {
    let f;
    try {
      f = await getJson('/api/facets');
    } catch {
      return;
    }
    const key = JSON.stringify(f);
    if (key === facetsKey) return;
    facetsKey = key;
    fillSelect($('f-service'), f.services, 'All services');
    fillSelect($('f-route'), f.routes, 'All routes');
    for (const s of f.services) colorOf(s);
  }

  function fillSelect(select, values, allLabel) {
    const current = select.value;
    const opts = [el('option', { value: '', text: allLabel })];
    for (const v of values) opts.push(el('option', { value: v, text: v }));
    if (current && !values.includes(current)) opts.push(el('option', { value: current, text: current }));
    select.replaceChildren(...opts);
    select.value = current;
  }

  // ---------- one trace ----------
  let traceSeq = 0;
  async function openTrace(traceId, { focus = false, keepSpan = false } = {}) {
    const seq = ++traceSeq;
    let trace;
    try {
      trace = await getJson(`/api/traces/${encodeURIComponent(traceId)}`);
    } catch (err) {
      if (seq !== traceSeq) return;
      $('detail-title').textContent = 'Trace not found';
      $('detail-body').replaceChildren(el('p', { class: 'muted', text: `${traceId}: ${err.message} (it may have been evicted).` }));
      return;
    }
    if (seq !== traceSeq) return;
    const changedTrace = state.selectedTrace !== traceId;
    state.selectedTrace = traceId;
    state.trace = trace;
    if (changedTrace && !keepSpan) state.selectedSpan = defaultSpan(trace);
    if (!trace.spans.some((s) => s.spanId === state.selectedSpan)) state.selectedSpan = defaultSpan(trace);
    for (const b of document.querySelectorAll('#trace-list button[aria-current]')) b.removeAttribute('aria-current');
    const row = document.querySelector(`#trace-list button[data-trace-id="${CSS.escape(traceId)}"]`);
    if (row) row.setAttribute('aria-current', 'true');
    renderTrace();
    writeHash();
    if (focus) $('detail-title').focus();
  }

  /** Opens on the first model call when there is one (what an LLM developer looks for), else the root. */
  function defaultSpan(trace) {
    const byId = new Map(trace.spans.map((s) => [s.spanId, s]));
    const calls = callSpanIds(trace.spans, byId);
    const firstCall = trace.spans.find((s) => calls.has(s.spanId));
    return (firstCall || trace.spans[0] || {}).spanId || null;
  }

  function treeRows(spans) {
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const children = new Map();
    const roots = [];
    for (const s of spans) {
      if (s.parentSpanId && byId.has(s.parentSpanId) && s.parentSpanId !== s.spanId) {
        if (!children.has(s.parentSpanId)) children.set(s.parentSpanId, []);
        children.get(s.parentSpanId).push(s);
      } else roots.push(s);
    }
    const rows = [];
    const seen = new Set();
    const visit = (s, depth) => {
      if (seen.has(s.spanId)) return;
      seen.add(s.spanId);
      rows.push({ span: s, depth });
      for (const c of children.get(s.spanId) || []) visit(c, depth + 1);
    };
    for (const r of roots) visit(r, 0);
    for (const s of spans) if (!seen.has(s.spanId)) visit(s, 0); // cycles: show them flat
    return { rows, byId, children };
  }

  /** Spans kept by "LLM path only": LLM, tool and agent spans, errors, and the spans above them. */
  function llmPath(spans, byId) {
    const keep = new Set();
    for (const s of spans) {
      const op = s.attributes['gen_ai.operation.name'];
      if (!(isLLMSpan(s) || op !== undefined || s.status.code === 'error')) continue;
      let cur = s;
      const seen = new Set();
      while (cur && !seen.has(cur.spanId)) {
        seen.add(cur.spanId);
        keep.add(cur.spanId);
        cur = cur.parentSpanId ? byId.get(cur.parentSpanId) : undefined;
      }
    }
    return keep;
  }

  function renderTrace() {
    const trace = state.trace;
    if (!trace) return;
    const { rows, byId } = treeRows(trace.spans);
    const calls = callSpanIds(trace.spans, byId);
    let t0 = Infinity;
    let t1 = -Infinity;
    for (const s of trace.spans) {
      t0 = Math.min(t0, s.startTime);
      t1 = Math.max(t1, s.endTime);
    }
    const total = Math.max(t1 - t0, 0.001);
    const services = [];
    for (const s of trace.spans) if (!services.includes(s.service)) services.push(s.service);
    const root = rows[0] ? rows[0].span : undefined;
    const errors = trace.spans.filter((s) => s.status.code === 'error').length;

    $('detail-title').textContent = root ? root.name : trace.traceId;
    const keep = state.llmOnly ? llmPath(trace.spans, byId) : null;
    const shown = keep ? rows.filter((r) => keep.has(r.span.spanId)) : rows;

    const header = el('div', { class: 'trace-head' },
      el('p', { class: 'trace-meta' },
        el('span', null, 'trace ', el('code', { text: trace.traceId })),
        el('span', { text: fmtMs(total) }),
        el('span', { text: `${trace.spans.length} spans` }),
        errors > 0 ? el('span', { class: 'badge error', text: `${errors} ${errors === 1 ? 'error' : 'errors'}` }) : null,
        calls.size > 0 ? el('span', { class: 'badge llm', text: `${calls.size} LLM ${calls.size === 1 ? 'call' : 'calls'}` }) : null),
      el('ul', { class: 'legend', 'aria-label': `${services.length} services` },
        services.map((s) => el('li', null, el('span', { class: 'swatch', style: { background: colorOf(s) }, 'aria-hidden': 'true' }), s))),
      el('label', { class: 'check' },
        el('input', { type: 'checkbox', id: 'llm-only', checked: state.llmOnly ? true : undefined, onchange: (e) => { state.llmOnly = e.target.checked; renderTrace(); } }),
        ' LLM path only (hide other spans)'),
    );

    const ticks = el('div', { class: 'axis-row', 'aria-hidden': 'true' },
      el('span', { class: 'axis-label', text: 'span' }),
      el('div', { class: 'axis' },
        [0, 0.25, 0.5, 0.75, 1].map((f) => el('span', { class: 'tick', style: { left: `${f * 100}%` }, text: fmtMs(total * f) }))),
      el('span', { class: 'axis-label', text: 'duration · status · LLM' }));

    const list = el('ol', { class: 'waterfall', 'aria-label': `Waterfall: ${shown.length} spans${keep ? ' on the LLM path' : ''}, in call order` },
      shown.map((r) => spanRow(r, t0, total, calls)));

    const panel = el('div', { id: 'span-panel', class: 'span-panel' });
    $('detail-body').replaceChildren(header, el('div', { class: 'waterfall-wrap' }, ticks, list), panel);
    renderSpanPanel();
  }

  function spanRow({ span: s, depth }, t0, total, calls) {
    const left = ((s.startTime - t0) / total) * 100;
    const width = Math.max(((s.endTime - s.startTime) / total) * 100, 0.3);
    const color = colorOf(s.service);
    const dur = s.endTime - s.startTime;
    const llm = isLLMSpan(s) ? llmOf(s) : null;
    const isCall = calls.has(s.spanId);
    const aborted = isAborted(s);
    const badges = [];
    if (aborted) badges.push(el('span', { class: 'badge aborted', text: 'aborted' }));
    else if (s.status.code === 'error') badges.push(el('span', { class: 'badge error', text: String(s.attributes['error.type'] || 'error') }));
    if (!s.ended) badges.push(el('span', { class: 'badge warn', text: 'open' }));
    const code = s.attributes['http.response.status_code'];
    if (code !== undefined) badges.push(el('span', { class: `badge http${Number(code) >= 500 ? ' error' : Number(code) >= 400 ? ' warn' : ''}`, text: String(code) }));
    if (llm && isCall) {
      if (llm.ttftMs !== undefined) badges.push(el('span', { class: 'badge ttft', text: `TTFT ${fmtMs(llm.ttftMs)}` }));
      if (llm.input !== undefined || llm.output !== undefined) badges.push(el('span', { class: 'badge tokens', text: `${fmtTokens(llm.input)} → ${fmtTokens(llm.output)} tok` }));
      if (llm.cost !== undefined) badges.push(el('span', { class: 'badge cost', text: fmtCost(llm.cost) }));
    } else if (llm) {
      badges.push(el('span', { class: 'badge relay', text: 'LLM stream', title: 'this span relays or serves an LLM stream counted on the call span' }));
    }
    const op = s.attributes['gen_ai.operation.name'];
    if (op === 'execute_tool') badges.push(el('span', { class: 'badge tool', text: 'tool' }));

    const ttftMarker = llm && llm.ttftMs !== undefined
      ? el('span', { class: 'ttft-marker', style: { left: `${Math.min(100, ((s.startTime - t0 + llm.ttftMs) / total) * 100)}%` }, title: `first token ${fmtMs(llm.ttftMs)} after this span started`, 'aria-hidden': 'true' })
      : null;

    const label = [
      s.name,
      `${s.kind} span of ${s.service}`,
      fmtMs(dur),
      `starts at ${fmtMs(s.startTime - t0)}`,
      aborted ? 'aborted by the client' : s.status.code === 'error' ? `error${s.status.message ? ': ' + s.status.message : ''}` : '',
      !s.ended ? 'still open when exported' : '',
      llm && isCall && llm.ttftMs !== undefined ? `first token after ${fmtMs(llm.ttftMs)}` : '',
      llm && isCall && llm.input !== undefined ? `${llm.input} input tokens` : '',
      llm && isCall && llm.output !== undefined ? `${llm.output} output tokens` : '',
      llm && isCall && llm.cost !== undefined ? `cost ${fmtCost(llm.cost)}` : '',
    ].filter(Boolean).join(', ');

    const button = el('button', {
      type: 'button',
      class: `span-row kind-${s.kind}${s.status.code === 'error' ? ' has-error' : ''}${isCall ? ' is-llm' : ''}`,
      dataset: { spanId: s.spanId, service: s.service },
      'aria-current': s.spanId === state.selectedSpan ? 'true' : undefined,
      'aria-label': label,
      style: { '--svc': color },
      onclick: () => selectSpan(s.spanId),
    },
    el('span', { class: 'span-label', style: { paddingLeft: `${Math.min(depth, 16) * 14 + 6}px` } },
      el('span', { class: 'swatch', style: { background: color }, 'aria-hidden': 'true' }),
      el('span', { class: 'span-name', text: s.name }),
      el('span', { class: 'kind', text: s.kind }),
      el('span', { class: 'svc-name', text: s.service })),
    el('span', { class: 'span-track' },
      el('span', { class: `bar${s.status.code === 'error' ? ' bar-error' : ''}${!s.ended ? ' bar-open' : ''}`, style: { left: `${left}%`, width: `${width}%`, background: color } }),
      ttftMarker),
    el('span', { class: 'span-info' },
      el('span', { class: 'bar-dur', text: fmtMs(dur) }),
      badges));
    return el('li', null, button);
  }

  function selectSpan(spanId, { focusPanel = false } = {}) {
    state.selectedSpan = spanId;
    for (const b of document.querySelectorAll('.waterfall button[aria-current]')) b.removeAttribute('aria-current');
    const row = document.querySelector(`.waterfall button[data-span-id="${CSS.escape(spanId)}"]`);
    if (row) row.setAttribute('aria-current', 'true');
    renderSpanPanel();
    writeHash();
    if (focusPanel) $('span-title').focus();
  }

  function kvTable(caption, entries) {
    if (entries.length === 0) return el('p', { class: 'muted', text: `No ${caption.toLowerCase()}.` });
    return el('table', { class: 'kv' },
      el('caption', { text: caption }),
      el('tbody', null, entries.map(([k, v]) => el('tr', null, el('th', { scope: 'row', text: k }), el('td', null, el('span', { class: 'val', text: fmtValue(v) }))))));
  }

  function renderSpanPanel() {
    const panel = $('span-panel');
    const trace = state.trace;
    if (!panel || !trace) return;
    const s = trace.spans.find((x) => x.spanId === state.selectedSpan);
    if (!s) {
      panel.replaceChildren();
      return;
    }
    let t0 = Infinity;
    for (const x of trace.spans) t0 = Math.min(t0, x.startTime);
    const parts = [el('h3', { id: 'span-title', tabindex: '-1', text: s.name })];
    const status = isAborted(s) ? 'aborted by the client' : s.status.code + (s.status.message ? ` — ${s.status.message}` : '');
    parts.push(el('dl', { class: 'span-facts' },
      ...[
        ['Service', s.service],
        ['Kind', s.kind],
        ['Status', status],
        ['Duration', fmtMs(s.endTime - s.startTime) + (s.ended ? '' : ' (still open when exported)')],
        ['Starts at', `+${fmtMs(s.startTime - t0)} (${new Date(s.startTime).toISOString()})`],
        ['Span id', s.spanId],
        ['Parent', s.parentSpanId ? s.parentSpanId + (s.parentIsRemote ? ' (remote)' : '') : '(root)'],
      ].flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })])));

    if (isLLMSpan(s)) parts.push(llmPanel(s));

    const attrs = Object.entries(s.attributes).filter(([k]) => k !== 'gen_ai.input.messages' && k !== 'gen_ai.output.messages' && k !== 'gen_ai.system_instructions');
    attrs.sort(([a], [b]) => a.localeCompare(b));
    parts.push(el('section', { class: 'sub', 'aria-label': 'Attributes' }, kvTable('Attributes', attrs)));

    const events = el('section', { class: 'sub', 'aria-label': 'Events' }, el('h4', { text: `Events (${s.events.length})` }));
    if (s.events.length === 0) events.append(el('p', { class: 'muted', text: 'No events.' }));
    else {
      events.append(el('ol', { class: 'events' }, s.events.map((e) => el('li', null,
        el('p', null, el('strong', { text: e.name }), ` at +${fmtMs(e.time - s.startTime)} into the span`),
        Object.keys(e.attributes).length > 0 ? kvTable(`${e.name} attributes`, Object.entries(e.attributes)) : null))));
    }
    parts.push(events);

    const links = el('section', { class: 'sub', 'aria-label': 'Links' }, el('h4', { text: `Links (${s.links.length})` }));
    if (s.links.length === 0) links.append(el('p', { class: 'muted', text: 'No links.' }));
    else {
      links.append(el('ul', { class: 'links' }, s.links.map((l) => el('li', null,
        el('button', { type: 'button', class: 'linkish', onclick: () => openTrace(l.traceId, { focus: true }), 'aria-label': `Open linked trace ${l.traceId}` }, `trace ${l.traceId}`),
        ` span ${l.spanId}`,
        Object.keys(l.attributes).length > 0 ? kvTable('Link attributes', Object.entries(l.attributes)) : null))));
    }
    parts.push(links);
    const dropped = s.dropped || {};
    if (dropped.attributes || dropped.events || dropped.links) {
      parts.push(el('p', { class: 'muted', text: `Dropped over the limits: ${dropped.attributes || 0} attributes, ${dropped.events || 0} events, ${dropped.links || 0} links.` }));
    }
    panel.replaceChildren(...parts);
  }

  function llmPanel(s) {
    const l = llmOf(s);
    const model = l.responseModel && l.requestModel && l.responseModel !== l.requestModel ? `${l.requestModel} → ${l.responseModel}` : l.responseModel || l.requestModel || '–';
    const finish = Array.isArray(l.finish) ? l.finish.join(', ') : l.finish;
    const rows = [
      ['Provider', l.provider],
      ['Model', model],
      ['Operation', l.operation],
      ['Time to first token', l.ttftMs !== undefined ? fmtMs(l.ttftMs) : undefined],
      ['Chunks', l.chunks],
      ['Input tokens', l.input],
      ['Output tokens', l.output],
      ['Cached input tokens', l.cached],
      ['Cache-write input tokens', l.cacheWrite],
      ['Reasoning tokens', l.reasoning],
      ['Cost', l.cost !== undefined ? fmtCost(l.cost) : undefined],
      ['Finish reasons', finish],
      ['Response id', l.responseId],
      ['Truncated', l.truncated ? 'yes: the stream ended before the provider’s final event' : undefined],
    ].filter(([, v]) => v !== undefined && v !== null && v !== '');
    const box = el('section', { class: 'llm-panel', 'aria-labelledby': 'llm-title' },
      el('h4', { id: 'llm-title', text: 'LLM call' }),
      el('dl', { class: 'llm-facts' }, rows.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: typeof v === 'number' ? fmtInt(v) : String(v) })])));
    const convo = conversation(l);
    if (convo) box.append(convo);
    else box.append(el('p', { class: 'muted', text: 'Messages were not captured (createTracer({ captureContent: true }) records prompts and answers).' }));
    return box;
  }

  function parseMessages(v) {
    if (typeof v !== 'string') return undefined;
    try {
      const m = JSON.parse(v);
      return Array.isArray(m) ? m : undefined;
    } catch {
      return null; // cut at the byte cap mid-way: show the text as it is
    }
  }

  function conversation(l) {
    const input = parseMessages(l.input_messages);
    const output = parseMessages(l.output_messages);
    const system = l.system;
    if (input === undefined && output === undefined && system === undefined) return null;
    const items = [];
    if (typeof system === 'string') {
      let text = system;
      try {
        const parsed = JSON.parse(system);
        if (Array.isArray(parsed)) text = parsed.map((p) => p.content || '').join('\n');
      } catch {
        // plain text
      }
      items.push(message('system', [{ type: 'text', content: text }]));
    }
    const add = (list, raw, fallbackRole) => {
      if (list === null) items.push(message(fallbackRole, [{ type: 'text', content: String(raw) }], 'cut at the capture limit'));
      else if (list) for (const m of list) items.push(message(m.role || fallbackRole, Array.isArray(m.parts) ? m.parts : [], m.finish_reason ? `finish: ${m.finish_reason}` : ''));
    };
    add(input, l.input_messages, 'user');
    add(output, l.output_messages, 'assistant');
    return el('section', { class: 'conversation', 'aria-label': 'Conversation' }, el('h4', { text: 'Conversation' }), el('ol', { class: 'messages' }, items));
  }

  function message(role, parts, note) {
    const body = parts.map((p) => {
      if (p.type === 'text' || p.type === 'reasoning' || p.type === 'refusal') {
        return el('p', { class: `part part-${p.type}` }, p.type !== 'text' ? el('em', { text: `${p.type}: ` }) : null, String(p.content ?? ''));
      }
      if (p.type === 'tool_call') {
        return el('div', { class: 'part part-tool' }, el('strong', { text: `calls ${p.name || 'a tool'}` }), p.id ? el('span', { class: 'muted', text: ` (${p.id})` }) : null,
          el('pre', { text: typeof p.arguments === 'string' ? p.arguments : JSON.stringify(p.arguments, null, 2) }));
      }
      if (p.type === 'tool_call_response') {
        return el('div', { class: 'part part-tool' }, el('strong', { text: 'tool result' }), p.id ? el('span', { class: 'muted', text: ` (${p.id})` }) : null,
          el('pre', { text: typeof p.response === 'string' ? p.response : JSON.stringify(p.response, null, 2) }));
      }
      return el('pre', { class: 'part', text: JSON.stringify(p) });
    });
    return el('li', { class: `msg role-${String(role).replace(/[^a-z_]/gi, '')}` },
      el('p', { class: 'role' }, String(role), note ? el('span', { class: 'muted', text: ` · ${note}` }) : null), body);
  }

  // ---------- location hash: #trace=<id>&span=<id> ----------
  function writeHash() {
    const p = new URLSearchParams();
    if (state.selectedTrace) p.set('trace', state.selectedTrace);
    if (state.selectedSpan) p.set('span', state.selectedSpan);
    const hash = `#${p.toString()}`;
    if (location.hash !== hash) history.replaceState(null, '', hash);
  }

  function readHash() {
    const p = new URLSearchParams(location.hash.slice(1));
    const trace = p.get('trace');
    if (trace && /^[0-9a-f]{32}$/.test(trace)) {
      state.selectedSpan = p.get('span');
      openTrace(trace, { keepSpan: true });
    }
  }

  // ---------- live updates ----------
  let refreshTimer = null;
  function scheduleRefresh(changedIds) {
    if (state.paused) {
      state.missed = true;
      $('live').textContent = 'paused (new traces waiting)';
      return;
    }
    if (refreshTimer) clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      refreshList({ live: true });
      refreshFacets();
    }, 250);
    if (state.selectedTrace && changedIds && changedIds.includes(state.selectedTrace)) openTrace(state.selectedTrace, { keepSpan: true });
  }

  function showStats(stats) {
    if (!stats) return;
    const evicted = stats.evictedTraces > 0 ? ` · ${fmtInt(stats.evictedTraces)} evicted` : '';
    const dropped = stats.droppedSpans > 0 ? ` · ${fmtInt(stats.droppedSpans)} spans dropped` : '';
    $('store-stats').textContent = `${fmtInt(stats.traces)} traces, ${fmtInt(stats.spans)} spans held${evicted}${dropped}`;
  }

  function connect() {
    if (typeof EventSource === 'undefined') {
      $('live').textContent = 'no live updates in this browser';
      return;
    }
    const es = new EventSource('/api/events');
    es.addEventListener('hello', (e) => {
      $('live').textContent = state.paused ? 'paused' : 'live';
      $('live').classList.add('on');
      try {
        showStats(JSON.parse(e.data).stats);
      } catch {
        // ignore a malformed event
      }
      scheduleRefresh();
    });
    es.addEventListener('traces', (e) => {
      let data = {};
      try {
        data = JSON.parse(e.data);
      } catch {
        return;
      }
      showStats(data.stats);
      scheduleRefresh(data.traceIds);
    });
    es.onerror = () => {
      $('live').textContent = 'reconnecting…';
      $('live').classList.remove('on');
    };
  }

  // ---------- keyboard ----------
  function moveFocus(container, selector, current, delta) {
    const items = [...container.querySelectorAll(selector)];
    const i = items.indexOf(current);
    if (i === -1) return false;
    const next = items[Math.max(0, Math.min(items.length - 1, i + delta))];
    if (next) next.focus();
    return true;
  }

  document.addEventListener('keydown', (e) => {
    const t = e.target;
    const inField = t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement;
    if (e.key === '/' && !inField) {
      e.preventDefault();
      $('f-q').focus();
      return;
    }
    if (!(t instanceof HTMLElement)) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp' || e.key === 'Home' || e.key === 'End') {
      const delta = e.key === 'ArrowDown' ? 1 : e.key === 'ArrowUp' ? -1 : e.key === 'Home' ? -1e9 : 1e9;
      if (t.matches('.trace-row') && moveFocus($('trace-list'), '.trace-row', t, delta)) e.preventDefault();
      else if (t.matches('.span-row') && moveFocus($('detail'), '.span-row', t, delta)) e.preventDefault();
    } else if (e.key === 'Enter' && t.matches('.span-row')) {
      // Enter on a span opens its details and moves there; a click only selects.
      e.preventDefault();
      selectSpan(t.dataset.spanId, { focusPanel: true });
    } else if (e.key === 'Escape') {
      if (t.closest('#span-panel')) {
        const row = document.querySelector('.waterfall button[aria-current]');
        if (row) row.focus();
      } else if (t.closest('#detail')) {
        const row = document.querySelector('#trace-list button[aria-current]') || document.querySelector('#trace-list button');
        if (row) row.focus();
      }
    }
  });

  // ---------- filters ----------
  let filterTimer = null;
  const onFilter = () => {
    // An answer still on its way is for the filters as they were: it is not shown.
    listSeq++;
    if (filterTimer) clearTimeout(filterTimer);
    filterTimer = setTimeout(refreshList, 200);
  };
  const form = $('filters');
  form.addEventListener('input', onFilter);
  form.addEventListener('change', onFilter);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    refreshList();
  });
  form.addEventListener('reset', () => setTimeout(refreshList, 0));

  $('pause').addEventListener('click', () => {
    state.paused = !state.paused;
    $('pause').setAttribute('aria-pressed', String(state.paused));
    $('pause').textContent = state.paused ? 'Resume live updates' : 'Pause live updates';
    $('live').textContent = state.paused ? 'paused' : 'live';
    if (!state.paused && state.missed) {
      state.missed = false;
      scheduleRefresh(state.selectedTrace ? [state.selectedTrace] : []);
    }
  });

  // Relative times ("12 s ago") stay true without a refetch.
  setInterval(() => {
    for (const b of document.querySelectorAll('#trace-list .when')) {
      const t = state.traces.find((x) => x.traceId === b.closest('button').dataset.traceId);
      if (t) b.textContent = `${t.spanCount} spans · ${fmtAgo(t.startTime)}`;
    }
  }, 10000);

  // Metrics arrive once per export interval: a look every 5 s is enough.
  setInterval(() => {
    if (!state.paused && document.visibilityState === 'visible') refreshMetrics();
  }, 5000);

  $('otlp-url').textContent = `${location.origin}/v1/traces`;
  refreshMetrics();
  refreshFacets();
  refreshList();
  readHash();
  connect();
})();
