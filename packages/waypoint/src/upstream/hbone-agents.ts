// Waypoint -> destination leg (Istio's connect_originate): HTTP/1.1 over an HBONE tunnel to podIP:15008 with
// `:authority podIP:targetPort`, under the waypoint's own identity, expecting the pod's SPIFFE identity.
// node:http drives the tunnel through an Agent whose createConnection opens the tunnel asynchronously; one
// keep-alive Agent per (endpoint, identity) so idle HTTP/1.1 connections are reused across requests.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { SecureContext } from 'node:tls';
import { HBONE_PORT, HbonePool } from '@mesh/hbone';
import type { Endpoint } from './mesh-state';
import { H2Sessions } from './h2-sessions';
import { hostPort } from './ip';

/** Envoy's connect_timeout default for waypoint clusters. */
export const UPSTREAM_CONNECT_TIMEOUT_MS = 10_000;
export const UPSTREAM_KEEPALIVE_IDLE_MS = 60_000;
export const UPSTREAM_MAX_SOCKETS_PER_ENDPOINT = 1024;

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

type SocketLike = Duplex & {
  setKeepAlive?: (...a: unknown[]) => unknown;
  setNoDelay?: (...a: unknown[]) => unknown;
  ref?: () => unknown;
  unref?: () => unknown;
};

/** node:http's Agent calls net.Socket-only methods on reuse; an HTTP/2 stream lacks them and needs none. */
function socketShim(tunnel: Duplex): Duplex {
  const s = tunnel as SocketLike;
  s.setKeepAlive ??= (): SocketLike => s;
  s.setNoDelay ??= (): SocketLike => s;
  s.ref ??= (): SocketLike => s;
  s.unref ??= (): SocketLike => s;
  return s;
}

interface TunnelAgentOptions extends http.AgentOptions {
  open: () => Promise<Duplex>;
}

class TunnelAgent extends http.Agent {
  private readonly open: () => Promise<Duplex>;

  constructor(opts: TunnelAgentOptions) {
    super(opts);
    this.open = opts.open;
  }

  override createConnection(_options: http.ClientRequestArgs, cb?: (err: Error | null, stream: Duplex) => void): undefined {
    this.open().then(
      (tunnel) => cb?.(null, socketShim(tunnel)),
      // node:http ignores the stream argument when err is set.
      (err: unknown) => cb?.(err instanceof Error ? err : new Error(String(err)), undefined as unknown as Duplex),
    );
    return undefined;
  }
}

export class HboneAgents {
  readonly pool: HbonePool;
  /** h2c sessions inside HBONE tunnels, for HTTP2/GRPC ports. */
  readonly h2: H2Sessions;
  private readonly agents = new Map<string, http.Agent>();
  private readonly hbonePort: number;
  private readonly connectTimeoutMs: number;

  constructor(private readonly opts: HboneAgentsOptions) {
    this.pool = opts.pool ?? new HbonePool();
    this.hbonePort = opts.hbonePort ?? HBONE_PORT;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? UPSTREAM_CONNECT_TIMEOUT_MS;
    this.h2 = new H2Sessions((ep) => this.openTunnel(ep));
  }

  /** The keep-alive Agent for one endpoint (created on first use). */
  agentFor(ep: Endpoint): http.Agent {
    const key = `${hostPort(ep.ip, ep.port)}|${ep.workload.identity}`;
    let agent = this.agents.get(key);
    if (agent === undefined) {
      agent = new TunnelAgent({
        keepAlive: true,
        maxSockets: UPSTREAM_MAX_SOCKETS_PER_ENDPOINT,
        timeout: UPSTREAM_KEEPALIVE_IDLE_MS,
        open: () => this.openTunnel(ep),
      });
      this.agents.set(key, agent);
    }
    return agent;
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

  /** Drops agents of endpoints that left the state (their idle tunnels close with them). */
  retain(live: (key: string) => boolean): void {
    for (const [k, a] of this.agents) {
      if (!live(k)) {
        a.destroy();
        this.agents.delete(k);
      }
    }
  }

  async close(graceMs = 0): Promise<void> {
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
    this.h2.close();
    await this.pool.close(graceMs);
  }
}
