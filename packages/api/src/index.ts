// Public entry of @mesh/api.
//
// Every proto package is exported as a namespace (the packages reuse names such as Address, Port, Scope):
//   workload  istio.workload           Address, Workload, Service, GatewayAddress, ...
//   security  istio.security           Authorization, Group, Rules, Match, StringMatch, ...
//   zds       istio.workload.zds       ZdsHello, WorkloadRequest, WorkloadResponse, ...
//   ca        istio.v1.auth            IstioCertificateRequest/Response, IstioCertificateService
//   discovery envoy.service.discovery.v3  Delta/DiscoveryRequest/Response, Resource, AggregatedDiscoveryService
//   envoyCore envoy.config.core.v3     Node, Locality, Metadata, ControlPlane
//   rpc       google.rpc               Status
//   waypoint  mesh.waypoint.v1         WaypointConfig (this project's own type)
// The most used ones are also exported flat below.
export * as workload from './gen/istio/workload/workload_pb';
export * as security from './gen/istio/security/authorization_pb';
export * as zds from './gen/istio/workload/zds/zds_pb';
export * as ca from './gen/istio/v1/auth/ca_pb';
export * as discovery from './protos/discovery';
export * as envoyCore from './gen/envoy/config/core/v3/base_pb';
export * as rpc from './gen/google/rpc/status_pb';
export * as waypoint from './gen/mesh/waypoint/v1/waypoint_pb';

export {
  type Address,
  AddressSchema,
  type Workload,
  WorkloadSchema,
  ServiceSchema,
} from './gen/istio/workload/workload_pb';
// The istio.workload.Service *type* is only exported as `workload.Service`: the flat name `Service`
// belongs to the Kubernetes Service model in ./resources.
export { type Authorization, AuthorizationSchema } from './gen/istio/security/authorization_pb';
export {
  type WorkloadRequest,
  WorkloadRequestSchema,
  type WorkloadResponse,
  WorkloadResponseSchema,
  type ZdsHello,
  ZdsHelloSchema,
} from './gen/istio/workload/zds/zds_pb';
export {
  type IstioCertificateRequest,
  IstioCertificateRequestSchema,
  type IstioCertificateResponse,
  IstioCertificateResponseSchema,
  IstioCertificateService,
} from './gen/istio/v1/auth/ca_pb';
export {
  type DeltaDiscoveryRequest,
  DeltaDiscoveryRequestSchema,
  type DeltaDiscoveryResponse,
  DeltaDiscoveryResponseSchema,
  type DiscoveryRequest,
  DiscoveryRequestSchema,
  type DiscoveryResponse,
  DiscoveryResponseSchema,
} from './gen/envoy/service/discovery/v3/discovery_pb';
export { AggregatedDiscoveryService } from './gen/envoy/service/discovery/v3/ads_pb';
export { type WaypointConfig, WaypointConfigSchema } from './gen/mesh/waypoint/v1/waypoint_pb';

// protobuf-es runtime, re-exported so every package uses the same copy through @mesh/api.
export { clone, create, equals, fromBinary, fromJson, isMessage, toBinary, toJson } from '@bufbuild/protobuf';
export type { DescMessage, DescService, JsonObject, JsonValue, MessageInitShape, MessageShape } from '@bufbuild/protobuf';
export * as wkt from '@bufbuild/protobuf/wkt';

export * from './xds/index';
export * from './grpc/index';
export { ApiError, type ApiErrorCode } from './errors';
export * from './resources/index';
