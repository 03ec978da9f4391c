// Fault injection (VirtualService fault): delay and abort, each applied to `percent` of requests.
import type { waypoint } from '@mesh/api';

export interface FaultDecision {
  delayMs: number;
  /** HTTP status to answer with instead of forwarding; 0 = no abort. */
  abortStatus: number;
  /** gRPC status code for a gRPC abort; undefined when not a gRPC abort. */
  grpcStatus: number | undefined;
}

const GRPC_CODES: Record<string, number> = {
  OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, ABORTED: 10, OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, DATA_LOSS: 15, UNAUTHENTICATED: 16,
};

function hit(percent: number, rand: () => number): boolean {
  return percent >= 100 || rand() * 100 < percent;
}

export function decideFault(f: waypoint.Fault | undefined, rand: () => number = Math.random): FaultDecision | undefined {
  if (f === undefined) return undefined;
  const delayMs = f.delay !== undefined && f.delay.fixedDelayMs > 0 && hit(f.delay.percent, rand) ? f.delay.fixedDelayMs : 0;
  let abortStatus = 0;
  let grpcStatus: number | undefined;
  if (f.abort !== undefined && hit(f.abort.percent, rand)) {
    if (f.abort.grpcStatus !== '') {
      grpcStatus = GRPC_CODES[f.abort.grpcStatus.toUpperCase()] ?? Number(f.abort.grpcStatus);
      abortStatus = 200;
    } else if (f.abort.httpStatus !== 0) {
      abortStatus = f.abort.httpStatus;
    }
  }
  if (delayMs === 0 && abortStatus === 0) return undefined;
  return { delayMs, abortStatus, grpcStatus };
}
