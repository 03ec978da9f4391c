// The waypoint's :15008 (Istio's connect_terminate listener): HBONE mTLS with the waypoint's own certificate,
// client certificate required and in the mesh trust domain, CONNECT :authority = the original destination
// (service VIP:port or pod IP:port). Unknown destinations get 503, as ztunnel/Envoy answer; known ones get
// 200 and their tunnel is sniffed and handed to the HTTP/1, HTTP/2 or TCP path.
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SecureContext } from 'node:tls';
import { createHboneServer, trustDomainVerifier, type HboneServer, type HboneTunnelRequest } from '@mesh/hbone';
import type { Drain, Logger } from '@mesh/core';
import type { RequestHandler, TunnelContext, TunnelTarget } from '../http/index';
import { canonicalIp } from '../upstream/index';
import { createTunnelServers, type TunnelServers } from './servers';
import { sniff } from './sniff';

export interface WaypointListenerOptions {
  secureContext: () => SecureContext | Promise<SecureContext>;
  trustDomain: string;
  /** Maps the CONNECT authority to a service or workload behind this waypoint; undefined = 503. */
  resolveTarget: (host: string, port: number, authority: string) => TunnelTarget | undefined;
  /** Whether the target's port is declared TCP (no sniffing: server-first protocols would stall it). */
  isOpaqueTcp?: (target: TunnelTarget) => boolean;
  handler: RequestHandler;
  tcp: (tunnel: Duplex, ctx: TunnelContext) => void;
  logger: Logger;
  drain?: Drain;
}

export class WaypointListener {
  readonly server: HboneServer;
  private readonly servers: TunnelServers;

  constructor(private readonly opts: WaypointListenerOptions) {
    this.servers = createTunnelServers(opts.handler);
    this.server = createHboneServer({
      secureContextFor: () => opts.secureContext(),
      verifyClient: trustDomainVerifier(opts.trustDomain),
      onConnect: (req) => this.onConnect(req),
      onError: (err, c) => opts.logger.debug({ err: err.message, phase: c.phase, remote: c.remote?.address }, 'hbone error'),
    });
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return this.server.listen({ host, port });
  }

  async close(deadlineMs = 5_000): Promise<void> {
    await this.server.close(deadlineMs);
    this.servers.close();
  }

  private onConnect(req: HboneTunnelRequest): void {
    const target = this.opts.resolveTarget(canonicalIp(req.target.host), req.target.port, req.authority);
    if (target === undefined) {
      this.opts.logger.debug({ authority: req.authority, peer: req.peer.identity }, 'CONNECT to an unknown destination');
      req.reject(503);
      return;
    }
    const ctx: TunnelContext = {
      peerIdentity: req.peer.identity,
      sourceIp: req.headers.forwarded.forIp ?? req.remote.address,
      target,
      traceparent: typeof req.headers.raw.traceparent === 'string' ? req.headers.raw.traceparent : undefined,
    };
    const tunnel = req.accept();
    const release = this.opts.drain?.track();
    if (release !== undefined) tunnel.once('close', release);
    tunnel.on('error', () => undefined);
    if (this.opts.isOpaqueTcp?.(target) === true) return this.opts.tcp(tunnel, ctx);
    void sniff(tunnel).then((proto) => {
      if (proto === 'h2') this.servers.serveH2(tunnel, ctx);
      else if (proto === 'http1') this.servers.serveHttp1(tunnel, ctx);
      else this.opts.tcp(tunnel, ctx);
    });
  }
}
