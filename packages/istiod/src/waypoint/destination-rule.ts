import { tryParseDuration, waypoint, type ClientTLSSettings, type ConnectionPoolSettings, type DestinationRule, type LoadBalancerSettings, type PortTrafficPolicy, type TrafficPolicy } from '@mesh/api';
import { byAge, guarded, nsOf, type CompileContext } from './context';
import { hostMatches, resolveHost } from './hosts';
import type { TrafficPolicyInit } from './types';

// Istio's documented OutlierDetection defaults (networking.istio.io DestinationRule reference).
const OUTLIER_DEFAULT_CONSECUTIVE_5XX = 5;
const OUTLIER_DEFAULT_INTERVAL_MS = 10_000;
const OUTLIER_DEFAULT_BASE_EJECTION_MS = 30_000;
const OUTLIER_DEFAULT_MAX_EJECTION_PERCENT = 10;

export interface DestinationRuleIndex {
  /** host -> subset -> labels. */
  subsetLabels(host: string, subset: string): Record<string, string> | undefined;
  readonly trafficPolicies: TrafficPolicyInit[];
}

type Fields = Omit<PortTrafficPolicy, 'port'>;

/**
 * The policy a (subset) TrafficPolicy gives one port. A matching portLevelSettings entry replaces the
 * four port-scoped fields wholesale: unset ones fall back to the defaults, not to the enclosing policy
 * ("port-level settings will override the destination-level settings ... default values will be applied
 * to fields omitted", I:pilot/pkg/networking/util/util.go GetPortLevelTrafficPolicy).
 */
function atPort(tp: TrafficPolicy | undefined, port: number): { fields: Fields | undefined; portLevel: boolean } {
  const p = port === 0 ? undefined : tp?.portLevelSettings?.find((x) => x.port?.number === port);
  if (p !== undefined) return { fields: { loadBalancer: p.loadBalancer, connectionPool: p.connectionPool, outlierDetection: p.outlierDetection, tls: p.tls }, portLevel: true };
  return { fields: tp, portLevel: false };
}

/**
 * Istio's MergeSubsetTrafficPolicy: the DestinationRule's policy at this port, then each field the subset
 * sets replaces it; a subset port-level entry replaces all four (I:pilot/pkg/networking/util/util.go).
 */
function effective(top: TrafficPolicy | undefined, subset: TrafficPolicy | undefined, port: number): Fields {
  const base = atPort(top, port).fields ?? {};
  if (subset === undefined) return base;
  const s = atPort(subset, port);
  const f = s.fields ?? {};
  if (s.portLevel) return f;
  return {
    loadBalancer: f.loadBalancer ?? base.loadBalancer,
    connectionPool: f.connectionPool ?? base.connectionPool,
    outlierDetection: f.outlierDetection ?? base.outlierDetection,
    tls: f.tls ?? base.tls,
  };
}

function ms(v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  return Math.round(tryParseDuration(v) ?? fallback);
}

function lb(s: LoadBalancerSettings | undefined, warn: (m: string) => void): TrafficPolicyInit['loadBalancer'] {
  if (s === undefined) return undefined;
  const P = waypoint.LoadBalancer_Policy;
  if (s.localityLbSetting !== undefined) warn('loadBalancer.localityLbSetting is not applied by the waypoint');
  const ch = s.consistentHash;
  if (ch !== undefined) {
    let key: NonNullable<TrafficPolicyInit['loadBalancer']>['consistentHash'] = undefined;
    if (ch.httpHeaderName !== undefined) key = { key: { case: 'header', value: ch.httpHeaderName.toLowerCase() } };
    else if (ch.httpCookie !== undefined) {
      key = { key: { case: 'cookie', value: ch.httpCookie.name }, cookiePath: ch.httpCookie.path ?? '', cookieTtlMs: ms(ch.httpCookie.ttl, 0) };
    } else if (ch.useSourceIp === true) key = { key: { case: 'sourceIp', value: true } };
    else if (ch.httpQueryParameterName !== undefined) key = { key: { case: 'queryParam', value: ch.httpQueryParameterName } };
    return { policy: P.CONSISTENT_HASH, consistentHash: key };
  }
  switch (s.simple) {
    case 'ROUND_ROBIN':
      return { policy: P.ROUND_ROBIN };
    case 'LEAST_REQUEST':
    case 'LEAST_CONN': // deprecated alias of LEAST_REQUEST in Istio
      return { policy: P.LEAST_REQUEST };
    case 'RANDOM':
      return { policy: P.RANDOM };
    case 'PASSTHROUGH':
      warn('loadBalancer.simple PASSTHROUGH is not supported by the waypoint; using the default');
      return undefined;
    default:
      return undefined;
  }
}

