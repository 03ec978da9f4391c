import { create, waypoint, type MessageInitShape } from '@mesh/api';
import type { AuthzRequest } from './request';

export type PolicyInit = MessageInitShape<typeof waypoint.AuthorizationPolicySchema>;

export function policy(init: PolicyInit): waypoint.AuthorizationPolicy {
  return create(waypoint.AuthorizationPolicySchema, init);
}

export const { ALLOW, DENY, AUDIT } = waypoint.AuthorizationPolicy_Action;

export function authzRequest(over: Partial<AuthzRequest> = {}): AuthzRequest {
  return {
    method: 'GET',
    path: '/',
    authority: 'svc.ns.svc.cluster.local:8080',
    headers: {},
    port: 8080,
    sourcePrincipal: 'spiffe://cluster.local/ns/client-ns/sa/client',
    sourceIp: '10.0.0.5',
    ...over,
  };
}
