// Adapters from the xDS-fed state to the data path's narrow views (Z:src/proxy.rs `ProxyInputs`): the outbound
// decision (src/proxy/decision, ztunnel's build_request order with Service VIP load balancing and waypoints),
// the inbound authority/port checks, and L4 authorization (src/rbac). Built once at start; the per-connection
// code only calls the returned functions.
import type { Workload, workload } from '@mesh/api';
import {
  decideOutbound, EndpointPicker, resolveInboundPort, serviceRef, validateInboundAuthority,
  type HboneTarget, type InboundUpstream, type ServiceRef,
} from '../proxy/decision/index';
import type { Authorizer as AuthorizeFn, InboundResolver, OutboundDecider } from '../proxy/index';
import { Authorizer } from '../rbac/index';
import { parseSpiffeUri, serviceKey, type MeshState } from '../state/index';

export interface MeshDeciderOptions {
  /** Endpoint choice for Service VIPs; ztunnel picks at random weighted by capacity. */
  picker?: EndpointPicker;
}

/** Outbound: the real decision. Typed errors (NoHealthyUpstream, SelfCall, ...) propagate to the listener. */
export function meshDecider(state: MeshState, opts: MeshDeciderOptions = {}): OutboundDecider {
  const picker = opts.picker ?? new EndpointPicker();
  return ({ source, sourceIp, destination }) =>
    decideOutbound({ sourceWorkload: source, sourceIp, originalDst: destination }, state, { picker });
}

/**
 * Inbound HBONE: validateInboundAuthority (400 IPMismatch unless hostname / application tunnel / waypoint
 * sandwich), then resolveInboundPort (hostname service port -> target port; 503 otherwise). The service for
 * metrics mirrors ztunnel's `guess_inbound_service`.
 */
export function meshInboundResolver(state: MeshState): InboundResolver {
  return ({ destination, localIp, authority }) => {
    const v = validateInboundAuthority(authority, localIp, destination, state);
    if (!v.ok) return { ok: false, status: v.status, reason: v.error.message };
    const r = resolveInboundPort(v.target, localIp, destination, state);
    if (!r.ok) return { ok: false, status: r.status, reason: r.error.message };
    const svc = guessInboundService(state, v.target, destination, r.upstream);
    return svc === undefined ? { ok: true, port: r.upstream.port } : { ok: true, port: r.upstream.port, service: svc };
  };
}

/** The addressed service (hostname authority), else the one of this workload's services mapping to the port. */
function guessInboundService(state: MeshState, target: HboneTarget, local: Workload, up: InboundUpstream): ServiceRef | undefined {
  if (target.kind === 'hostname') return up.services[0] === undefined ? undefined : serviceRef(up.services[0]);
  const maps = (svc: workload.Service): boolean => {
    const ep = state.endpointsOf(serviceKey(svc.namespace, svc.hostname)).get(local.uid);
    for (const p of ep?.ports.values() ?? []) if (p === up.port) return true;
    for (const p of state.servicePorts(svc).values()) if (p === up.port) return true;
    return false;
  };
  const svc = up.services.find(maps);
  return svc === undefined ? undefined : serviceRef(svc);
}

/** L4 authorization through the precompiled policy engine (Z:src/rbac.rs). */
export function meshAuthorizer(state: MeshState): AuthorizeFn {
  const rbac = new Authorizer(state);
  return (r) => {
    const d = rbac.authorize({
      srcIp: r.sourceIp,
      srcIdentity: r.sourceIdentity === undefined ? undefined : parseSpiffeUri(r.sourceIdentity),
      dstIp: r.destinationIp,
      dstPort: r.destinationPort,
      dstWorkload: r.destination,
    });
    return d.policy === undefined ? { allowed: d.allow } : { allowed: d.allow, reason: d.policy };
  };
}