/**
 * connectionPool.http.h2UpgradePolicy. useClientProtocol wins over it: Istio never upgrades a cluster that
 * keeps the client's protocol (I:pilot/pkg/networking/core/cluster_traffic_policy.go shouldH2Upgrade).
 */
function h2Upgrade(http: ConnectionPoolSettings['http']): waypoint.H2UpgradePolicy {
  const H = waypoint.H2UpgradePolicy;
  if (http?.useClientProtocol === true) return H.DO_NOT_UPGRADE;
  if (http?.h2UpgradePolicy === 'UPGRADE') return H.UPGRADE;
  if (http?.h2UpgradePolicy === 'DO_NOT_UPGRADE') return H.DO_NOT_UPGRADE;
  return H.DEFAULT;
}

/** Fields the waypoint accepts but does not apply, so the operator is told rather than left guessing. */
function warnUnapplied(f: Fields, warn: (m: string) => void): void {
  const cp = f.connectionPool;
  const unapplied = [
    f.loadBalancer?.warmupDurationSecs !== undefined && 'loadBalancer.warmupDurationSecs',
    cp?.tcp?.tcpKeepalive !== undefined && 'connectionPool.tcp.tcpKeepalive',
    cp?.tcp?.maxConnectionDuration !== undefined && 'connectionPool.tcp.maxConnectionDuration',
    cp?.tcp?.idleTimeout !== undefined && 'connectionPool.tcp.idleTimeout',
    cp?.http?.maxConcurrentStreams !== undefined && 'connectionPool.http.maxConcurrentStreams',
    f.outlierDetection?.splitExternalLocalOriginErrors !== undefined && 'outlierDetection.splitExternalLocalOriginErrors',
    f.outlierDetection?.consecutiveLocalOriginFailures !== undefined && 'outlierDetection.consecutiveLocalOriginFailures',
  ].filter((x): x is string => x !== false);
  if (unapplied.length > 0) warn(`${unapplied.join(', ')} ${unapplied.length === 1 ? 'is' : 'are'} not applied by the waypoint`);
}

const TLS_MODES: Readonly<Record<string, waypoint.UpstreamTls_Mode>> = {
  DISABLE: waypoint.UpstreamTls_Mode.DISABLE,
  SIMPLE: waypoint.UpstreamTls_Mode.SIMPLE,
  MUTUAL: waypoint.UpstreamTls_Mode.MUTUAL,
  ISTIO_MUTUAL: waypoint.UpstreamTls_Mode.ISTIO_MUTUAL,
};

/**
 * trafficPolicy.tls for the waypoint's non-HBONE endpoints (HBONE endpoints keep the mesh mTLS). An unset
 * mode is DISABLE, as Istio's enum default. Invalid settings were reported by warnTls and still compile
 * as written, so the waypoint fails those connections rather than silently sending plaintext.
 */
function tlsInit(t: ClientTLSSettings | undefined): TrafficPolicyInit['tls'] {
  if (t === undefined) return undefined;
  return {
    mode: TLS_MODES[t.mode ?? 'DISABLE'] ?? waypoint.UpstreamTls_Mode.SIMPLE,
    sni: t.sni ?? '',
    subjectAltNames: [...(t.subjectAltNames ?? [])],
    caCertificates: t.caCertificates ?? '',
    clientCertificate: t.clientCertificate ?? '',
    privateKey: t.privateKey ?? '',
    insecureSkipVerify: t.insecureSkipVerify === true,
  };
}

type TlsWarn = (code: 'UNSUPPORTED_FIELD' | 'INVALID_VALUE', m: string) => void;

