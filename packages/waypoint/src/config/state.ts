import { compilePolicies, type CompiledPolicies } from '../policy/compile';
import { compileService, type CompiledService } from '../route/compile';
import { chooseHttpVersion, type HttpVersion } from './h2-upgrade';
import type { JwtRule, ServiceRoutes, TrafficPolicy, WaypointConfig } from './types';

export interface ServiceEntryState {
  readonly routes: CompiledService;
  /** Waypoint-wide policies followed by the service's own (both apply, as Istio). */
  readonly policies: CompiledPolicies;
  /** Waypoint-wide RequestAuthentication rules followed by the service's own (both apply, as Istio). */
  readonly jwtRules: readonly JwtRule[];
}

/** A WaypointConfig turned into lookup tables with every engine precompiled, once per update. */
export interface WaypointState {
  readonly config: WaypointConfig;
  /** By service hostname. */
  readonly byHost: ReadonlyMap<string, ServiceEntryState>;
  /** By "<vip>:<port>" (the HBONE :authority ztunnel sends for service traffic). */
  readonly byVipPort: ReadonlyMap<string, ServiceEntryState>;
  /** Problems found while compiling (invalid regexes, CIDRs, unsupported condition keys). */
  readonly problems: readonly string[];
  /** Most specific DestinationRule policy for host/subset/port, or undefined. */
  trafficPolicy(host: string, subset: string, port: number): TrafficPolicy | undefined;
  /** Upstream HTTP version for a backend whose port declares `declared`, after h2UpgradePolicy. */
  upstreamHttpVersion(host: string, subset: string, port: number, declared: HttpVersion | undefined): HttpVersion;
}

function vipKey(vip: string, port: number): string {
  return vip.includes(':') ? `[${vip}]:${port}` : `${vip}:${port}`;
}

function entryFor(svc: ServiceRoutes, config: WaypointConfig, problems: string[]): ServiceEntryState {
  const routes = compileService(svc);
  const policies = compilePolicies([...config.policies, ...svc.policies]);
  problems.push(...routes.problems, ...policies.problems.map((p) => `${svc.hostname}: ${p}`));
  return { routes, policies, jwtRules: [...config.jwtRules, ...svc.jwtRules] };
}

function specificity(p: TrafficPolicy): number {
  return (p.subset !== '' ? 2 : 0) + (p.port !== 0 ? 1 : 0);
}

export function compileWaypointState(config: WaypointConfig): WaypointState {
  const problems: string[] = [];
  const byHost = new Map<string, ServiceEntryState>();
  const byVipPort = new Map<string, ServiceEntryState>();
  for (const svc of config.services) {
    const e = entryFor(svc, config, problems);
    byHost.set(svc.hostname, e);
    for (const vip of svc.vips) for (const p of svc.ports) byVipPort.set(vipKey(vip, p.port), e);
  }
  const policiesByHost = new Map<string, TrafficPolicy[]>();
  for (const tp of config.trafficPolicies) {
    const list = policiesByHost.get(tp.host) ?? [];
    list.push(tp);
    policiesByHost.set(tp.host, list);
  }
  for (const list of policiesByHost.values()) list.sort((a, b) => specificity(b) - specificity(a));
  // DestinationRule wildcard hosts ("*.ns.svc.cluster.local"): longest suffix first.
  const wildcards = [...policiesByHost.keys()].filter((h) => h.startsWith('*')).sort((a, b) => b.length - a.length);
  const listFor = (host: string): TrafficPolicy[] | undefined => {
    const exact = policiesByHost.get(host);
    if (exact !== undefined) return exact;
    const w = wildcards.find((p) => p === '*' || host.endsWith(p.slice(1)));
    return w === undefined ? undefined : policiesByHost.get(w);
  };
  const trafficPolicy = (host: string, subset: string, port: number): TrafficPolicy | undefined =>
    listFor(host)?.find((p) => (p.subset === '' || p.subset === subset) && (p.port === 0 || p.port === port));
  return {
    config,
    byHost,
    byVipPort,
    problems,
    trafficPolicy,
    upstreamHttpVersion(host, subset, port, declared) {
      return chooseHttpVersion(declared, trafficPolicy(host, subset, port)?.connectionPool?.h2UpgradePolicy, config.meshH2UpgradePolicy);
    },
  };
}
