/**
 * @tracewire/viewer — a local trace viewer: OTLP/HTTP receiver, JSON API and web page, no setup.
 * A plain list of named exports.
 */
export { createViewer } from './viewer';
export type {
  ModelTotals,
  Percentiles,
  TraceDetail,
  TraceLLMSummary,
  TraceQuery,
  TraceSummary,
  TraceTotals,
  Viewer,
  ViewerOptions,
  ViewerSpan,
  ViewerStats,
} from './types';
export { readTraceFile, parseTraceLine } from './file';
export type { TraceFile } from './file';
