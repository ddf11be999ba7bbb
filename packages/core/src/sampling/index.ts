/** Head samplers (decided at span start) and the tail policy (decided on the finished trace). */
export {
  alwaysOn,
  alwaysOff,
  traceIdRatio,
  parentBased,
  toSampleFn,
  samplerFromEnv,
  traceIdBelowRatio,
  ENV_SAMPLER_NAMES,
} from './head';
export type { HeadSampler, ParentBasedOptions, SampleFn } from './head';
export { compileTailPolicy } from './tail';
export type { TailFn } from './tail';
