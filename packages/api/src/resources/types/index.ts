import type {
  ConfigMap,
  Deployment,
  EndpointSlice,
  Namespace,
  Node,
  Pod,
  Secret,
  Service,
  ServiceAccount,
} from './core';
import type { Gateway, GatewayClass, GRPCRoute, HTTPRoute, ReferenceGrant } from './gateway-api';
import type { DestinationRule, IstioGateway, ServiceEntry, VirtualService, WorkloadEntry } from './istio-networking';
import type { AuthorizationPolicy, PeerAuthentication, RequestAuthentication } from './istio-security';
import type { Telemetry } from './istio-telemetry';

export type * from './core';
export type * from './gateway-api';
export type * from './istio-common';
export type * from './istio-networking';
export type * from './istio-security';
export type * from './istio-telemetry';
export type * from './meta';

/** Every supported kind by `group/Kind` key (`Kind` alone for the core group). */
export interface ResourceTypes {
  'networking.istio.io/VirtualService': VirtualService;
  'networking.istio.io/DestinationRule': DestinationRule;
  'networking.istio.io/ServiceEntry': ServiceEntry;
  'networking.istio.io/WorkloadEntry': WorkloadEntry;
  'networking.istio.io/Gateway': IstioGateway;
  'security.istio.io/AuthorizationPolicy': AuthorizationPolicy;
  'security.istio.io/PeerAuthentication': PeerAuthentication;
  'security.istio.io/RequestAuthentication': RequestAuthentication;
  'telemetry.istio.io/Telemetry': Telemetry;
  'gateway.networking.k8s.io/GatewayClass': GatewayClass;
  'gateway.networking.k8s.io/Gateway': Gateway;
  'gateway.networking.k8s.io/HTTPRoute': HTTPRoute;
  'gateway.networking.k8s.io/GRPCRoute': GRPCRoute;
  'gateway.networking.k8s.io/ReferenceGrant': ReferenceGrant;
  Namespace: Namespace;
  Pod: Pod;
  Service: Service;
  'discovery.k8s.io/EndpointSlice': EndpointSlice;
  ServiceAccount: ServiceAccount;
  Node: Node;
  Secret: Secret;
  ConfigMap: ConfigMap;
  'apps/Deployment': Deployment;
}

export type ResourceKey = keyof ResourceTypes;
export type MeshResource = ResourceTypes[ResourceKey];
