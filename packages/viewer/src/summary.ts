/**
 * From a trace's spans to what the list, the filters and the totals need: its root, services,
 * duration, error flag, and its LLM calls, each counted once.
 *
 * One model call leaves GenAI attributes on several spans: the CLIENT span that made the call, the
 * provider's SERVER span when it is traced too, and every service that relays the token stream
 * (their server spans and the client spans calling them decode the same stream). Counting all of
 * them would multiply tokens and cost. So a call is the deepest non-server LLM span of its chain
 * (the span closest to the model on the caller's side); a server LLM span counts only when no
 * LLM span of another kind sits above it and no LLM span below it (a provider traced alone).
 */
import type { AttributeValue, Attributes } from '@tracewire/core';
import type { ModelTotals, Percentiles, TraceQuery, TraceSummary, TraceTotals, ViewerSpan } from './types';

/** One LLM call of a trace. */
export interface LLMCall {
  spanId: string;
  service: string;
  provider: string | null;
  model: string | null;
  startTime: number;
  inputTokens?: number;
  outputTokens?: number;
  cachedInputTokens?: number;
  reasoningTokens?: number;
  cost?: number;
  ttftMs?: number;
}

/** Everything derived from one trace, recomputed when a span arrives. */
export interface TraceAnalysis {
  summary: TraceSummary;
  calls: LLMCall[];
  routes: Set<string>;
  /** Lowercased text that `q` searches. */
  text: string;
}

const num = (v: AttributeValue | undefined): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: AttributeValue | undefined): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const first = (a: Attributes, ...keys: string[]): AttributeValue | undefined => {
  for (const k of keys) if (a[k] !== undefined) return a[k];
  return undefined;
};

// Operations of the GenAI conventions that are not a model call (their spans carry gen_ai.* too).
const NOT_A_CALL = new Set(['execute_tool', 'invoke_agent', 'create_agent', 'invoke_workflow']);

/** A span that carries a model call's attributes: a provider (current or older name) and a model-call operation. */
export function isLLMSpan(s: ViewerSpan): boolean {
  const a = s.attributes;
  const op = a['gen_ai.operation.name'];
  if (typeof op === 'string' && NOT_A_CALL.has(op)) return false;
  return a['gen_ai.provider.name'] !== undefined || a['gen_ai.system'] !== undefined;
}

/** The call figures of one LLM span, from current and older GenAI attribute names. */
export function llmCallOf(s: ViewerSpan): LLMCall {
  const a = s.attributes;
  const call: LLMCall = {
    spanId: s.spanId,
    service: s.service,
    provider: str(first(a, 'gen_ai.provider.name', 'gen_ai.system')) ?? null,
    model: str(first(a, 'gen_ai.response.model', 'gen_ai.request.model')) ?? null,
    startTime: s.startTime,
  };
  const input = num(first(a, 'gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens'));
  const output = num(first(a, 'gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens'));
  const cached = num(first(a, 'gen_ai.usage.cache_read.input_tokens', 'gen_ai.usage.cached_tokens'));
  const reasoning = num(a['gen_ai.usage.reasoning.output_tokens']);
  const cost = num(a['tracewire.usage.cost']);
  const ttft = num(a['gen_ai.response.time_to_first_chunk']);
  if (input !== undefined) call.inputTokens = input;
  if (output !== undefined) call.outputTokens = output;
  if (cached !== undefined) call.cachedInputTokens = cached;
  if (reasoning !== undefined) call.reasoningTokens = reasoning;
  if (cost !== undefined) call.cost = cost;
  if (ttft !== undefined) call.ttftMs = ttft * 1000;
  return call;
}

/** The root: the earliest span whose parent is not in the trace (spans given in start order). */
export function rootOf(spans: ViewerSpan[], ids: Set<string>): ViewerSpan | undefined {
  for (const s of spans) if (s.parentSpanId === undefined || !ids.has(s.parentSpanId)) return s;
  return spans[0];
}

function sumOf(calls: LLMCall[], key: 'inputTokens' | 'outputTokens' | 'cost'): number | null {
  let total: number | null = null;
  for (const c of calls) {
    const v = c[key];
    if (v !== undefined) total = (total ?? 0) + v;
  }
  return total;
}

