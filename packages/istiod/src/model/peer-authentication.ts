import { create, security, type MessageInitShape, type MutualTLSMode, type PeerAuthentication } from '@mesh/api';
import { isSubset } from './labels';

/** Names use `_`, illegal in Kubernetes names, so they never collide with user policies (Istio). */
export const STATIC_STRICT_POLICY_NAME = 'istio_converted_static_strict';
export const CONVERTED_PEER_AUTHENTICATION_PREFIX = 'converted_peer_authentication_';

type RulesInit = MessageInitShape<typeof security.RulesSchema>;
type GroupInit = MessageInitShape<typeof security.GroupSchema>;

const NOT_AUTHENTICATED = { notPrincipals: [{ matchType: { case: 'presence' as const, value: {} } }] };

type Mtls = { mode?: MutualTLSMode } | undefined;
const isUnset = (m: Mtls): boolean => m === undefined || m.mode === undefined || m.mode === 'UNSET';
const isStrict = (m: Mtls): boolean => m?.mode === 'STRICT';
const isPermissiveOrDisable = (m: Mtls): boolean => m?.mode === 'PERMISSIVE' || m?.mode === 'DISABLE';

/**
 * The DENY-unauthenticated policy Istio sends whenever any PeerAuthentication exists (policies.go
 * DefaultPolicy). Scope WORKLOAD_SELECTOR: it applies only to workloads that list it, i.e. those whose
 * effective mode is STRICT.
 */
export function staticStrictPolicy(rootNamespace: string): security.Authorization {
  return create(security.AuthorizationSchema, {
    name: STATIC_STRICT_POLICY_NAME,
    namespace: rootNamespace,
    scope: security.Scope.WORKLOAD_SELECTOR,
    action: security.Action.DENY,
    groups: [{ rules: [{ matches: [NOT_AUTHENTICATED] }] }],
  });
}

function byAge(a: PeerAuthentication, b: PeerAuthentication): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  return `${a.metadata.namespace}/${a.metadata.name}` < `${b.metadata.namespace}/${b.metadata.name}` ? -1 : 1;
}

/** getOldestPeerAuthn among the selector-less policies of one namespace (PeerAuthByNamespace index). */
export function oldestNamespacePolicy(policies: Iterable<PeerAuthentication>): PeerAuthentication | undefined {
  return [...policies].filter((p) => p.spec.selector === undefined).sort(byAge)[0];
}

/** fetchPeerAuthentications: mesh-wide ones plus those of the workload's namespace that select it. */
export function peerAuthenticationsFor(
  all: { root: Iterable<PeerAuthentication>; namespace: Iterable<PeerAuthentication> },
  labels: Readonly<Record<string, string>> | undefined,
): PeerAuthentication[] {
  const out = [...all.root].filter((p) => p.spec.selector === undefined);
  for (const p of all.namespace) {
    if (p.spec.selector === undefined || isSubset(p.spec.selector.matchLabels ?? {}, labels)) out.push(p);
  }
  return out.sort(byAge);
}

/**
 * convertedSelectorPeerAuthentications (authorization.go): which of the static STRICT policy and the
 * workload's converted port-level policy a workload references. Precedence workload > namespace > mesh;
 * UNSET inherits; oldest policy wins at each level.
 */
export function effectivePeerAuthenticationKeys(rootNamespace: string, configs: readonly PeerAuthentication[]): string[] {
  let mesh: PeerAuthentication | undefined;
  let ns: PeerAuthentication | undefined;
  let wl: PeerAuthentication | undefined;
  for (const c of [...configs].sort(byAge)) {
    const hasSelector = Object.keys(c.spec.selector?.matchLabels ?? {}).length > 0;
    if (!hasSelector) {
      if (c.metadata.namespace === rootNamespace) mesh ??= c;
      else ns ??= c;
    } else if (c.metadata.namespace !== rootNamespace) {
      wl ??= c;
    }
  }
  let strict = mesh ? isStrict(mesh.spec.mtls) : false;
  if (ns && !isUnset(ns.spec.mtls)) strict = isStrict(ns.spec.mtls);
  if (wl === undefined) return keys(rootNamespace, strict, '');
  const spec = wl.spec;
  if (isStrict(spec.mtls)) strict = true;
  if (isPermissiveOrDisable(spec.mtls)) strict = false;
  let portKey = '';
  const ports = spec.portLevelMtls;
  if (ports !== undefined) {
    const values = Object.values(ports);
    const key = `${wl.metadata.namespace}/${CONVERTED_PEER_AUTHENTICATION_PREFIX}${wl.metadata.name}`;
    if (isStrict(spec.mtls)) {
      if (values.some(isPermissiveOrDisable)) {
        portKey = key;
        strict = false; // the converted policy carries the STRICT default itself
      }
    } else if (isPermissiveOrDisable(spec.mtls)) {
      if (values.some(isStrict)) portKey = key;
    } else if (strict) {
      if (values.some((m) => m?.mode === 'PERMISSIVE')) {
        portKey = key;
        strict = false;
      }
    } else {
      strict = false;
      if (values.some(isStrict)) portKey = key;
    }
  }
  return keys(rootNamespace, strict, portKey);
}

