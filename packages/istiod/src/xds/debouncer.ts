/** Default quiet period before a push, as istiod's PILOT_DEBOUNCE_AFTER (100ms). */
export const DEFAULT_DEBOUNCE_AFTER_MS = 100;
/** Longest a change waits while changes keep arriving, cf. istiod's PILOT_DEBOUNCE_MAX (10s; shorter here). */
export const DEFAULT_DEBOUNCE_MAX_MS = 1000;

export type FlushFn = (changes: ReadonlyMap<string, ReadonlySet<string>>) => void;

/**
 * Coalesces resource change notifications per type URL: a flush happens once no change arrived for
 * `afterMs`, or `maxMs` after the first pending change, whichever comes first. Pending state is one set
 * of names per type, so memory is bounded by the number of resources, not the number of changes.
 */
export class Debouncer {
  private pending = new Map<string, Set<string>>();
  private timer: NodeJS.Timeout | undefined;
  private firstAtMs = 0;

  constructor(
    private readonly flush: FlushFn,
    private readonly afterMs: number = DEFAULT_DEBOUNCE_AFTER_MS,
    private readonly maxMs: number = DEFAULT_DEBOUNCE_MAX_MS,
  ) {}

  add(typeUrl: string, names: Iterable<string>): void {
    let set = this.pending.get(typeUrl);
    if (set === undefined) {
      set = new Set();
      this.pending.set(typeUrl, set);
    }
    for (const n of names) set.add(n);
    const now = performance.now();
    if (this.timer === undefined) this.firstAtMs = now;
    else clearTimeout(this.timer);
    const delay = Math.max(0, Math.min(this.afterMs, this.firstAtMs + this.maxMs - now));
    this.timer = setTimeout(() => this.fire(), delay);
  }

  /** Flush now (e.g. on shutdown or in tests). */
  fire(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const changes = this.pending;
    this.pending = new Map();
    this.flush(changes);
  }

  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }
}
