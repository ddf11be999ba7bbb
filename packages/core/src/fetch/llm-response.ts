/** The response side of an LLM call made with tracedFetch (placeholder until the decoders land). */
import type { BodyObserver } from './body';
import type { LLMRequest } from './llm';
import type { Pricing } from '../config';

export interface LLMObserverOptions {
  startTime: number;
  captureContent: boolean;
  pricing: Pricing | undefined;
}

export function createLLMObserver(_llm: LLMRequest, _res: Response, _opts: LLMObserverOptions): BodyObserver | undefined {
  return undefined;
}
