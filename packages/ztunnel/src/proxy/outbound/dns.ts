// On-demand DNS for hostname-only workloads (DNS ServiceEntry endpoints), as ztunnel's `resolve_on_demand_dns`
// (Z:src/state.rs): ztunnel's own resolver (not the pod's), answers of the client's address family preferred and
// one picked at random, the other family as a fallback; a failed or empty lookup fails the connection. ztunnel's
// hickory resolver caches answers for their TTL; getaddrinfo gives no TTL, so answers are kept for a short fixed
// time instead, and concurrent lookups of one name share a single query.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { defineMeshError } from '@mesh/core';
import type { DnsTarget, SocketAddress } from '../decision/index';

export const DnsResolutionError = defineMeshError(
  'PROXY_DNS_RESOLUTION_FAILED',
  'DnsResolutionError',
  (d: { hostname: string; reason: string }) =>
    `cannot reach hostname workload ${d.hostname}: DNS resolution failed (${d.reason}); check the ServiceEntry's ` +
    `host or endpoint address resolves from the ztunnel pod`,
);

export type LookupAll = (hostname: string) => Promise<readonly { address: string; family: number }[]>;

export interface HostResolverOptions {
  readonly lookup?: LookupAll;
  /** A lookup slower than this fails the connection. */
  readonly timeoutMs?: number;
  /** How long answers are reused. */
  readonly cacheTtlMs?: number;
  readonly maxEntries?: number;
  /** Whether IPv6 answers are usable at all (ztunnel's ipv6Enabled). */
  readonly ipv6Enabled?: boolean;
  readonly random?: () => number;
  readonly now?: () => number;
}

export const DNS_TIMEOUT_MS = 5_000;
export const DNS_CACHE_TTL_MS = 5_000;

const systemLookup: LookupAll = (hostname) => lookup(hostname, { all: true, verbatim: true });

/** An answer split by family once, when it is cached: connections only pick from it. */
interface Answers {
  readonly v4: readonly string[];
  readonly v6: readonly string[];
}

interface Entry {
  readonly expires: number;
  readonly answers: Answers;
}

export class HostResolver {
  private readonly lookup: LookupAll;
  private readonly timeoutMs: number;
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly ipv6Enabled: boolean;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly cache = new Map<string, Entry>();
  /**
   * The lookup of each name in progress, kept until getaddrinfo itself returns (not until a caller gave up):
   * a name server that never answers holds one libuv thread-pool thread per name, not one per connection.
   */
  private readonly inflight = new Map<string, Promise<Answers>>();

  constructor(opts: HostResolverOptions = {}) {
    this.lookup = opts.lookup ?? systemLookup;
    this.timeoutMs = opts.timeoutMs ?? DNS_TIMEOUT_MS;
    this.ttlMs = opts.cacheTtlMs ?? DNS_CACHE_TTL_MS;
    this.maxEntries = opts.maxEntries ?? 256;
    this.ipv6Enabled = opts.ipv6Enabled ?? true;
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? Date.now;
  }

  /** One IP for `hostname`: of the preferred family if any answer has it, else of the other. */
  async resolve(hostname: string, preferIpv6: boolean): Promise<string> {
    const a = await this.answers(hostname);
    const v6 = this.ipv6Enabled ? a.v6 : [];
    const preferred = preferIpv6 ? v6 : a.v4;
    const pool = preferred.length > 0 ? preferred : preferIpv6 ? a.v4 : v6;
    if (pool.length === 0) throw new DnsResolutionError({ hostname, reason: 'no usable address in the answer' });
    return pool[Math.min(pool.length - 1, Math.floor(this.random() * pool.length))] as string;
  }

  private answers(hostname: string): Promise<Answers> {
    const hit = this.cache.get(hostname);
    if (hit !== undefined && hit.expires > this.now()) return Promise.resolve(hit.answers);
    let p = this.inflight.get(hostname);
    if (p === undefined) {
      const query = this.query(hostname);
      const done = (): void => {
        this.inflight.delete(hostname);
      };
      query.then(done, done);
      this.inflight.set(hostname, query);
      p = query;
    }
    return this.withTimeout(p, hostname);
  }

  private async query(hostname: string): Promise<Answers> {
    let answers: readonly { address: string; family: number }[];
    try {
      answers = await this.lookup(hostname);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      throw new DnsResolutionError({ hostname, reason: typeof code === 'string' ? code : String(err) });
    }
    const v4: string[] = [];
    const v6: string[] = [];
    for (const a of answers) (isIP(a.address) === 6 ? v6 : v4).push(a.address);
    const entry: Entry = { expires: this.now() + this.ttlMs, answers: { v4, v6 } };
    this.cache.delete(hostname);
    if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(hostname, entry);
    return entry.answers;
  }

  /** Each caller waits at most timeoutMs; the shared lookup goes on for the next caller. */
  private withTimeout(p: Promise<Answers>, hostname: string): Promise<Answers> {
    return new Promise<Answers>((resolve, reject) => {
      const timer = setTimeout(() => reject(new DnsResolutionError({ hostname, reason: `no answer within ${this.timeoutMs}ms` })), this.timeoutMs);
      timer.unref();
      p.then(
        (a) => {
          clearTimeout(timer);
          resolve(a);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }
}

/** The connect step's target for a plan: its next hop, or for a hostname workload <resolved IP>:port. */
export async function resolveNextHop(resolver: HostResolver, nextHop: SocketAddress, dns: DnsTarget): Promise<SocketAddress> {
  return { ip: await resolver.resolve(dns.hostname, dns.preferIpv6), port: nextHop.port };
}
