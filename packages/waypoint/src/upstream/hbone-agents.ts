// Waypoint -> destination leg (Istio's connect_originate): HTTP/1.1 over an HBONE tunnel to podIP:15008 with
// `:authority podIP:targetPort`, under the waypoint's own identity, expecting the pod's SPIFFE identity.
// One pool of keep-alive HTTP/1.1 connections (each an HBONE tunnel) per (endpoint, identity), reused across
// requests.
import type { Duplex } from 'node:stream';
import type { SecureContext } from 'node:tls';
import { HBONE_PORT, HbonePool } from '@mesh/hbone';
import { Http1Pool } from '../http1/index';
import type { Endpoint } from './mesh-state';
import { H2Sessions } from './h2-sessions';
import { hostPort } from './ip';

/** Envoy's connect_timeout default for waypoint clusters. */
export const UPSTREAM_CONNECT_TIMEOUT_MS = 10_000;
export const UPSTREAM_KEEPALIVE_IDLE_MS = 60_000;
/** How often idle upstream connections are checked against UPSTREAM_KEEPALIVE_IDLE_MS. */
const IDLE_SWEEP_INTERVAL_MS = 5_000;

export interface HboneAgentsOptions {
  /** The waypoint's own SPIFFE id (source identity of the pooled HBONE connections). */
  sourceIdentity: string;
  /** The waypoint's current TLS context (cert + roots); awaited per new tunnel, so rotation is picked up. */
  secureContext: () => Promise<SecureContext>;
  pool?: HbonePool;
  /** Port of the destination's HBONE listener (15008; tests use another). */
  hbonePort?: number;
  connectTimeoutMs?: number;
}

export class HboneAgents {
  readonly pool: HbonePool;
  /** h2c sessions inside HBONE tunnels, for HTTP2/GRPC ports. */
  readonly h2: H2Sessions;
  private readonly pools = new Map<string, Http1Pool>();
  private sweeper: NodeJS.Timeout | undefined;
  private readonly hbonePort: number;
  private readonly connectTimeoutMs: number;

  constructor(private readonly opts: HboneAgentsOptions) {
    this.pool = opts.pool ?? new HbonePool();
    this.hbonePort = opts.hbonePort ?? HBONE_PORT;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? UPSTREAM_CONNECT_TIMEOUT_MS;
    this.h2 = new H2Sessions((ep) => this.openTunnel(ep));
  }

  /** The keep-alive HTTP/1.1 connections of one endpoint (created on first use). */
  poolFor(ep: Endpoint): Http1Pool {
    const key = `${hostPort(ep.ip, ep.port)}|${ep.workload.identity}`;
    let pool = this.pools.get(key);
    if (pool === undefined) {
      pool = new Http1Pool(() => this.openTunnel(ep));
      this.pools.set(key, pool);
      this.sweeper ??= setInterval(() => this.sweep(), IDLE_SWEEP_INTERVAL_MS).unref();
    }
    return pool;
  }

  private sweep(): void {
    const cutoff = Date.now() - UPSTREAM_KEEPALIVE_IDLE_MS;
    for (const p of this.pools.values()) p.sweep(cutoff);
  }

  /** A raw tunnel to the endpoint (TCP proxying). */
  async openTunnel(ep: Endpoint): Promise<Duplex> {
    const secureContext = await this.opts.secureContext();
    return this.pool.connect({
      key: {
        srcIdentity: this.opts.sourceIdentity,
        dstIdentities: [ep.workload.identity],
        nextHop: hostPort(ep.ip, this.hbonePort),
        srcIp: '',
      },
      authority: hostPort(ep.ip, ep.port),
      tlsOptions: { secureContext },
      connectTimeoutMs: this.connectTimeoutMs,
    });
  }

  /** Drops the pools of endpoints that left the state (their tunnels close with them). */
  retain(live: (key: string) => boolean): void {
    for (const [k, p] of this.pools) {
      if (!live(k)) {
        p.destroy();
        this.pools.delete(k);
      }
    }
  }

  async close(graceMs = 0): Promise<void> {
    for (const p of this.pools.values()) p.destroy();
    this.pools.clear();
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.h2.close();
    await this.pool.close(graceMs);
  }
}
