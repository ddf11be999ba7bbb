/**
 * Ollama's native API, streamed as NDJSON (`application/x-ndjson`) or not: `/api/chat` lines carry
 * `message: { role, content, thinking?, tool_calls? }`, `/api/generate` lines carry `response`;
 * both end with a line `done: true` holding `done_reason`, `prompt_eval_count` (input tokens) and
 * `eval_count` (output tokens). Tool calls come whole, with `arguments` as an object; `thinking` is
 * reasoning, kept out of the output. Ollama sends no response id. An error is `{"error": "..."}`.
 * https://github.com/ollama/ollama/blob/main/docs/api.md
 */
import type { LLMUsage } from '../../llm/types';
import { StreamDecoder, count, str } from './common';
import type { TextBudget } from './common';

/** Usage of an Ollama final line (or whole response). */
export function ollamaUsage(json: any): LLMUsage {
  const out: LLMUsage = {};
  const input = count(json.prompt_eval_count);
  if (input !== undefined) out.input = input;
  const output = count(json.eval_count);
  if (output !== undefined) out.output = output;
  return out;
}

/** Whether `json` looks like a line of Ollama's `/api/chat` or `/api/generate`. */
export function isOllamaLine(json: any): boolean {
  if (typeof json.done !== 'boolean' || typeof json.model !== 'string') return false;
  const m = json.message;
  return (m !== null && typeof m === 'object') || typeof json.response === 'string';
}

export class OllamaDecoder extends StreamDecoder {
  readonly provider = 'ollama' as const;
  readonly api: 'ollama.chat' | 'ollama.generate';
  protected override readonly operation: string | undefined;

  constructor(budget: TextBudget, first: any) {
    super(budget);
    this.api = typeof first.response === 'string' && first.message === undefined ? 'ollama.generate' : 'ollama.chat';
    // The convention's name for a prompt-in, text-out call.
    this.operation = this.api === 'ollama.generate' ? 'text_completion' : undefined;
  }

  event(json: any): boolean {
    if (typeof json.error === 'string') {
      this.error = { type: 'error', message: json.error };
      this.complete = true;
      return false;
    }
    if (this.model === null) {
      const model = str(json.model);
      if (model !== undefined) this.model = model;
    }
    const choice = this.main();
    if (choice === undefined) return false;
    let content = false;
    const m = json.message;
    if (m !== null && typeof m === 'object') {
      if (typeof m.content === 'string' && m.content !== '') {
        choice.addText(this.budget, m.content);
        content = true;
      }
      if (Array.isArray(m.tool_calls)) {
        for (const call of m.tool_calls) {
          const fn = call?.function;
          if (fn === null || typeof fn !== 'object') continue;
          const tool = choice.tool(choice.tools.size);
          if (tool === undefined) continue;
          content = true;
          tool.id = str(call.id) ?? '';
          tool.name = str(fn.name) ?? '';
          const args = fn.arguments;
          tool.whole = this.budget.take(typeof args === 'string' ? args : JSON.stringify(args ?? {}));
        }
      }
    } else if (typeof json.response === 'string' && json.response !== '') {
      choice.addText(this.budget, json.response);
      content = true;
    }
    if (json.done === true) {
      const reason = str(json.done_reason);
      if (reason !== undefined) choice.finishReason = reason;
      this.usage = ollamaUsage(json);
      this.complete = true;
    }
    return content;
  }
}