/** Analyses one trace; `spans` must be in start order and non-empty. */
export function analyzeTrace(traceId: string, spans: ViewerSpan[]): TraceAnalysis {
  const byId = new Map<string, ViewerSpan>();
  for (const s of spans) byId.set(s.spanId, s);
  const ids = new Set(byId.keys());
  const root = rootOf(spans, ids);

  let start = Infinity;
  let end = -Infinity;
  let error = false;
  const services: string[] = [];
  const routes = new Set<string>();
  const text: string[] = [traceId];
  for (const s of spans) {
    if (s.startTime < start) start = s.startTime;
    if (s.endTime > end) end = s.endTime;
    if (s.status.code === 'error') error = true;
    if (!services.includes(s.service)) services.push(s.service);
    const route = str(s.attributes['http.route']);
    if (route !== undefined) routes.add(route);
    text.push(s.name, s.service);
    for (const key of ['http.route', 'url.path', 'gen_ai.request.model', 'gen_ai.response.model', 'error.type']) {
      const v = str(s.attributes[key]);
      if (v !== undefined) text.push(v);
    }
  }

  // LLM calls: see the file comment. Parent links may point outside the trace (remote callers).
  const llm = spans.filter(isLLMSpan);
  const calls: LLMCall[] = [];
  if (llm.length > 0) {
    const isLLM = new Set(llm.map((s) => s.spanId));
    const below = new Map<string, { any: boolean; nonServer: boolean }>();
    for (const s of llm) {
      // Walk up from each LLM span, marking its ancestors as having an LLM span below.
      let p = s.parentSpanId;
      const seen = new Set<string>();
      while (p !== undefined && byId.has(p) && !seen.has(p)) {
        seen.add(p);
        const mark = below.get(p) ?? { any: false, nonServer: false };
        mark.any = true;
        if (s.kind !== 'server') mark.nonServer = true;
        below.set(p, mark);
        p = byId.get(p)!.parentSpanId;
      }
    }
    const nonServerAbove = (s: ViewerSpan): boolean => {
      let p = s.parentSpanId;
      const seen = new Set<string>();
      while (p !== undefined && byId.has(p) && !seen.has(p)) {
        seen.add(p);
        const parent = byId.get(p)!;
        if (isLLM.has(p) && parent.kind !== 'server') return true;
        p = parent.parentSpanId;
      }
      return false;
    };
    for (const s of llm) {
      const mark = below.get(s.spanId);
      const counts = s.kind !== 'server' ? !mark?.nonServer : !mark?.any && !nonServerAbove(s);
      if (counts) calls.push(llmCallOf(s));
    }
  }

  const startTime = start === Infinity ? 0 : start;
  let ttftMs: number | null = null;
  const rootTtft = root !== undefined && isLLMSpan(root) ? num(root.attributes['gen_ai.response.time_to_first_chunk']) : undefined;
  if (rootTtft !== undefined) ttftMs = rootTtft * 1000 + (root!.startTime - startTime);
  else {
    // Not relayed to the root: when the first call's first token arrived, from the trace's start.
    for (const c of calls) {
      if (c.ttftMs === undefined) continue;
      const at = c.startTime - startTime + c.ttftMs;
      if (ttftMs === null || at < ttftMs) ttftMs = at;
    }
  }
  for (const c of calls) if (c.model) text.push(c.model);

  return {
    summary: {
      traceId,
      rootName: root?.name ?? '',
      services,
      startTime,
      durationMs: end === -Infinity ? 0 : Math.max(0, end - startTime),
      spanCount: spans.length,
      error,
      llm: {
        calls: calls.length,
        inputTokens: sumOf(calls, 'inputTokens'),
        outputTokens: sumOf(calls, 'outputTokens'),
        cost: sumOf(calls, 'cost'),
        ttftMs,
      },
    },
    calls,
    routes,
    text: text.join('\n').toLowerCase(),
  };
}

/** Whether a trace passes a query's filters (not `limit`). */
export function matches(a: TraceAnalysis, q: TraceQuery, spans: ViewerSpan[]): boolean {
  const s = a.summary;
  if (q.service !== undefined && !s.services.includes(q.service)) return false;
  if (q.route !== undefined && !a.routes.has(q.route)) return false;
  if (q.status === 'error' && !s.error) return false;
  if (q.status === 'ok' && s.error) return false;
  if (q.minMs !== undefined && s.durationMs < q.minMs) return false;
  if (q.llm === true && s.llm.calls === 0) return false;
  if (q.llm === false && s.llm.calls > 0) return false;
  if (q.q !== undefined && q.q !== '') {
    const needle = q.q.toLowerCase();
    if (!a.text.includes(needle) && !spans.some((sp) => attributeTextIncludes(sp, needle))) return false;
  }
  return true;
}

// Search also looks into string attribute values, bounded per value so a huge prompt costs little.
const SEARCH_VALUE_CHARS = 2048;
function attributeTextIncludes(s: ViewerSpan, needle: string): boolean {
  for (const v of Object.values(s.attributes)) {
    if (typeof v === 'string' && v.slice(0, SEARCH_VALUE_CHARS).toLowerCase().includes(needle)) return true;
  }
  return false;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((x, y) => x - y);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95) };
}

/** Totals over analysed traces: requests, errors, p50/p95 duration and TTFT, tokens and cost by model. */
export function totalsOf(traces: TraceAnalysis[]): TraceTotals {
  const durations: number[] = [];
  const ttfts: number[] = [];
  const models = new Map<string, ModelTotals>();
  let errors = 0;
  let llmCalls = 0;
  let inputTokens = 0;
  let outputTokens = 0;
  let cost = 0;
  for (const t of traces) {
    durations.push(t.summary.durationMs);
    if (t.summary.error) errors++;
    if (t.summary.llm.ttftMs !== null) ttfts.push(t.summary.llm.ttftMs);
    for (const c of t.calls) {
      llmCalls++;
      const key = c.model ?? '(unknown model)';
      let m = models.get(key);
      if (m === undefined) {
        m = { model: key, provider: c.provider, calls: 0, inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0, cost: 0 };
        models.set(key, m);
      }
      m.calls++;
      m.inputTokens += c.inputTokens ?? 0;
      m.outputTokens += c.outputTokens ?? 0;
      m.cachedInputTokens += c.cachedInputTokens ?? 0;
      m.reasoningTokens += c.reasoningTokens ?? 0;
      m.cost += c.cost ?? 0;
      inputTokens += c.inputTokens ?? 0;
      outputTokens += c.outputTokens ?? 0;
      cost += c.cost ?? 0;
    }
  }
  return {
    requests: traces.length,
    errors,
    durationMs: percentiles(durations),
    ttftMs: percentiles(ttfts),
    llmCalls,
    inputTokens,
    outputTokens,
    cost,
    models: [...models.values()].sort((a, b) => b.cost - a.cost || b.calls - a.calls || a.model.localeCompare(b.model)),
  };
}
