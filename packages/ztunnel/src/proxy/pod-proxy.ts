// The three per-pod listeners, created inside the pod's netns (Z:src/inpod/statemanager.rs + Z:src/proxy.rs):
// 15001 outbound, 15006 inbound plaintext, 15008 inbound HBONE; SO_MARK so the in-pod rules skip them,
// SO_REUSEPORT so an upgrading ztunnel can overlap, IP_TRANSPARENT where allowed.
import net from 'node:net';
import { closeFd, listenInNetns, NetnsSocketPool, serverFromFd } from '@mesh/netns';
import { HbonePool, parseAuthority, type HboneServer } from '@mesh/hbone';
import { ConnectionSet } from './copy/index';
import {
  INBOUND_HBONE_PORT, INBOUND_PLAINTEXT_PORT, OUTBOUND_PORT, type PodContext, type PodInfo, type ProxyInputs,
} from './context';
import { createInboundServer } from './inbound/inbound';
import { handleOutbound } from './outbound/outbound';
import { handlePassthrough } from './passthrough/passthrough';

export interface PodListenerPorts {
  outbound: number;
  inboundPlaintext: number;
  inboundHbone: number;
}

export const DEFAULT_POD_PORTS: PodListenerPorts = {
  outbound: OUTBOUND_PORT,
  inboundPlaintext: INBOUND_PLAINTEXT_PORT,
  inboundHbone: INBOUND_HBONE_PORT,
};

const NO_TRANSPARENT_CODES = new Set(['EPERM', 'EACCES']);
const NO_IPV6_CODES = new Set(['EAFNOSUPPORT', 'EADDRNOTAVAIL']);

export class PodProxy {
  private closed = false;

  private constructor(
    readonly ctx: PodContext,
    private readonly servers: net.Server[],
    private readonly hbone: HboneServer,
  ) {}

  /** Takes ownership of `netnsFd` (closed on failure and on close()). */
  static async start(inputs: ProxyInputs, info: PodInfo, netnsFd: number, ports = DEFAULT_POD_PORTS): Promise<PodProxy> {
    const logger = inputs.logger.child({ pod: `${info.namespace}/${info.name}`, uid: info.uid });
    const sockets = new NetnsSocketPool(netnsFd);
    const pool = new HbonePool({
      dial: async (key) => {
        const hop = parseAuthority(key.nextHop);
        const sock = await sockets.connectSocket({ host: hop.host, port: hop.port, mark: inputs.packetMark });
        sock.setNoDelay(true);
        return sock;
      },
      onError: (err) => logger.debug({ err: err.message }, 'HBONE tunnel error'),
    });
    const ctx: PodContext = { info, netnsFd, sockets, connections: new ConnectionSet(), pool, logger };
    const hbone = createInboundServer(inputs, ctx);
    const servers: net.Server[] = [];
    try {
      const listen = (port: number, server: net.Server): Promise<net.Server> =>
        serverFromFd(listenPodSocket(inputs, netnsFd, port), server);
      // allowHalfOpen: a client FIN must only half-close the proxied connection (TCP semantics end to end);
      // Node's default would end our write side too and drop the reply. bridge() ends each side itself.
      const opts = { noDelay: true, allowHalfOpen: true };
      servers.push(await listen(ports.outbound, net.createServer(opts, (s) => handleOutbound(inputs, ctx, s))));
      servers.push(await listen(ports.inboundPlaintext, net.createServer(opts, (s) => handlePassthrough(inputs, ctx, s))));
      servers.push(await listen(ports.inboundHbone, hbone.netServer));
    } catch (err) {
      for (const s of servers) s.close();
      hbone.destroy();
      void pool.close();
      sockets.close();
      closeFd(netnsFd);
      throw err;
    }
    logger.info('pod listeners started');
    return new PodProxy(ctx, servers, hbone);
  }

  get connectionCount(): number {
    return this.ctx.connections.size;
  }

  /** Stop at once, dropping live connections (ZDS Del: Istio does not drain a removed pod). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.servers) s.close();
    this.hbone.destroy();
    this.ctx.connections.destroyAll();
    void this.ctx.pool.close();
    // Before the netns fd: idle sockets hold the pod netns alive.
    this.ctx.sockets.close();
    closeFd(this.ctx.netnsFd);
    this.ctx.logger.info('pod listeners stopped');
  }

  /** Graceful: stop accepting, GOAWAY on HBONE, leave connections to the drain. */
  stopAccepting(): void {
    for (const s of this.servers) if (s.listening) s.close();
    void this.hbone.close(0);
  }
}

function listenPodSocket(inputs: ProxyInputs, netnsFd: number, port: number): number {
  const base = { port, mark: inputs.packetMark, reuseport: inputs.portReuse };
  const attempts = [
    ...(inputs.ipv6Enabled ? [{ ...base, host: '::', family: 6 as const, v6only: false }] : []),
    { ...base, host: '0.0.0.0', family: 4 as const },
  ];
  let lastErr: unknown;
  for (const opts of attempts) {
    try {
      try {
        return listenInNetns(netnsFd, { ...opts, transparent: true });
      } catch (err) {
        if (!NO_TRANSPARENT_CODES.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
        return listenInNetns(netnsFd, opts);
      }
    } catch (err) {
      lastErr = err;
      if (!NO_IPV6_CODES.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
    }
  }
  throw lastErr;
}
