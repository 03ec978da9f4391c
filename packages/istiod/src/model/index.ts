export { AmbientIndex, INDEXED_KINDS } from './ambient-index';
export { DEFAULT_MESH_OPTIONS, type MeshOptions } from './options';
export type { StatusCondition } from './conditions';
export { convertAuthorizationPolicy, type ConvertedPolicy } from './authorization';
export {
  convertPeerAuthentication,
  effectivePeerAuthenticationKeys,
  staticStrictPolicy,
  STATIC_STRICT_POLICY_NAME,
  CONVERTED_PEER_AUTHENTICATION_PREFIX,
} from './peer-authentication';
export { serviceFromKube, servicesFromServiceEntry, type ServiceInfo } from './services';
export { workloadFromPod, workloadFromWorkloadEntry, podUid, workloadEntryUid } from './workloads';
export { waypointFromGateway, resolveWaypoint, type Waypoint, HBONE_MTLS_PORT } from './waypoints';
export { WaypointConfigs, boundService, DEFAULT_WAYPOINT_COMPILE_DEBOUNCE_MS, type WaypointConfigsOptions } from './waypoint-configs';
