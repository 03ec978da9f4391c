import { createLogger, type Logger } from '@mesh/core';

export const QUEUE_MIN_INTERVAL_MS = 20;
export const QUEUE_RETRY_INITIAL_MS = 200;
export const QUEUE_RETRY_MAX_MS = 30_000;

export interface KeyedQueueOptions {
  /**
   * Reconciles one key; a rejection retries the key with exponential backoff. `run.stopped` turns true when
   * the queue is stopped (leadership lost): a handler checks it after each await before writing anything.
   */
  handle: (key: string, run: { readonly stopped: boolean }) => Promise<void>;
  /** Least time between two handled keys (client-side rate limit on API writes). */
  minIntervalMs?: number;
  retryInitialMs?: number;
  retryMaxMs?: number;
  logger?: Logger;
}

/**
 * A work queue like client-go's: a key queued many times is handled once, keys are handled one at a time
 * and no faster than minIntervalMs, and failures are retried with backoff instead of crashing or spinning.
 */
export class KeyedQueue {
  private readonly pending = new Set<string>();
  private readonly attempts = new Map<string, number>();
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  private readonly log: Logger;
  private running = false;
  private ended = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly o: KeyedQueueOptions) {
    this.log = o.logger ?? createLogger({ component: 'istiod-queue' });
  }

  /** True once stop() was called. */
  get stopped(): boolean {
    return this.ended;
  }

  add(key: string): void {
    if (this.ended) return;
    this.pending.add(key);
    if (!this.running) void this.drain();
  }

  /** Drops queued work and pending retries (leadership lost or shutdown); `add` after this is ignored. */
  stop(): void {
    this.ended = true;
    this.pending.clear();
    for (const t of this.retryTimers.values()) clearTimeout(t);
    this.retryTimers.clear();
  }

  /** Resolves when nothing is queued or being handled (tests and shutdown). */
  idle(): Promise<void> {
    if (!this.running && this.pending.size === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private async drain(): Promise<void> {
    this.running = true;
    const interval = this.o.minIntervalMs ?? QUEUE_MIN_INTERVAL_MS;
    while (!this.ended && this.pending.size > 0) {
      const key = this.pending.values().next().value as string;
      this.pending.delete(key);
      try {
        await this.o.handle(key, this);
        this.attempts.delete(key);
      } catch (err) {
        this.retryLater(key, err);
      }
      if (interval > 0) await new Promise((r) => setTimeout(r, interval).unref());
    }
    this.running = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private retryLater(key: string, err: unknown): void {
    const n = this.attempts.get(key) ?? 0;
    this.attempts.set(key, n + 1);
    const delay = Math.min(this.o.retryMaxMs ?? QUEUE_RETRY_MAX_MS, (this.o.retryInitialMs ?? QUEUE_RETRY_INITIAL_MS) * 2 ** Math.min(n, 20));
    this.log.warn({ err, key, retryInMs: delay }, 'reconcile failed; retrying');
    if (this.retryTimers.has(key)) return;
    const t = setTimeout(() => {
      this.retryTimers.delete(key);
      this.add(key);
    }, delay);
    t.unref();
    this.retryTimers.set(key, t);
  }
}
