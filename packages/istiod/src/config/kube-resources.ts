import type { ResourceKey } from '@mesh/api';

/** One watched resource type: where it lives in the API and the ResourceTypes key it maps to. */
export interface WatchedResource {
  readonly key: ResourceKey;
  /** apiVersion to stamp on list items (the API server omits apiVersion/kind on items of a list). */
  readonly apiVersion: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

function r(key: ResourceKey, apiVersion: string, plural: string, namespaced = true): WatchedResource {
  const kind = key.includes('/') ? key.slice(key.indexOf('/') + 1) : key;
  return { key, apiVersion, kind, plural, namespaced };
}

/**
 * What istiod watches (Istio's ambient index reads the same kinds; see pilot/pkg/serviceregistry/ambient
 * ambientindex.go). Istio networking/security/telemetry at v1, Gateway API at v1 (ReferenceGrant is still
 * served as v1beta1 by the standard channel).
 */
export const WATCHED_RESOURCES: readonly WatchedResource[] = [
  r('Namespace', 'v1', 'namespaces', false),
  r('Pod', 'v1', 'pods'),
  r('Service', 'v1', 'services'),
  r('discovery.k8s.io/EndpointSlice', 'discovery.k8s.io/v1', 'endpointslices'),
  r('ServiceAccount', 'v1', 'serviceaccounts'),
  r('Node', 'v1', 'nodes', false),
  r('Secret', 'v1', 'secrets'),
  r('ConfigMap', 'v1', 'configmaps'),
  r('networking.istio.io/VirtualService', 'networking.istio.io/v1', 'virtualservices'),
  r('networking.istio.io/DestinationRule', 'networking.istio.io/v1', 'destinationrules'),
  r('networking.istio.io/ServiceEntry', 'networking.istio.io/v1', 'serviceentries'),
  r('networking.istio.io/WorkloadEntry', 'networking.istio.io/v1', 'workloadentries'),
  r('networking.istio.io/Gateway', 'networking.istio.io/v1', 'gateways'),
  r('security.istio.io/AuthorizationPolicy', 'security.istio.io/v1', 'authorizationpolicies'),
  r('security.istio.io/PeerAuthentication', 'security.istio.io/v1', 'peerauthentications'),
  r('security.istio.io/RequestAuthentication', 'security.istio.io/v1', 'requestauthentications'),
  r('telemetry.istio.io/Telemetry', 'telemetry.istio.io/v1', 'telemetries'),
  r('gateway.networking.k8s.io/GatewayClass', 'gateway.networking.k8s.io/v1', 'gatewayclasses', false),
  r('gateway.networking.k8s.io/Gateway', 'gateway.networking.k8s.io/v1', 'gateways'),
  r('gateway.networking.k8s.io/HTTPRoute', 'gateway.networking.k8s.io/v1', 'httproutes'),
  r('gateway.networking.k8s.io/GRPCRoute', 'gateway.networking.k8s.io/v1', 'grpcroutes'),
  r('gateway.networking.k8s.io/ReferenceGrant', 'gateway.networking.k8s.io/v1beta1', 'referencegrants'),
];

/** Collection path across all namespaces: `/api/v1/pods`, `/apis/security.istio.io/v1/authorizationpolicies`. */
export function collectionPath(res: WatchedResource): string {
  return res.apiVersion.includes('/') ? `/apis/${res.apiVersion}/${res.plural}` : `/api/${res.apiVersion}/${res.plural}`;
}
