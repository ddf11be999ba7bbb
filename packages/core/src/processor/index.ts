/** Between the trace store and the exporters: tail decision, counters by outcome, queueing. */
export { TraceProcessor } from './processor';
export type { TraceProcessorOptions, ProcessorStats } from './processor';
