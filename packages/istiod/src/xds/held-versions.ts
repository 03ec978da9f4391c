const EMPTY: ReadonlyMap<string, string> = new Map();

/**
 * name -> version of what one client holds of one type. After a full wildcard sync the client holds
 * exactly the store's snapshot, so instead of a private 11k-entry map per connection (tens of MB across
 * 100 ztunnels) it adopts a shared, immutable baseline of that snapshot and records only its own later
 * differences (pushed updates, removals). Connections that sync from the same store generation share one
 * baseline.
 */
export class HeldVersions {
  private base: ReadonlyMap<string, string> = EMPTY;
  /** Names added or updated since the baseline. */
  private readonly own = new Map<string, string>();
  /** Baseline names the client no longer holds. */
  private readonly dropped = new Set<string>();
  private count = 0;

  constructor(initial: Iterable<readonly [string, string]> = []) {
    for (const [name, version] of initial) this.set(name, version);
  }

  get size(): number {
    return this.count;
  }

  get(name: string): string | undefined {
    const v = this.own.get(name);
    if (v !== undefined) return v;
    if (this.dropped.size > 0 && this.dropped.has(name)) return undefined;
    return this.base.get(name);
  }

  set(name: string, version: string): void {
    if (this.get(name) === undefined) this.count++;
    this.dropped.delete(name);
    if (this.base.get(name) === version) this.own.delete(name);
    else this.own.set(name, version);
  }

  delete(name: string): boolean {
    if (this.get(name) === undefined) return false;
    this.count--;
    this.own.delete(name);
    if (this.base.has(name)) this.dropped.add(name);
    return true;
  }

  /** Every held name, once. */
  *keys(): IterableIterator<string> {
    for (const name of this.base.keys()) {
      if (!this.own.has(name) && !this.dropped.has(name)) yield name;
    }
    yield* this.own.keys();
  }

  /** The client now holds exactly `baseline` (shared, never mutated). */
  adopt(baseline: ReadonlyMap<string, string>): void {
    this.base = baseline;
    this.own.clear();
    this.dropped.clear();
    this.count = baseline.size;
  }
}