function keys(rootNamespace: string, strict: boolean, portKey: string): string[] {
  const out = new Set<string>();
  if (strict) out.add(`${rootNamespace}/${STATIC_STRICT_POLICY_NAME}`);
  if (portKey !== '') out.add(portKey);
  return [...out].sort();
}

/**
 * convertPeerAuthentication: only a workload-selector policy outside the root namespace with port-level
 * mTLS becomes a policy; STRICT ports -> one DENY group each (unless the parent is STRICT already),
 * PERMISSIVE/DISABLE ports under an effective STRICT -> `not_destination_ports` exemptions merged with the
 * STRICT default. Ports are visited in ascending order (maps.SeqStable).
 */
export function convertPeerAuthentication(
  rootNamespace: string,
  cfg: PeerAuthentication,
  nsCfg: PeerAuthentication | undefined,
  rootCfg: PeerAuthentication | undefined,
): security.Authorization | undefined {
  const pa = cfg.spec;
  const portLevel = pa.portLevelMtls ?? {};
  if (cfg.metadata.namespace === rootNamespace || pa.selector === undefined || Object.keys(portLevel).length === 0) return undefined;
  const mode = pa.mtls?.mode ?? 'UNSET';
  const rules: RulesInit[] = [];
  const groups: GroupInit[] = [];
  if (mode === 'STRICT') rules.push({ matches: [NOT_AUTHENTICATED] });
  let foundNonStrict = false;
  const nsUnsetOrAbsent = nsCfg === undefined || isUnset(nsCfg.spec.mtls);
  const parentStrict =
    isStrict(pa.mtls) || (isUnset(pa.mtls) && nsCfg !== undefined && isStrict(nsCfg.spec.mtls)) || (nsUnsetOrAbsent && rootCfg !== undefined && isStrict(rootCfg.spec.mtls));
  const sortedPorts = Object.keys(portLevel).map(Number).filter((p) => Number.isInteger(p) && p >= 0 && p <= 65535).sort((a, b) => a - b);
  for (const port of sortedPorts) {
    const m = portLevel[String(port)];
    if (isStrict(m)) {
      if (parentStrict) continue;
      groups.push({ rules: [{ matches: [{ ...NOT_AUTHENTICATED, destinationPorts: [port] }] }] });
    } else if (isPermissiveOrDisable(m)) {
      if (mode === 'PERMISSIVE' || mode === 'DISABLE') continue;
      const effectiveNotStrict =
        mode === 'UNSET' &&
        ((nsCfg !== undefined && !isStrict(nsCfg.spec.mtls)) ||
          (nsCfg === undefined && rootCfg !== undefined && !isStrict(rootCfg.spec.mtls)) ||
          (nsCfg === undefined && rootCfg === undefined));
      if (effectiveNotStrict) continue;
      foundNonStrict = true;
      rules.push({ matches: [{ notDestinationPorts: [port] }] });
    }
  }
  if (mode === 'STRICT' && !foundNonStrict) return undefined;
  if (rules.length === 0 && groups.length === 0) return undefined;
  const mergeStrict =
    (rootCfg !== undefined && isStrict(rootCfg.spec.mtls) && (nsCfg === undefined || isUnset(nsCfg.spec.mtls) || isStrict(nsCfg.spec.mtls))) ||
    (nsCfg !== undefined && isStrict(nsCfg.spec.mtls));
  if (mergeStrict && foundNonStrict) rules.push({ matches: [NOT_AUTHENTICATED] });
  if (rules.length > 0) groups.push({ rules });
  return create(security.AuthorizationSchema, {
    name: `${CONVERTED_PEER_AUTHENTICATION_PREFIX}${cfg.metadata.name}`,
    namespace: cfg.metadata.namespace ?? '',
    scope: security.Scope.WORKLOAD_SELECTOR,
    action: security.Action.DENY,
    groups,
  });
}
