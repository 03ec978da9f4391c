import type { DescMessage } from '@bufbuild/protobuf';
import { AddressSchema, WorkloadSchema } from '../gen/istio/workload/workload_pb';
import { AuthorizationSchema } from '../gen/istio/security/authorization_pb';
import { WaypointConfigSchema } from '../gen/mesh/waypoint/v1/waypoint_pb';

/** Prefix every xDS type URL and packed Any uses (Envoy and Istio both use it). */
export const TYPE_URL_PREFIX = 'type.googleapis.com/';

/** `type.googleapis.com/<fully qualified message name>` for a message schema. */
export function typeUrl(schema: DescMessage): string {
  return TYPE_URL_PREFIX + schema.typeName;
}

/** The fully qualified message name inside a type URL (text after the last '/'), as protobuf Any does. */
export function typeNameFromUrl(url: string): string {
  return url.slice(url.lastIndexOf('/') + 1);
}

/** Workloads and Services, the type ztunnel subscribes to (ztunnel src/xds/types.rs). */
export const ADDRESS_TYPE_URL = typeUrl(AddressSchema);
/** L4 authorization policies for ztunnel. */
export const AUTHORIZATION_TYPE_URL = typeUrl(AuthorizationSchema);
/** Legacy workload-only type istiod still serves. */
export const WORKLOAD_TYPE_URL = typeUrl(WorkloadSchema);
/** This project's own waypoint L7 config, served over the same delta ADS stream. */
export const WAYPOINT_CONFIG_TYPE_URL = typeUrl(WaypointConfigSchema);
