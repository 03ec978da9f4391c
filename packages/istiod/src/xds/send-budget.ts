/** Default cap on response bytes written to streams but not yet taken by HTTP/2 (see SendBudget). */
export const DEFAULT_XDS_SEND_BUDGET_BYTES = 16 * 1024 * 1024;
/** A push that reconciles at most this many names is small enough to go out without waiting for budget. */
export const SMALL_PUSH_NAMES = 64;

/** Returned by `acquire`: call once the transport took the bytes (idempotent). */
export type ReleaseFn = () => void;

/**
 * Bounds the bytes of xDS responses that have been written to gRPC streams but not yet handed to the
 * socket, across all connections. Without it, 100 ztunnels connecting at once make istiod build and buffer
 * 100 full Address snapshots (each a few MB at 10k pods, copied once more by grpc-js framing) before any is
 * sent. Large pushes wait their turn instead and are built from the snapshot current when they go, the way
 * istiod's PILOT_PUSH_THROTTLE bounds concurrent pushes. A push is admitted while the total in flight is
 * under the cap, so a single response larger than the cap still goes out.
 */
export class SendBudget {
  private inFlightBytes = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly maxBytes: number = DEFAULT_XDS_SEND_BUDGET_BYTES) {}

  /** True when a large response may be built now. */
  available(): boolean {
    return this.inFlightBytes < this.maxBytes;
  }

  /** Bytes written and not yet released. */
  get bytesInFlight(): number {
    return this.inFlightBytes;
  }

  /** Calls `retry` once budget frees up (first come, first served). */
  wait(retry: () => void): void {
    this.waiting.push(retry);
  }

  acquire(bytes: number): ReleaseFn {
    this.inFlightBytes += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlightBytes -= bytes;
      this.wakeWaiters();
    };
  }

  private wakeWaiters(): void {
    while (this.available() && this.waiting.length > 0) {
      const retry = this.waiting.shift() as () => void;
      retry();
    }
  }
}
