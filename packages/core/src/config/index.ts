/** Options and environment: validated and normalised once, at setup. */
export { resolveConfig } from './options';
export type { ResolvedConfig, Pricing } from './options';
export { readEnv, readOtlpEnv, ENV_EXPORTER_NAMES } from './env';
export type { EnvConfig, OtlpEnvConfig } from './env';
export { warnOnce, logThrottled, resetWarnings, writeWarning } from '../diag/warn';
export {
  DEFAULT_BATCH,
  DEFAULT_SPAN_LIMITS,
  DEFAULT_STORE,
  DEFAULT_SERVICE_NAME,
  DEFAULT_REDACTED_QUERY_PARAMS,
  SDK_VERSION,
} from './defaults';
export type { StoreLimits } from '../store/store';
export { optionError } from '../internal/validate';
