// DestinationRule loadBalancer for one upstream cluster, as Envoy's load balancers behave for Istio:
// ROUND_ROBIN (Istio's default), LEAST_REQUEST (power of two choices on in-flight requests), RANDOM and
// CONSISTENT_HASH (a ring hash: every endpoint owns RING_POINTS_PER_ENDPOINT points, so the mapping only
// depends on the endpoint set, not on its order, and moves ~1/n of the keys when an endpoint comes or goes).
import { waypoint } from '@mesh/api';
import type { Endpoint } from './mesh-state';

export const RING_POINTS_PER_ENDPOINT = 64;

export type LbPolicy = 'round-robin' | 'least-request' | 'random' | 'consistent-hash';

export function endpointKey(ep: Endpoint): string {
  return ep.ip.includes(':') ? `[${ep.ip}]:${ep.port}` : `${ep.ip}:${ep.port}`;
}

/** 32-bit FNV-1a with a murmur3 finaliser (good spread for short keys). */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function lbPolicyOf(lb: waypoint.LoadBalancer | undefined): LbPolicy {
  const P = waypoint.LoadBalancer_Policy;
  switch (lb?.policy) {
    case P.LEAST_REQUEST:
      return 'least-request';
    case P.RANDOM:
      return 'random';
    case P.CONSISTENT_HASH:
      return 'consistent-hash';
    default:
      return 'round-robin';
  }
}

interface Ring {
  readonly signature: string;
  readonly points: readonly { hash: number; key: string }[];
}

export interface PickInput {
  readonly rand: () => number;
  /** In-flight requests of an endpoint (LEAST_REQUEST). */
  readonly active: (ep: Endpoint) => number;
  /** Hash key for CONSISTENT_HASH; absent -> random pick, as Envoy without a hash key. */
  readonly hashKey?: string | undefined;
}

export class EndpointPicker {
  private rr = 0;
  private ring: Ring | undefined;

  constructor(readonly policy: LbPolicy) {}

  pick(eps: readonly Endpoint[], input: PickInput): Endpoint | undefined {
    if (eps.length <= 1) return eps[0];
    switch (this.policy) {
      case 'random':
        return eps[Math.floor(input.rand() * eps.length)];
      case 'least-request':
        return this.leastRequest(eps, input);
      case 'consistent-hash':
        return input.hashKey === undefined ? eps[Math.floor(input.rand() * eps.length)] : this.byRing(eps, input.hashKey);
      default:
        return eps[this.rr++ % eps.length];
    }
  }

  /** Envoy's default choice_count 2: two random endpoints, the one with fewer active requests wins. */
  private leastRequest(eps: readonly Endpoint[], input: PickInput): Endpoint | undefined {
    const a = eps[Math.floor(input.rand() * eps.length)]!;
    const b = eps[Math.floor(input.rand() * eps.length)]!;
    return input.active(b) < input.active(a) ? b : a;
  }

  private byRing(eps: readonly Endpoint[], key: string): Endpoint | undefined {
    const byKey = new Map(eps.map((e) => [endpointKey(e), e]));
    // The as-given order is a cheap cache key (the state lists endpoints in a stable order); the ring itself
    // is built from the set, so another order yields the same mapping.
    const signature = [...byKey.keys()].join(',');
    if (this.ring?.signature !== signature) this.ring = buildRing(signature, [...byKey.keys()]);
    const points = this.ring.points;
    const h = hash32(key);
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]!.hash < h) lo = mid + 1;
      else hi = mid;
    }
    const p = points[lo === points.length ? 0 : lo]!;
    return byKey.get(p.key);
  }
}

function buildRing(signature: string, keys: readonly string[]): Ring {
  const points: { hash: number; key: string }[] = [];
  for (const key of keys) for (let i = 0; i < RING_POINTS_PER_ENDPOINT; i++) points.push({ hash: hash32(`${key}_${i}`), key });
  points.sort((x, y) => x.hash - y.hash || (x.key < y.key ? -1 : 1));
  return { signature, points };
}

/** The request attribute a CONSISTENT_HASH policy hashes on (undefined when the request lacks it). */
export function hashKeyFor(
  lb: waypoint.LoadBalancer | undefined,
  req: { headers: Readonly<Record<string, string | readonly string[] | undefined>>; path: string; sourceIp?: string | undefined },
): string | undefined {
  const k = lb?.consistentHash?.key;
  if (k === undefined || k.case === undefined) return undefined;
  const header = (n: string): string | undefined => {
    const v = req.headers[n.toLowerCase()];
    return Array.isArray(v) ? v.join(',') : (v as string | undefined);
  };
  switch (k.case) {
    case 'header':
      return header(k.value);
    case 'sourceIp':
      return req.sourceIp;
    case 'queryParam': {
      const q = req.path.indexOf('?');
      return new URLSearchParams(q < 0 ? '' : req.path.slice(q + 1)).get(k.value) ?? undefined;
    }
    case 'cookie': {
      for (const part of (header('cookie') ?? '').split(';')) {
        const eq = part.indexOf('=');
        if (eq > 0 && part.slice(0, eq).trim() === k.value) return unquote(part.slice(eq + 1).trim());
      }
      return undefined;
    }
  }
}

/** Cookie values may be quoted (RFC 6265 DQUOTE); Envoy compares the inner value. */
function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

export interface Affinity {
  /** Hash key for the ring; undefined = no key (random pick). */
  readonly hashKey: string | undefined;
  /** Set-Cookie value to return when the affinity cookie was generated for this request. */
  readonly setCookie?: string;
}

/**
 * The request's hash key; for a cookie policy without the cookie, Envoy generates one (hashing on it now) and
 * returns it with Set-Cookie so the client sticks from its next request on (Max-Age from the TTL, none = session).
 */
export function affinityFor(
  lb: waypoint.LoadBalancer | undefined,
  req: Parameters<typeof hashKeyFor>[1],
  newValue: () => string,
): Affinity {
  const hashKey = hashKeyFor(lb, req);
  const ch = lb?.consistentHash;
  if (hashKey !== undefined || ch?.key.case !== 'cookie') return { hashKey };
  const value = newValue();
  const attrs = [`${ch.key.value}="${value}"`];
  if (ch.cookieTtlMs > 0) attrs.push(`Max-Age=${Math.max(1, Math.floor(ch.cookieTtlMs / 1000))}`);
  attrs.push(`Path=${ch.cookiePath || '/'}`, 'HttpOnly');
  return { hashKey: value, setCookie: attrs.join('; ') };
}
