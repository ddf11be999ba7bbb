/** Moved to diag/warn.ts (issue #12); this re-export keeps old imports working. */
export * from '../diag/warn';
