// Envoy retry_on semantics for the subset Istio users set (VirtualService retries.retryOn; Istio's default
// policy is "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes" with 2 attempts,
// but the waypoint config carries the resolved policy, so nothing is assumed here).
import type { waypoint } from '@mesh/api';

/** What one try produced. */
export type TryOutcome =
  | { kind: 'response'; status: number; grpcStatus?: number }
  | { kind: 'connect-failure' }
  /** `refused`: the upstream refused the stream (HTTP/2 RST_STREAM REFUSED_STREAM), so nothing was processed. */
  | { kind: 'reset'; refused?: boolean }
  | { kind: 'timeout' };

const GATEWAY_ERRORS = new Set([502, 503, 504]);
const GRPC_CANCELLED = 1;
const GRPC_DEADLINE = 4;
const GRPC_RESOURCE_EXHAUSTED = 8;
const GRPC_UNAVAILABLE = 14;
const GRPC_INTERNAL = 13;

// As Envoy's RetryStateImpl (wouldRetryFromHeaders / wouldRetryFromReset): any reset or per-try timeout is a
// "5xx" and a "gateway-error"; refused-stream matches only a REFUSED_STREAM reset, connect-failure only a
// failed connection.
function conditionHolds(cond: string, o: TryOutcome, codes: readonly number[]): boolean {
  switch (cond) {
    case '5xx':
      return o.kind !== 'response' || o.status >= 500;
    case 'gateway-error':
      return o.kind !== 'response' || GATEWAY_ERRORS.has(o.status);
    case 'reset':
      return o.kind === 'reset' || o.kind === 'timeout';
    case 'connect-failure':
      return o.kind === 'connect-failure';
    case 'refused-stream':
      return o.kind === 'reset' && o.refused === true;
    case 'retriable-4xx':
      return o.kind === 'response' && o.status === 409;
    case 'retriable-status-codes':
      return o.kind === 'response' && codes.includes(o.status);
    case 'cancelled':
      return o.kind === 'response' && o.grpcStatus === GRPC_CANCELLED;
    case 'deadline-exceeded':
      return o.kind === 'response' && o.grpcStatus === GRPC_DEADLINE;
    case 'resource-exhausted':
      return o.kind === 'response' && o.grpcStatus === GRPC_RESOURCE_EXHAUSTED;
    case 'unavailable':
      return o.kind === 'response' && o.grpcStatus === GRPC_UNAVAILABLE;
    case 'internal':
      return o.kind === 'response' && o.grpcStatus === GRPC_INTERNAL;
    default:
      return false;
  }
}

/** True when `o` is retriable under `policy` (the caller also checks the attempt budget). */
export function isRetriable(policy: waypoint.RetryPolicy | undefined, o: TryOutcome): boolean {
  if (policy === undefined || policy.attempts === 0) return false;
  for (const cond of policy.retryOn) {
    if (conditionHolds(cond.trim(), o, policy.retriableStatusCodes)) return true;
  }
  return false;
}

/** Envoy's retry back-off: 25 ms base, exponential with full jitter, capped at 10x base. */
export const RETRY_BASE_INTERVAL_MS = 25;

export function retryBackoffMs(retry: number, rand: () => number = Math.random): number {
  const cap = Math.min(RETRY_BASE_INTERVAL_MS * 2 ** retry, RETRY_BASE_INTERVAL_MS * 10);
  return Math.floor(rand() * cap);
}
