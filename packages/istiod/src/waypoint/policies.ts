import { GATEWAY_CLASS, waypoint, type AuthorizationPolicy, type Gateway, type PolicyTargetReference, type RequestAuthentication } from '@mesh/api';
import { durationMs } from './common';
import { nsOf, type CompileContext } from './context';
import type { AuthzPolicyInit, BoundService, JwtRuleInit } from './types';

/** Where a targetRefs policy lands: the whole waypoint, or some bound services (by index). */
export interface PolicyPlacement {
  readonly waypointWide: boolean;
  readonly services: readonly number[];
}

const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';
const ISTIO_NETWORKING_GROUP = 'networking.istio.io';

type TargetedPolicy = AuthorizationPolicy | RequestAuthentication;

function targetRefsOf(p: TargetedPolicy): PolicyTargetReference[] {
  return [...(p.spec.targetRefs ?? []), ...(p.spec.targetRef === undefined ? [] : [p.spec.targetRef])];
}

/**
 * Istio's waypoint attachment (A:security/v1beta1 targetRefs; ambient l4-policy docs): kind
 * Gateway naming this waypoint, Service / ServiceEntry naming a bound service, all in the policy's
 * namespace; or GatewayClass istio-waypoint from the root namespace. Selector policies are the
 * ztunnel's business and never reach a waypoint.
 */
export function placePolicy(p: TargetedPolicy, gw: Gateway, services: readonly BoundService[], ctx: CompileContext): PolicyPlacement {
  const ns = nsOf(p);
  let waypointWide = false;
  const idx = new Set<number>();
  for (const ref of targetRefsOf(p)) {
    if (ref.namespace !== undefined && ref.namespace !== ns) {
      ctx.warn(p, 'NOT_PERMITTED', `targetRef ${ref.kind} ${ref.namespace}/${ref.name} is in another namespace; Istio only allows same-namespace targets`);
      continue;
    }
    const group = ref.group ?? '';
    if (ref.kind === 'Gateway' && group === GATEWAY_API_GROUP) {
      if (ref.name === gw.metadata.name && ns === nsOf(gw)) waypointWide = true;
    } else if (ref.kind === 'GatewayClass' && group === GATEWAY_API_GROUP) {
      if (ns !== ctx.rootNamespace) ctx.warn(p, 'NOT_PERMITTED', `GatewayClass targets are only honoured from the root namespace ${ctx.rootNamespace}`);
      else if (ref.name === GATEWAY_CLASS.WAYPOINT && ref.name === gw.spec.gatewayClassName) waypointWide = true;
    } else if ((ref.kind === 'Service' && (group === '' || group === 'core')) || (ref.kind === 'ServiceEntry' && group === ISTIO_NETWORKING_GROUP)) {
      services.forEach((s, i) => {
        if ((s.kind ?? 'Service') === ref.kind && s.name === ref.name && s.namespace === ns) idx.add(i);
      });
    } else {
      ctx.warn(p, 'UNSUPPORTED_FIELD', `targetRef kind ${group || 'core'}/${ref.kind} is not supported by waypoints`);
    }
  }
  return { waypointWide, services: [...idx].sort((a, b) => a - b) };
}

const KNOWN_CONDITION_KEY = /^(request\.headers\[[^\]]+\]|source\.(ip|namespace|principal)|remote\.ip|destination\.(ip|port)|request\.auth\.(principal|audiences|presenter|claims(\[[^\]]+\])+)|connection\.sni)$/;

export function compileAuthorizationPolicy(p: AuthorizationPolicy, ctx: CompileContext): AuthzPolicyInit | undefined {
  const A = waypoint.AuthorizationPolicy_Action;
  const action = p.spec.action ?? 'ALLOW';
  if (action === 'CUSTOM') {
    ctx.warn(p, 'UNSUPPORTED_FIELD', 'CUSTOM (ext-authz) policies are not supported by this waypoint; policy skipped');
    return undefined;
  }
  const ns = nsOf(p);
  const rules = (p.spec.rules ?? []).map((r, i) => {
    for (const w of r.when ?? []) {
      if (!KNOWN_CONDITION_KEY.test(w.key)) ctx.warn(p, 'UNSUPPORTED_FIELD', `rules[${i}].when key ${JSON.stringify(w.key)} is not supported; it fails closed`);
    }
    return {
      from: (r.from ?? []).map((f) => ({ ...f.source })),
      to: (r.to ?? []).map((t) => ({ ...t.operation })),
      when: (r.when ?? []).map((w) => ({ key: w.key, values: w.values ?? [], notValues: w.notValues ?? [] })),
    };
  });
  return {
    name: `${ns}/${p.metadata.name}`,
    namespace: ns,
    action: action === 'DENY' ? A.DENY : action === 'AUDIT' ? A.AUDIT : A.ALLOW,
    rules,
    source: { kind: 'AuthorizationPolicy', namespace: ns, name: p.metadata.name },
  };
}

export function compileJwtRules(ra: RequestAuthentication, ctx: CompileContext): JwtRuleInit[] {
  const ns = nsOf(ra);
  return (ra.spec.jwtRules ?? []).map((r, i) => {
    const timeout = durationMs(r.timeout, (m) => ctx.warn(ra, 'INVALID_VALUE', `jwtRules[${i}].${m}`), 'timeout');
    if (r.issuer === undefined || r.issuer === '') ctx.warn(ra, 'INVALID_VALUE', `jwtRules[${i}] has no issuer`);
    // Istio's token locations when none are given: "Authorization: Bearer <token>" and the
    // access_token query parameter. Written out so the compiled rule shows where tokens come from.
    const noLocation = (r.fromHeaders ?? []).length === 0 && (r.fromParams ?? []).length === 0 && (r.fromCookies ?? []).length === 0;
    return {
      issuer: r.issuer ?? '',
      audiences: r.audiences ?? [],
      jwksUri: r.jwksUri ?? '',
      jwks: r.jwks ?? '',
      fromHeaders: noLocation ? [{ name: 'authorization', prefix: 'Bearer ' }] : (r.fromHeaders ?? []).map((h) => ({ name: h.name.toLowerCase(), prefix: h.prefix ?? '' })),
      fromParams: noLocation ? ['access_token'] : r.fromParams ?? [],
      fromCookies: r.fromCookies ?? [],
      forwardOriginalToken: r.forwardOriginalToken ?? false,
      outputPayloadToHeader: r.outputPayloadToHeader ?? '',
      outputClaimToHeaders: (r.outputClaimToHeaders ?? []).map((c) => ({ header: c.header, claim: c.claim })),
      jwksFetchTimeoutMs: timeout,
      source: { kind: 'RequestAuthentication', namespace: ns, name: ra.metadata.name, index: i },
    };
  });
}
