// Opaque TCP through the waypoint (Istio's TCP filter chain on main_internal): L4 authorization, then the
// bytes go to one endpoint of the service (or the addressed pod) over a new HBONE tunnel.
import type { Duplex } from 'node:stream';
import { bridge } from '@mesh/hbone';
import type { Logger } from '@mesh/core';
import { authorizeHttp } from '../policy/index';
import { pickWeighted } from '../route/index';
import type { TunnelContext } from '../http/index';
import type { Endpoint, HboneAgents, UpstreamState } from '../upstream/index';

export interface TcpDeps {
  upstream: UpstreamState;
  agents: HboneAgents;
  logger: Logger;
}

function endpointFor(deps: TcpDeps, ctx: TunnelContext): Endpoint | undefined {
  const t = ctx.target;
  if (t.kind === 'workload') return { workload: t.workload, ip: t.ip, port: t.port };
  const route = t.entry.routes.routes[0]?.route;
  const backend = route === undefined ? undefined : pickWeighted(route.backends);
  const host = backend?.hostname ?? t.hostname;
  return deps.upstream.pickEndpoint(host, backend?.port || t.port);
}

/**
 * HTTP-only policy fields cannot match TCP (method/path are empty), so ALLOW rules that need them never
 * allow, as Istio drops them from TCP filter chains; DENY rules that need them do not deny here (Istio instead
 * drops only the HTTP fields and denies): a known narrowing, see the package README.
 */
export function proxyTcp(deps: TcpDeps, tunnel: Duplex, ctx: TunnelContext): void {
  const t = ctx.target;
  const policies = t.kind === 'service' ? t.entry.policies : t.policies;
  const d = authorizeHttp(policies, {
    method: '', path: '/', authority: t.authority, headers: {}, port: t.port,
    ...(ctx.peerIdentity === undefined ? {} : { sourcePrincipal: ctx.peerIdentity }),
    ...(ctx.sourceIp === undefined ? {} : { sourceIp: ctx.sourceIp }),
  });
  const ep = d.allow ? endpointFor(deps, ctx) : undefined;
  if (ep === undefined) {
    tunnel.destroy();
    return;
  }
  deps.agents.openTunnel(ep).then(
    (up) => bridge(tunnel, up),
    (err: unknown) => {
      deps.logger.debug({ err: err instanceof Error ? err.message : String(err), endpoint: ep.ip }, 'TCP upstream connect failed');
      tunnel.destroy();
    },
  );
}
