import type {
  AuthorizationPolicy,
  DestinationRule,
  Gateway,
  GRPCRoute,
  HTTPRoute,
  MessageInitShape,
  RequestAuthentication,
  VirtualService,
  waypoint,
} from '@mesh/api';

export interface BoundServicePort {
  readonly port: number;
  readonly targetPort?: number;
  readonly name?: string;
  /** Istio protocol (HTTP, HTTP2, GRPC, TCP ...). */
  readonly protocol?: string;
}

/** A Service (or ServiceEntry) bound to the waypoint with istio.io/use-waypoint. */
export interface BoundService {
  readonly kind?: 'Service' | 'ServiceEntry';
  readonly name: string;
  readonly namespace: string;
  /** FQDN, e.g. reviews.default.svc.cluster.local. */
  readonly hostname: string;
  readonly vips: readonly string[];
  readonly ports: readonly BoundServicePort[];
}

export interface CompileWaypointInput {
  readonly waypoint: Gateway;
  readonly services: readonly BoundService[];
  readonly virtualServices?: readonly VirtualService[];
  readonly destinationRules?: readonly DestinationRule[];
  readonly httpRoutes?: readonly HTTPRoute[];
  readonly grpcRoutes?: readonly GRPCRoute[];
  readonly authorizationPolicies?: readonly AuthorizationPolicy[];
  readonly requestAuthentications?: readonly RequestAuthentication[];
  /** Istio root namespace (meshConfig.rootNamespace); default istio-system. */
  readonly rootNamespace?: string;
  /** Cluster domain suffix; default cluster.local. */
  readonly domainSuffix?: string;
  /** meshConfig.h2UpgradePolicy; default DO_NOT_UPGRADE, as Istio. */
  readonly meshH2UpgradePolicy?: MeshH2UpgradePolicy;
}

export type MeshH2UpgradePolicy = 'DO_NOT_UPGRADE' | 'UPGRADE';

export type WaypointWarningCode =
  | 'UNSUPPORTED_FIELD'
  | 'UNRESOLVED_REFERENCE'
  | 'INVALID_VALUE'
  | 'SHADOWED'
  | 'NOT_PERMITTED'
  | 'COMPILE_ERROR';

/** Something in the input that was skipped or approximated; compilation never fails on input. */
export interface WaypointWarning {
  readonly code: WaypointWarningCode;
  /** "<Kind> <namespace>/<name>". */
  readonly resource: string;
  readonly message: string;
}

export interface CompileWaypointResult {
  readonly config: waypoint.WaypointConfig;
  readonly warnings: readonly WaypointWarning[];
}

export type RouteInit = MessageInitShape<typeof waypoint.RouteSchema>;
export type RouteMatchInit = MessageInitShape<typeof waypoint.RouteMatchSchema>;
export type HeaderOpsInit = MessageInitShape<typeof waypoint.HeaderOpsSchema>;
export type BackendInit = MessageInitShape<typeof waypoint.WeightedBackendSchema>;
export type TrafficPolicyInit = MessageInitShape<typeof waypoint.TrafficPolicySchema>;
export type AuthzPolicyInit = MessageInitShape<typeof waypoint.AuthorizationPolicySchema>;
export type JwtRuleInit = MessageInitShape<typeof waypoint.JwtRuleSchema>;
export type SourceInit = MessageInitShape<typeof waypoint.SourceSchema>;
