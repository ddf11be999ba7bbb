import { randomFillSync } from 'node:crypto';

/**
 * Trace and span ids from a cryptographically random source, drawn from a pooled buffer: one
 * `randomFillSync` and one hex conversion per 8 KiB (512 trace ids), and then each id is a
 * substring of the pool's hex text. A `randomBytes` call or even a `toString('hex')` per id costs
 * ten times more than the substring (bench/micro.js).
 */
const POOL_BYTES = 8192;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let hex = '';
let offset = POOL_BYTES; // in bytes

function refill(): void {
  randomFillSync(pool);
  hex = pool.toString('hex');
  offset = 0;
}

function isZero(at: number, bytes: number): boolean {
  for (let i = at; i < at + bytes; i++) if (pool[i] !== 0) return false;
  return true;
}

function draw(bytes: number): string {
  for (;;) {
    if (offset + bytes > POOL_BYTES) refill();
    const at = offset;
    offset += bytes;
    // All-zero ids are invalid (W3C Trace Context §3.2.2.3-4); draw again.
    if (!isZero(at, bytes)) return hex.substring(at * 2, (at + bytes) * 2);
  }
}

/** 32 lowercase hex chars, never all zero. */
export function newTraceId(): string {
  return draw(16);
}

/** 16 lowercase hex chars, never all zero. */
export function newSpanId(): string {
  return draw(8);
}
