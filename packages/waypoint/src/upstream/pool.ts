// DestinationRule connectionPool limits of one upstream cluster, as Envoy's circuit breakers: HTTP/1.1 holds
// one connection per in-flight request, so at most max_connections requests run at once; more wait as pending
// requests up to max_pending_requests (http1MaxPendingRequests); max_requests (http2MaxRequests) caps
// in-flight requests outright. Anything over a limit is refused at once: 503 with response flag UO and
// `x-envoy-overloaded: true`. 0 = no limit (Envoy's defaults are effectively unlimited in Istio).
import type { waypoint } from '@mesh/api';

/** AbortSignal's listener subset (the exchange's done signal or a real AbortSignal). */
export interface CancelSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export interface Admission {
  /** Frees the slot (idempotent); call when the request finished on the upstream side. */
  release(): void;
}


interface Waiter {
  resolve: (a: Admission | 'overflow') => void;
  signal: CancelSignal;
  onAbort: () => void;
}

export class ConnectionPoolLimiter {
  private active = 0;
  private readonly pending: Waiter[] = [];

  constructor(private readonly cfg: waypoint.ConnectionPool | undefined) {}

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.pending.length;
  }

  /** Resolves an admission, or 'overflow' when a circuit breaker trips (or the request was cancelled). */
  admit(signal: CancelSignal): Promise<Admission | 'overflow'> {
    const maxRequests = this.cfg?.maxRequests ?? 0;
    if (maxRequests > 0 && this.active + this.pending.length >= maxRequests) return Promise.resolve('overflow');
    if (this.hasConnectionFor()) return Promise.resolve(this.grant());
    const maxPending = this.cfg?.maxPendingRequests ?? 0;
    if (maxPending > 0 && this.pending.length >= maxPending) return Promise.resolve('overflow');
    return new Promise((resolve) => {
      const w: Waiter = {
        resolve, signal,
        onAbort: () => {
          const i = this.pending.indexOf(w);
          if (i >= 0) this.pending.splice(i, 1);
          resolve('overflow');
        },
      };
      signal.addEventListener('abort', w.onAbort, { once: true });
      this.pending.push(w);
    });
  }

  private hasConnectionFor(): boolean {
    const maxConnections = this.cfg?.maxConnections ?? 0;
    return maxConnections === 0 || this.active < maxConnections;
  }

  private grant(): Admission {
    this.active++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.active--;
        this.next();
      },
    };
  }

  private next(): void {
    while (this.pending.length > 0 && this.hasConnectionFor()) {
      const w = this.pending.shift()!;
      w.signal.removeEventListener('abort', w.onAbort);
      w.resolve(this.grant());
    }
  }
}
