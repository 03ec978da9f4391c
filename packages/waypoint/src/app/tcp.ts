// Opaque TCP through the waypoint (Istio's TCP filter chain on main_internal): L4 authorization, then the
// bytes go to one endpoint of the service (or the addressed pod) over a new HBONE tunnel, or for an endpoint
// outside the mesh over a direct TCP connection (TLS originated when the DestinationRule says so).
import type { Duplex } from 'node:stream';
import { bridge } from '@mesh/hbone';
import type { Logger } from '@mesh/core';
import { authorizeHttp } from '../policy/index';
import { pickWeighted } from '../route/index';
import type { TunnelContext } from '../http/index';
import { hashKeyFor, type Endpoint, type HboneAgents, type UpstreamCluster, type UpstreamClusters, type UpstreamState } from '../upstream/index';

export interface TcpDeps {
  upstream: UpstreamState;
  agents: HboneAgents;
  logger: Logger;
  /** DestinationRule cluster state: TCP uses the same LB and outlier detection as HTTP, as in Envoy. */
  clusters?: UpstreamClusters;
}

interface Upstream {
  ep: Endpoint;
  cluster: UpstreamCluster | undefined;
}

function endpointFor(deps: TcpDeps, ctx: TunnelContext): Upstream | undefined {
  const t = ctx.target;
  if (t.kind === 'workload') return { ep: { workload: t.workload, ip: t.ip, port: t.port }, cluster: undefined };
  const route = t.entry.routes.routes[0]?.route;
  const backend = route === undefined ? undefined : pickWeighted(route.backends);
  const host = backend?.hostname ?? t.hostname;
  const port = backend?.port || t.port;
  const subset = backend?.subset ?? '';
  const labels = subset === '' ? undefined : backend?.subsetLabels;
  const cluster = deps.clusters?.get(host, subset, port);
  if (cluster === undefined) {
    const ep = deps.upstream.pickEndpoint(host, port, labels);
    return ep === undefined ? undefined : { ep, cluster };
  }
  const hashKey = hashKeyFor(cluster.policy?.loadBalancer, { headers: {}, path: '/', sourceIp: ctx.sourceIp });
  const ep = cluster.pick(deps.upstream.endpoints(host, port, labels), { rand: Math.random, hashKey });
  return ep === undefined ? undefined : { ep, cluster };
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
  const picked = d.allow ? endpointFor(deps, ctx) : undefined;
  if (picked === undefined) {
    tunnel.destroy();
    return;
  }
  const { ep, cluster } = picked;
  deps.agents.openTunnel(ep, cluster).then(
    (up) => {
      cluster?.report(ep, 'success');
      bridge(tunnel, up);
    },
    (err: unknown) => {
      // A connect failure is a locally originated gateway error for outlier detection.
      cluster?.report(ep, 'gateway-error');
      deps.logger.debug({ err: err instanceof Error ? err.message : String(err), endpoint: ep.ip }, 'TCP upstream connect failed');
      tunnel.destroy();
    },
  );
}
