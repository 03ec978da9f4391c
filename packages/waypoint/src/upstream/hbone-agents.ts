// Waypoint -> destination leg. An endpoint captured in the mesh (tunnel_protocol HBONE) is reached as Istio's
// connect_originate: an HBONE tunnel to podIP:15008 with `:authority podIP:targetPort`, under the waypoint's own
// identity, expecting the pod's SPIFFE identity. Any other endpoint (tunnel_protocol NONE) gets a direct TCP
// connection to ip:port, plaintext or TLS per the cluster's DestinationRule tls (direct.ts). One pool of
// keep-alive HTTP/1.1 connections per (endpoint, identity[, transport settings]), reused across requests.
import type { Duplex } from 'node:stream';
import type { SecureContext } from 'node:tls';
import type { Logger } from '@mesh/core';
import { HBONE_PORT, HbonePool } from '@mesh/hbone';
import { connectDirect, transportKey, UpstreamTlsError, type UpstreamTransport } from './direct';
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
  /** Reports failed direct (non-HBONE) connections: TLS failures at warn, others at debug. */
  logger?: Logger;
}

/** ALPN offered when originating TLS for HTTP/1.1 (HTTP2/GRPC ports offer h2). */
const HTTP1_ALPN = ['http/1.1'];
const H2_ALPN = ['h2'];

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
    this.h2 = new H2Sessions((ep, transport) => this.openTunnel(ep, transport, H2_ALPN), (ep, transport) => this.keyOf(ep, transport));
  }

  /** Pool key: HBONE endpoints by (endpoint, identity); direct ones also by their TLS settings. */
  keyOf(ep: Endpoint, transport?: UpstreamTransport): string {
    const key = `${hostPort(ep.ip, ep.port)}|${ep.workload.identity}`;
    return ep.workload.tunnel === 'none' ? `${key}|direct|${transportKey(transport)}` : key;
  }

  /** The keep-alive HTTP/1.1 connections of one endpoint (created on first use). */
  poolFor(ep: Endpoint, transport?: UpstreamTransport): Http1Pool {
    const key = this.keyOf(ep, transport);
    let pool = this.pools.get(key);
    if (pool === undefined) {
      pool = new Http1Pool(() => this.openTunnel(ep, transport, HTTP1_ALPN));
      this.pools.set(key, pool);
      this.sweeper ??= setInterval(() => this.sweep(), IDLE_SWEEP_INTERVAL_MS).unref();
    }
    return pool;
  }

  private sweep(): void {
    const cutoff = Date.now() - UPSTREAM_KEEPALIVE_IDLE_MS;
    for (const p of this.pools.values()) p.sweep(cutoff);
  }

  /**
   * A raw connection to the endpoint: an HBONE tunnel, or for a non-HBONE endpoint a direct TCP/TLS one
   * (`alpn` only matters when TLS is originated; TCP proxying passes none).
   */
  openTunnel(ep: Endpoint, transport?: UpstreamTransport, alpn?: readonly string[]): Promise<Duplex> {
    return ep.workload.tunnel === 'none' ? this.openDirect(ep, transport, alpn) : this.openHbone(ep);
  }

  private async openDirect(ep: Endpoint, transport: UpstreamTransport | undefined, alpn: readonly string[] | undefined): Promise<Duplex> {
    const timeoutMs = transport?.connectTimeoutMs || this.connectTimeoutMs;
    try {
      return await connectDirect({
        address: ep.ip, port: ep.port, transport, identity: ep.workload.identity, alpn, timeoutMs, meshContext: this.opts.secureContext,
      });
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      const fields = { endpoint: hostPort(ep.ip, ep.port), cluster: transport?.name, err: err.message };
      if (err instanceof UpstreamTlsError) this.opts.logger?.warn(fields, 'upstream TLS origination failed');
      else this.opts.logger?.debug(fields, 'direct upstream connect failed');
      throw err;
    }
  }

  private async openHbone(ep: Endpoint): Promise<Duplex> {
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
