/** key -> set of values, dropping empty sets so iteration stays proportional to live data. */
export class MultiMap<V> {
  private readonly m = new Map<string, Set<V>>();

  add(key: string, value: V): void {
    let s = this.m.get(key);
    if (s === undefined) {
      s = new Set();
      this.m.set(key, s);
    }
    s.add(value);
  }

  delete(key: string, value: V): void {
    const s = this.m.get(key);
    if (s === undefined) return;
    s.delete(value);
    if (s.size === 0) this.m.delete(key);
  }

  get(key: string): ReadonlySet<V> {
    return this.m.get(key) ?? EMPTY;
  }

  keys(): IterableIterator<string> {
    return this.m.keys();
  }
}

const EMPTY: ReadonlySet<never> = new Set();
