// Request ids and trace ids for every forwarded request. One randomFillSync per few hundred ids instead of
// two randomBytes() calls per request (each a native call plus a Buffer): ~4% of the waypoint's CPU.
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

/** `bytes` random bytes as lowercase hex (bytes <= POOL_BYTES). */
export function randomHex(bytes: number): string {
  if (offset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const s = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return s;
}

/** A fresh W3C traceparent (version 00, not sampled), as Envoy starts a trace when none arrives. */
export function newTraceparent(): string {
  return `00-${randomHex(16)}-${randomHex(8)}-00`;
}
