/** Retry policy for failed reconciles (Istio's informer queue retries with rate-limited backoff). */
export interface RetryPolicy {
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /** Attempts per event before giving up (logged); a new event for the key starts over. */
  readonly maxAttempts: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({ initialBackoffMs: 200, maxBackoffMs: 30_000, maxAttempts: 12 });

export interface KeyedQueueOptions {
  readonly retry: RetryPolicy;
  readonly work: (key: string) => Promise<void>;
  readonly onError: (key: string, err: unknown, attempt: number, retryInMs: number | undefined) => void;
}

/**
 * Work per key, one at a time per key (an enqueue while queued coalesces), with exponential backoff
 * on failure. `exclusive` lets other callers (the CNI ADD handler) run under the same per-key lock.
 */
export class KeyedQueue {
  readonly #opts: KeyedQueueOptions;
  readonly #tails = new Map<string, Promise<void>>();
  readonly #queued = new Set<string>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #stopped = false;

  constructor(opts: KeyedQueueOptions) {
    this.#opts = opts;
  }

  enqueue(key: string, attempt = 1): void {
    if (this.#stopped || this.#queued.has(key)) return;
    if (attempt === 1) this.#clearTimer(key);
    this.#queued.add(key);
    void this.exclusive(key, async () => {
      this.#queued.delete(key);
      if (this.#stopped) return;
      try {
        await this.#opts.work(key);
      } catch (err) {
        this.#retry(key, err, attempt);
      }
    });
  }

  /** Runs fn after everything already queued for key, and before anything queued later. */
  exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    const run = prev.then(fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return run;
  }

  /** Stops retries and new work; resolves when running work finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    await Promise.all(this.#tails.values());
  }

  /** Resolves when no work is queued or running (tests). */
  async idle(): Promise<void> {
    while (this.#tails.size > 0) await Promise.all(this.#tails.values());
  }

  #retry(key: string, err: unknown, attempt: number): void {
    const { initialBackoffMs, maxBackoffMs, maxAttempts } = this.#opts.retry;
    if (attempt >= maxAttempts || this.#stopped) {
      this.#opts.onError(key, err, attempt, undefined);
      return;
    }
    const delay = Math.min(maxBackoffMs, initialBackoffMs * 2 ** (attempt - 1));
    this.#opts.onError(key, err, attempt, delay);
    this.#clearTimer(key);
    this.#timers.set(
      key,
      setTimeout(() => {
        this.#timers.delete(key);
        this.enqueue(key, attempt + 1);
      }, delay),
    );
  }

  #clearTimer(key: string): void {
    const t = this.#timers.get(key);
    if (t) clearTimeout(t);
    this.#timers.delete(key);
  }
}
