/**
 * OpenAI audio streams. Transcriptions (`stream: true`): `transcript.text.delta` events with text,
 * then `transcript.text.done` with the whole text and `usage` (`{ type: 'tokens', input_tokens,
 * output_tokens }`, or `{ type: 'duration', seconds }` for models billed by the second).
 * https://developers.openai.com/api/reference/resources/audio/subresources/transcriptions/streaming-events
 * Speech (`stream_format: 'sse'`): `speech.audio.delta` events whose `audio` is base64, then
 * `speech.audio.done` with token `usage`. Speech audio is counted (decoded bytes), never kept.
 */
import type { LLMUsage } from '../../llm/types';
import { StreamDecoder, count } from './common';
import type { TextBudget } from './common';

/** Token or duration usage of a transcription or speech call; seconds go to `seconds`. */
export function audioUsage(u: any): { usage: LLMUsage; seconds?: number } {
  const usage: LLMUsage = {};
  const input = count(u.input_tokens);
  if (input !== undefined) usage.input = input;
  const output = count(u.output_tokens);
  if (output !== undefined) usage.output = output;
  const seconds = u.type === 'duration' ? count(u.seconds) : undefined;
  return seconds === undefined ? { usage } : { usage, seconds };
}

/** Decoded size of base64 text, without decoding it. */
export function base64Bytes(s: string): number {
  let n = s.length;
  while (n > 0 && (s.charCodeAt(n - 1) === 0x3d || s.charCodeAt(n - 1) === 0x0a)) n--; // '=' padding, trailing newline
  return Math.floor((n * 3) / 4);
}

export class OpenAIAudioDecoder extends StreamDecoder {
  readonly provider = 'openai' as const;
  readonly api: 'audio.transcriptions' | 'audio.speech';
  protected override readonly operation: string;
  private sawDelta = false;
  private audioBytes = 0;
  private seconds: number | undefined = undefined;
  /** Characters of transcript seen (counted even when no text is kept). */
  private chars = 0;

  constructor(budget: TextBudget, type: string) {
    super(budget);
    this.api = type.startsWith('speech.') ? 'audio.speech' : 'audio.transcriptions';
    this.operation = this.api === 'audio.speech' ? 'text_to_speech' : 'speech_to_text';
  }

  event(json: any): boolean {
    switch (json.type) {
      case 'transcript.text.delta': {
        if (typeof json.delta !== 'string' || json.delta === '') return false;
        this.sawDelta = true;
        this.chars += json.delta.length;
        this.main()?.addText(this.budget, json.delta);
        return true;
      }
      case 'transcript.text.done': {
        const choice = this.main();
        if (!this.sawDelta && typeof json.text === 'string' && json.text !== '') {
          this.chars = json.text.length;
          choice?.addText(this.budget, json.text);
        }
        this.usageFrom(json.usage);
        this.complete = true;
        return !this.sawDelta && typeof json.text === 'string' && json.text !== '';
      }
      case 'speech.audio.delta': {
        if (typeof json.audio !== 'string' || json.audio === '') return false;
        this.audioBytes += base64Bytes(json.audio);
        return true;
      }
      case 'speech.audio.done':
        this.usageFrom(json.usage);
        this.complete = true;
        return false;
      case 'error':
        this.error = { type: String(json.error?.type ?? json.code ?? 'error'), message: String(json.error?.message ?? json.message ?? '') };
        this.complete = true;
        return false;
      default:
        return false;
    }
  }

  private usageFrom(u: unknown): void {
    if (u === null || typeof u !== 'object') return;
    const { usage, seconds } = audioUsage(u);
    this.usage = usage;
    if (seconds !== undefined) this.seconds = seconds;
  }

  protected override extras(): Record<string, number> | undefined {
    if (this.api === 'audio.speech') return { 'tracewire.audio.output_bytes': this.audioBytes };
    const out: Record<string, number> = { 'tracewire.transcription.output_characters': this.chars };
    if (this.seconds !== undefined) out['tracewire.audio.input_seconds'] = this.seconds;
    return out;
  }
}
