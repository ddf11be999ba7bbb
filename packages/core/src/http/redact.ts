/** Moved to internal/redact.ts (issue #12); this re-export keeps old imports working. */
export * from '../internal/redact';
