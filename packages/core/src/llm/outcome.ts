/**
 * `LLMResult` → the `LLMCallOutcome` observers receive (issue #18): the same figures the span's
 * `gen_ai.*` attributes carry (usage, time to first chunk, cost by the same rules as
 * llmAttributes), plus what only metrics use (duration, chunk intervals), sampled or not.
 */
import type { LLMCallOutcome } from '../observe';
import { llmCost } from './pricing';
import type { LLMResult, PricingTable } from './types';

export interface LLMOutcomeInput {
  side: 'client' | 'server';
  /** The provider the caller or URL named (`azure.ai.openai`); else the response's format tells it. */
  provider?: string;
  /** The operation the endpoint or caller named; else the result's, else `chat`. */
  operation?: string;
  requestModel: string | undefined;
  serverAddress: string | undefined;
  serverPort: number | undefined;
  stream: boolean;
  /** Epoch ms the call (or request) started; undefined when unknown (a span of the user's). */
  startTime: number | undefined;
  /** Epoch ms it ended (default: now, as the caller passes it). */
  endTime: number;
  firstChunkTime: number | undefined;
  contentChunks: number | undefined;
  chunkIntervals: ArrayLike<number> | undefined;
  /** As in llmAttributes: a cut stream's output count is estimated from this many content chunks when usage is missing. */
  estimateOutputFrom: number | undefined;
  /** The client went away before the end of a stream the app served (`error.type` `client_aborted`). */
  aborted: boolean;
  pricing: PricingTable | undefined;
  /** An error the call itself ended with (overrides none: the provider's in-band error wins). */
  errorType?: string;
  sampled: boolean;
}

/** The outcome of one LLM call. Never throws. */
export function llmOutcome(result: LLMResult | undefined, i: LLMOutcomeInput): LLMCallOutcome {
  const usage = result !== undefined ? result.usage : {};
  // As llmAttributes: a cut stream without an output count is estimated from its content chunks,
  // and an estimate is never priced.
  const estimated = result !== undefined && usage.output === undefined && i.estimateOutputFrom !== undefined && i.estimateOutputFrom > 0 ? i.estimateOutputFrom : undefined;
  let cost: number | undefined;
  if (result !== undefined && estimated === undefined) {
    try {
      // Embeddings produce no output tokens: priced on their input alone.
      const priced = result.operation === 'embeddings' && usage.output === undefined && usage.input !== undefined ? { ...usage, output: 0 } : usage;
      cost = llmCost(result.model ?? i.requestModel, priced, i.pricing);
    } catch {
      cost = undefined;
    }
  }
  const start = i.startTime;
  return {
    side: i.side,
    provider: i.provider || (result !== undefined ? result.provider : '') || '_OTHER',
    operation: i.operation || (result !== undefined ? result.operation : undefined) || 'chat',
    requestModel: i.requestModel,
    responseModel: result !== undefined && result.model ? result.model : undefined,
    serverAddress: i.serverAddress,
    serverPort: i.serverPort,
    stream: i.stream,
    usage,
    estimatedOutputTokens: estimated,
    duration: start !== undefined ? Math.max(0, i.endTime - start) / 1000 : undefined,
    timeToFirstChunk: i.stream && start !== undefined && i.firstChunkTime !== undefined ? Math.max(0, i.firstChunkTime - start) / 1000 : undefined,
    contentChunks: i.contentChunks,
    chunkIntervals: i.chunkIntervals,
    cost,
    errorType: (result !== undefined && result.error !== undefined && result.error.type ? result.error.type : undefined) ?? i.errorType ?? (i.aborted ? 'client_aborted' : undefined),
    sampled: i.sampled,
  };
}
