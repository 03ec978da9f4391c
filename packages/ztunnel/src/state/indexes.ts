// Small multi-map helpers for the store's secondary indexes. Every update touches only the keys of the resource
// being changed (O(addresses + services) per workload), so 10k workloads never trigger a full rebuild.

export function addToIndex<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  let set = index.get(key);
  if (set === undefined) index.set(key, (set = new Set()));
  set.add(value);
}

export function removeFromIndex<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const set = index.get(key);
  if (set === undefined) return;
  set.delete(value);
  if (set.size === 0) index.delete(key);
}

/** First value of a set (insertion order), or undefined. */
export function firstOf<V>(set: ReadonlySet<V> | undefined): V | undefined {
  if (set === undefined) return undefined;
  for (const v of set) return v;
  return undefined;
}
