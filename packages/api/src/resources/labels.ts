/**
 * Label and annotation keys the mesh reads or writes, in one place (Istio's api label/labels.yaml and
 * annotation/annotations.yaml; see the fact sheet sections 3 and 6).
 */
export const LABELS = {
  /** Pod/Namespace: `ambient` enrolls in ambient, `none` opts a pod out. */
  DATAPLANE_MODE: 'istio.io/dataplane-mode',
  /** Pod/WorkloadEntry/Service/ServiceEntry/Namespace: waypoint Gateway name, or `none`. */
  USE_WAYPOINT: 'istio.io/use-waypoint',
  /** Namespace of the waypoint named by USE_WAYPOINT when it lives elsewhere. */
  USE_WAYPOINT_NAMESPACE: 'istio.io/use-waypoint-namespace',
  /** Gateway/GatewayClass: service|workload|all|none; default service. */
  WAYPOINT_FOR: 'istio.io/waypoint-for',
  /** Service: ingress gateways send traffic through the service's waypoint. */
  INGRESS_USE_WAYPOINT: 'istio.io/ingress-use-waypoint',
  /** Pod: `http` marks a native HBONE workload (sets native_tunnel). */
  TUNNEL: 'networking.istio.io/tunnel',
  REVISION: 'istio.io/rev',
  SIDECAR_INJECT: 'sidecar.istio.io/inject',
  /** Namespace label for sidecar injection (`enabled`/`disabled`). */
  ISTIO_INJECTION: 'istio-injection',
  /** Set on resources istiod deploys for a Gateway (`istio.io-mesh-controller` for waypoints). */
  GATEWAY_MANAGED: 'gateway.istio.io/managed',
  /** Gateway API: name of the Gateway owning generated resources. */
  GATEWAY_NAME: 'gateway.networking.k8s.io/gateway-name',
  CANONICAL_NAME: 'service.istio.io/canonical-name',
  CANONICAL_REVISION: 'service.istio.io/canonical-revision',
  APP_KUBERNETES_NAME: 'app.kubernetes.io/name',
  APP_KUBERNETES_VERSION: 'app.kubernetes.io/version',
  APP: 'app',
  VERSION: 'version',
  TOPOLOGY_REGION: 'topology.kubernetes.io/region',
  TOPOLOGY_ZONE: 'topology.kubernetes.io/zone',
  /** Istio's subzone label on nodes. */
  TOPOLOGY_SUBZONE: 'topology.istio.io/subzone',
  TOPOLOGY_NETWORK: 'topology.istio.io/network',
  TOPOLOGY_CLUSTER: 'topology.istio.io/cluster',
  /** Service/EndpointSlice linkage set by the EndpointSlice controller. */
  SERVICE_NAME: 'kubernetes.io/service-name',
  HOSTNAME: 'kubernetes.io/hostname',
} as const;

export const ANNOTATIONS = {
  /** Pod: set by the CNI node agent, `enabled` once in-pod redirection is in place (`pending` on failure). */
  AMBIENT_REDIRECTION: 'ambient.istio.io/redirection',
  /** Pod: skip inbound capture (ingress gateway mode). */
  AMBIENT_BYPASS_INBOUND_CAPTURE: 'ambient.istio.io/bypass-inbound-capture',
  /** Pod: marks sidecar-injected pods; such pods are not enrolled in ambient. */
  SIDECAR_STATUS: 'sidecar.istio.io/status',
  SIDECAR_INJECT: 'sidecar.istio.io/inject',
  /** Service: namespaces the service is visible to (comma-separated, `.` = own, `*` = all). */
  SERVICE_EXPORT_TO: 'networking.istio.io/exportTo',
} as const;

export const DATAPLANE_MODE = { AMBIENT: 'ambient', NONE: 'none' } as const;
export const REDIRECTION = { ENABLED: 'enabled', PENDING: 'pending' } as const;
export const WAYPOINT_FOR = { SERVICE: 'service', WORKLOAD: 'workload', ALL: 'all', NONE: 'none' } as const;
/** Value of USE_WAYPOINT that opts out of an inherited waypoint. */
export const USE_WAYPOINT_NONE = 'none';
export const TUNNEL_HTTP = 'http';
/** GatewayClass names Istio reconciles. */
export const GATEWAY_CLASS = { WAYPOINT: 'istio-waypoint', ISTIO: 'istio', REMOTE: 'istio-remote', EAST_WEST: 'istio-east-west' } as const;
export const GATEWAY_CONTROLLER_NAME = 'istio.io/gateway-controller';
export const GATEWAY_MANAGED_WAYPOINT = 'istio.io-mesh-controller';
/** Waypoint listener: `{name: mesh, port: 15008, protocol: HBONE}`. */
export const WAYPOINT_LISTENER = { NAME: 'mesh', PROTOCOL: 'HBONE' } as const;
