import { randomFillSync } from 'node:crypto';

/**
 * W3C trace context. ztunnel sends a random `traceparent` per connection
 * (connection tracing, not request tracing), with the sampled flag off.
 */
export interface TraceParent {
  version: string;
  traceId: string;
  spanId: string;
  flags: string;
}

const TRACEPARENT_RE = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

const ID_BYTES = 24;
// One crypto.randomFillSync per 170 traceparents instead of a randomBytes() call (~17 us) on every
// connection; the bytes are used once each and never handed out.
const RANDOM_POOL_BYTES = ID_BYTES * 170;
const randomPool = Buffer.allocUnsafe(RANDOM_POOL_BYTES);
let randomOffset = RANDOM_POOL_BYTES;

/** A fresh `00-<32 hex>-<16 hex>-00`. IDs are never all-zero (invalid per the spec). */
export function newTraceparent(): string {
  if (randomOffset + ID_BYTES > RANDOM_POOL_BYTES) {
    randomFillSync(randomPool);
    randomOffset = 0;
  }
  const o = randomOffset;
  randomOffset += ID_BYTES;
  randomPool[o] = (randomPool[o] ?? 0) | 1;
  randomPool[o + 16] = (randomPool[o + 16] ?? 0) | 1;
  return `00-${randomPool.toString('hex', o, o + 16)}-${randomPool.toString('hex', o + 16, o + ID_BYTES)}-00`;
}

export function formatTraceparent(tp: TraceParent): string {
  return `${tp.version}-${tp.traceId}-${tp.spanId}-${tp.flags}`;
}

/**
 * Parses a traceparent; undefined for anything invalid. Never throws. Future versions may carry
 * extra fields after the flags (the spec says to parse the known prefix); version ff is invalid.
 */
export function parseTraceparent(header: string | undefined): TraceParent | undefined {
  if (typeof header !== 'string') return undefined;
  const m = TRACEPARENT_RE.exec(header.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags] = m;
  if (!version || !traceId || !spanId || !flags) return undefined;
  if (version === 'ff' || traceId === ZERO_TRACE_ID || spanId === ZERO_SPAN_ID) return undefined;
  if (version === '00' && header.trim().length !== 55) return undefined;
  return { version, traceId, spanId, flags };
}
