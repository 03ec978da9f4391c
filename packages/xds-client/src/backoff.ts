/** Default first reconnect delay (ztunnel's xDS client starts around 10ms-1s; we pick 500ms). */
export const DEFAULT_INITIAL_BACKOFF_MS = 500;
/** Default cap on the reconnect delay. */
export const DEFAULT_MAX_BACKOFF_MS = 15_000;

/**
 * Exponential backoff with jitter: the n-th delay is drawn uniformly from [d/2, d] with
 * d = min(max, initial * 2^n), so many clients that lost istiod together do not reconnect in lockstep.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {
    if (!(initialMs > 0) || !(maxMs >= initialMs)) {
      throw new RangeError(`backoff needs 0 < initialBackoffMs (${initialMs}) <= maxBackoffMs (${maxMs})`);
    }
  }

  next(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  reset(): void {
    this.attempt = 0;
  }
}
