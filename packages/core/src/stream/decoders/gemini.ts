/**
 * Google Gemini `generateContent` responses, streamed (`streamGenerateContent?alt=sse`: every SSE
 * event is a whole `GenerateContentResponse`) or not. Each response holds `candidates[]` (by
 * `index`) whose `content.parts[]` are text, `functionCall` (complete in one part) or thoughts
 * (`thought: true`, kept out of the output text), a `finishReason` (`STOP`, `MAX_TOKENS`...) on the
 * last one, `responseId`, `modelVersion`, and `usageMetadata`, cumulative, on every chunk.
 * https://ai.google.dev/api/generate-content
 *
 * Usage in the GenAI convention's terms: `promptTokenCount` already includes the cached
 * `cachedContentTokenCount`; the input also counts `toolUsePromptTokenCount` (tool results fed back
 * as input, billed as input). `candidatesTokenCount` leaves the thoughts out, while the convention's
 * output count includes reasoning: output = candidates + `thoughtsTokenCount`, reasoning = thoughts.
 */
import type { LLMUsage } from '../../llm/types';
import { StreamDecoder, count, str, toError } from './common';
import type { ChoiceBuilder } from './common';

/** `usageMetadata` of a Gemini response in Tracewire's terms (see the file comment). */
export function geminiUsage(u: any): LLMUsage {
  const out: LLMUsage = {};
  const prompt = count(u.promptTokenCount);
  const toolUse = count(u.toolUsePromptTokenCount);
  if (prompt !== undefined || toolUse !== undefined) out.input = (prompt ?? 0) + (toolUse ?? 0);
  const candidates = count(u.candidatesTokenCount);
  const thoughts = count(u.thoughtsTokenCount);
  if (candidates !== undefined || thoughts !== undefined) out.output = (candidates ?? 0) + (thoughts ?? 0);
  const cached = count(u.cachedContentTokenCount);
  if (cached !== undefined) out.cached = cached;
  if (thoughts !== undefined) out.reasoning = thoughts;
  return out;
}

export class GeminiDecoder extends StreamDecoder {
  readonly provider = 'gcp.gemini' as const;
  readonly api = 'generate_content' as const;
  protected override readonly operation = 'generate_content';

  event(json: any): boolean {
    const err = json.error;
    if (err !== null && typeof err === 'object') {
      // `{ error: { code: 429, message, status: 'RESOURCE_EXHAUSTED' } }`: the status names the kind.
      this.error = toError({ type: err.status, code: err.code, message: err.message }, 'error');
      this.complete = true;
      return false;
    }
    const id = str(json.responseId);
    if (id !== undefined && this.id === null) this.id = id;
    const model = str(json.modelVersion);
    if (model !== undefined && this.model === null) this.model = model;
    const u = json.usageMetadata;
    if (u !== null && typeof u === 'object') this.usage = geminiUsage(u);
    const candidates = json.candidates;
    if (!Array.isArray(candidates)) return false;
    let content = false;
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[i];
      if (c === null || typeof c !== 'object') continue;
      const choice = this.choice(typeof c.index === 'number' ? c.index : i);
      if (choice === undefined) continue;
      const parts = c.content?.parts;
      if (Array.isArray(parts) && this.parts(choice, parts)) content = true;
      const finish = str(c.finishReason);
      if (finish !== undefined) choice.finishReason = finish;
    }
    return content;
  }

  private parts(choice: ChoiceBuilder, parts: unknown[]): boolean {
    let content = false;
    for (const p of parts) {
      if (p === null || typeof p !== 'object') continue;
      const part = p as any;
      // Thought summaries are reasoning, not output text.
      if (part.thought === true) continue;
      if (typeof part.text === 'string' && part.text !== '') {
        choice.addText(this.budget, part.text);
        content = true;
      }
      const call = part.functionCall;
      if (call !== null && typeof call === 'object') {
        // A call comes whole, in one part: one tool per part, in order.
        const tool = choice.tool(choice.tools.size);
        if (tool === undefined) continue;
        content = true;
        tool.id = str(call.id) ?? '';
        tool.name = str(call.name) ?? '';
        tool.whole = this.budget.take(JSON.stringify(call.args ?? {}));
      }
    }
    return content;
  }

  protected override isComplete(): boolean {
    if (this.complete) return true;
    // The last chunk carries the finish reason of every candidate.
    if (this.choices.size === 0) return false;
    for (const c of this.choices.values()) if (c.finishReason === null) return false;
    return true;
  }
}
