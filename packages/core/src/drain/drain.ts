/**
 * Graceful drain, as ztunnel does on SIGTERM: stop taking new work, let in-flight work finish until a
 * deadline (ztunnel: terminationGracePeriodSeconds - 5s, `CONNECTION_TERMINATION_DEADLINE`), then force
 * close whatever is left.
 *
 * Usage in a proxy: `const release = drain.track()` per connection and `release()` when it closes;
 * `drain.signal` (an AbortSignal) tells listeners to stop accepting and HTTP/2 sessions to send GOAWAY;
 * `drain.onForce(cb)` destroys what is still open at the deadline.
 */
export interface DrainResult {
  /** True when the deadline passed with work still in flight and the force callbacks ran. */
  forced: boolean;
  /** In-flight count when drain finished (0 unless forced). */
  remaining: number;
}

export interface DrainTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: DrainTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class Drain {
  private readonly controller = new AbortController();
  private readonly forceCallbacks = new Set<() => void>();
  private readonly timers: DrainTimers;
  private active = 0;
  private idleWaiter: (() => void) | undefined;
  private result: Promise<DrainResult> | undefined;

  constructor(timers: DrainTimers = realTimers) {
    this.timers = timers;
  }

  /** Aborted when draining starts. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get draining(): boolean {
    return this.controller.signal.aborted;
  }

  get inFlight(): number {
    return this.active;
  }

  /** Count one unit of in-flight work; call the returned function (idempotent) when it ends. */
  track(): () => void {
    this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      if (this.active === 0) this.idleWaiter?.();
    };
  }

  /** Run `cb` if the deadline passes with work in flight. Returns an unsubscribe function. */
  onForce(cb: () => void): () => void {
    this.forceCallbacks.add(cb);
    return () => this.forceCallbacks.delete(cb);
  }

  /** Start draining (idempotent: later calls return the first call's result). */
  start(deadlineMs: number): Promise<DrainResult> {
    this.result ??= this.run(deadlineMs);
    return this.result;
  }

  private async run(deadlineMs: number): Promise<DrainResult> {
    this.controller.abort();
    if (this.active === 0) return { forced: false, remaining: 0 };
    const finishedInTime = await new Promise<boolean>((resolve) => {
      const timer = this.timers.setTimeout(() => resolve(false), deadlineMs);
      this.idleWaiter = () => {
        this.timers.clearTimeout(timer);
        resolve(true);
      };
    });
    this.idleWaiter = undefined;
    if (finishedInTime) return { forced: false, remaining: 0 };
    const remaining = this.active;
    for (const cb of this.forceCallbacks) cb();
    return { forced: true, remaining };
  }
}
