import { randomFillSync } from 'node:crypto';

/**
 * Trace and span ids from a cryptographically random source, drawn from a pooled buffer: one
 * `randomFillSync` per 512 ids instead of one `randomBytes` call per id (the syscall and Buffer
 * allocation dominate the cost of a single id).
 */
const POOL_SIZE = 8192;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

function take(bytes: number): number {
  if (offset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const at = offset;
  offset += bytes;
  return at;
}

function isZero(at: number, bytes: number): boolean {
  for (let i = at; i < at + bytes; i++) if (pool[i] !== 0) return false;
  return true;
}

/** 32 lowercase hex chars, never all zero (W3C Trace Context §3.2.2.3). */
export function newTraceId(): string {
  let at = take(16);
  while (isZero(at, 16)) at = take(16);
  return pool.toString('hex', at, at + 16);
}

/** 16 lowercase hex chars, never all zero (W3C Trace Context §3.2.2.4). */
export function newSpanId(): string {
  let at = take(8);
  while (isZero(at, 8)) at = take(8);
  return pool.toString('hex', at, at + 8);
}