/** What the waypoint cannot do with one tls block (`at` names it, e.g. subsets[v1].trafficPolicy.tls). */
function warnTls(t: ClientTLSSettings, at: string, warn: TlsWarn): void {
  const mode = t.mode ?? 'DISABLE';
  if (TLS_MODES[mode] === undefined) {
    warn('INVALID_VALUE', `${at}.mode ${String(mode)} is not a TLS mode (DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL); treated as SIMPLE`);
    return;
  }
  if (mode === 'DISABLE' || mode === 'ISTIO_MUTUAL') return;
  const hasCredential = t.credentialName !== undefined && t.credentialName !== '';
  if (hasCredential) {
    warn('UNSUPPORTED_FIELD', `${at}.credentialName is not applied by the waypoint (it loads no Secrets): mount the files in the waypoint pod and set caCertificates${mode === 'MUTUAL' ? ', clientCertificate and privateKey' : ''}; until then the system CAs verify the server${mode === 'MUTUAL' ? ' and no client certificate is sent' : ''}`);
  }
  if (mode === 'MUTUAL' && !hasCredential) {
    const missing = [!t.clientCertificate && 'clientCertificate', !t.privateKey && 'privateKey'].filter((x): x is string => x !== false);
    if (missing.length > 0) warn('INVALID_VALUE', `${at}: mode MUTUAL needs ${missing.join(' and ')}; connections to this destination fail until it is fixed`);
  }
}

/** Every tls block of the rule, named by its path in the spec. */
function tlsBlocks(dr: DestinationRule): { at: string; tls: ClientTLSSettings }[] {
  const out: { at: string; tls: ClientTLSSettings }[] = [];
  const walk = (tp: TrafficPolicy | undefined, at: string): void => {
    if (tp?.tls !== undefined) out.push({ at: `${at}.tls`, tls: tp.tls });
    for (const p of tp?.portLevelSettings ?? []) if (p.tls !== undefined) out.push({ at: `${at}.portLevelSettings[port ${p.port?.number ?? '?'}].tls`, tls: p.tls });
  };
  walk(dr.spec.trafficPolicy, 'trafficPolicy');
  for (const s of dr.spec.subsets ?? []) walk(s.trafficPolicy, `subsets[${s.name}].trafficPolicy`);
  return out;
}

function toInit(host: string, subset: string, port: number, f: Fields, source: TrafficPolicyInit['source'], warn: (m: string) => void): TrafficPolicyInit {
  const cp = f.connectionPool;
  const od = f.outlierDetection;
  warnUnapplied(f, warn);
  return {
    host,
    subset,
    port,
    source,
    loadBalancer: lb(f.loadBalancer, warn),
    tls: tlsInit(f.tls),
    connectionPool:
      cp === undefined
        ? undefined
        : {
            maxConnections: cp.tcp?.maxConnections ?? 0,
            connectTimeoutMs: ms(cp.tcp?.connectTimeout, 0),
            maxPendingRequests: cp.http?.http1MaxPendingRequests ?? 0,
            maxRequests: cp.http?.http2MaxRequests ?? 0,
            maxRequestsPerConnection: cp.http?.maxRequestsPerConnection ?? 0,
            maxRetries: cp.http?.maxRetries ?? 0,
            idleTimeoutMs: ms(cp.http?.idleTimeout, 0),
            h2UpgradePolicy: h2Upgrade(cp.http),
          },
    outlierDetection:
      od === undefined
        ? undefined
        : {
            consecutive5xx: od.consecutive5xxErrors ?? OUTLIER_DEFAULT_CONSECUTIVE_5XX,
            consecutiveGatewayErrors: od.consecutiveGatewayErrors ?? 0,
            intervalMs: ms(od.interval, OUTLIER_DEFAULT_INTERVAL_MS),
            baseEjectionTimeMs: ms(od.baseEjectionTime, OUTLIER_DEFAULT_BASE_EJECTION_MS),
            maxEjectionPercent: od.maxEjectionPercent ?? OUTLIER_DEFAULT_MAX_EJECTION_PERCENT,
            minHealthPercent: od.minHealthPercent ?? 0,
          },
  };
}

function portsOf(dr: DestinationRule): number[] {
  const ports = new Set<number>();
  const add = (tp: TrafficPolicy | undefined) => tp?.portLevelSettings?.forEach((p) => p.port?.number !== undefined && ports.add(p.port.number));
  add(dr.spec.trafficPolicy);
  for (const s of dr.spec.subsets ?? []) add(s.trafficPolicy);
  return [...ports];
}

