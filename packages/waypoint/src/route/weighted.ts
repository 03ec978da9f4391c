/** Anything with a relative weight; weight 0 is never picked. */
export interface Weighted {
  readonly weight: number;
}

/**
 * Picks one destination with probability weight/total. `rand` returns [0, 1) (Math.random by
 * default; injected for deterministic tests). Undefined when no destination has a positive weight.
 */
export function pickWeighted<T extends Weighted>(destinations: readonly T[], rand: () => number = Math.random): T | undefined {
  if (destinations.length === 1) {
    const only = destinations[0]!;
    return only.weight > 0 ? only : undefined;
  }
  let total = 0;
  for (const d of destinations) if (d.weight > 0) total += d.weight;
  if (total <= 0) return undefined;
  let r = rand() * total;
  let last: T | undefined;
  for (const d of destinations) {
    if (d.weight <= 0) continue;
    last = d;
    if (r < d.weight) return d;
    r -= d.weight;
  }
  // Floating-point slack when rand() is just below 1.
  return last;
}