/** Expands one DestinationRule into fully merged (host, subset, port) entries. */
function compileOne(dr: DestinationRule, host: string, ctx: CompileContext, out: TrafficPolicyInit[]): void {
  const warn = (m: string) => ctx.warn(dr, 'UNSUPPORTED_FIELD', m);
  const top = dr.spec.trafficPolicy ?? {};
  for (const b of tlsBlocks(dr)) warnTls(b.tls, b.at, (code, m) => ctx.warn(dr, code, m));
  if (top.tunnel !== undefined || top.proxyProtocol !== undefined) warn('trafficPolicy.tunnel/proxyProtocol are not applied by the waypoint');
  const ports = portsOf(dr);
  const subsets: { name: string; tp: TrafficPolicy | undefined; index: number | undefined }[] = [{ name: '', tp: undefined, index: undefined }];
  (dr.spec.subsets ?? []).forEach((s, i) => subsets.push({ name: s.name, tp: s.trafficPolicy, index: i }));
  for (const s of subsets) {
    const source = { kind: 'DestinationRule', namespace: nsOf(dr), name: dr.metadata.name, index: s.index };
    for (const port of [0, ...ports]) {
      const f = effective(top, s.tp, port);
      // A port entry is kept even when empty: it shadows the port-0 entry the waypoint would fall back to.
      if (port === 0 && f.loadBalancer === undefined && f.connectionPool === undefined && f.outlierDetection === undefined && f.tls === undefined) continue;
      out.push(toInit(host, s.name, port, f, source, port === 0 && s.name === '' ? warn : () => undefined));
    }
  }
}

/**
 * Picks one DestinationRule per host the way Istio looks them up for a proxy: the waypoint's
 * namespace first, then the host's own namespace, then the root namespace, then any other
 * namespace exporting it; within one namespace the oldest wins.
 */
export function indexDestinationRules(drs: readonly DestinationRule[], ctx: CompileContext): DestinationRuleIndex {
  const rank = (dr: DestinationRule, host: string): number => {
    const ns = nsOf(dr);
    if (ns === ctx.waypointNamespace) return 0;
    if (host.split('.')[1] === ns) return 1;
    if (ns === ctx.rootNamespace) return 2;
    return 3;
  };
  const byHost = new Map<string, DestinationRule[]>();
  for (const dr of drs) guarded(ctx, dr, undefined, () => addRule(dr));
  function addRule(dr: DestinationRule): void {
    if (dr.spec.workloadSelector !== undefined) {
      ctx.warn(dr, 'UNSUPPORTED_FIELD', 'DestinationRules with workloadSelector do not apply to waypoints; skipped');
      return;
    }
    const exportTo = dr.spec.exportTo ?? ['*'];
    const visible = exportTo.includes('*') || exportTo.includes(ctx.waypointNamespace) || (exportTo.includes('.') && nsOf(dr) === ctx.waypointNamespace);
    if (!visible) return;
    const host = resolveHost(dr.spec.host, nsOf(dr), ctx.domainSuffix);
    const list = byHost.get(host) ?? [];
    list.push(dr);
    byHost.set(host, list);
  }
  const chosen = new Map<string, DestinationRule>();
  for (const [host, list] of byHost) {
    list.sort((a, b) => rank(a, host) - rank(b, host) || byAge(a, b));
    chosen.set(host, list[0]!);
    for (const other of list.slice(1)) ctx.warn(other, 'SHADOWED', `another DestinationRule (${nsOf(list[0]!)}/${list[0]!.metadata.name}) already applies to host ${host}`);
  }
  const trafficPolicies: TrafficPolicyInit[] = [];
  for (const [host, dr] of chosen) guarded(ctx, dr, undefined, () => compileOne(dr, host, ctx, trafficPolicies));
  // Wildcard DestinationRule hosts ("*.ns.svc.cluster.local") cover services an exact one does not;
  // the longest matching suffix wins, as Istio's most-specific host lookup.
  const wildcards = [...chosen.keys()].filter((h) => h.startsWith('*')).sort((a, b) => b.length - a.length);
  const lookup = (host: string): DestinationRule | undefined => {
    const exact = chosen.get(host);
    if (exact !== undefined) return exact;
    const w = wildcards.find((p) => hostMatches(p, host));
    return w === undefined ? undefined : chosen.get(w);
  };
  return {
    trafficPolicies,
    subsetLabels(host, subset) {
      const dr = lookup(host);
      const s = dr?.spec.subsets?.find((x) => x.name === subset);
      return s === undefined ? undefined : { ...(s.labels ?? {}) };
    },
  };
}
