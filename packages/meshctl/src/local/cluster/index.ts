export { LocalCluster, DEFAULT_CLUSTER, DEFAULT_NODES, type LocalClusterOptions, type UpReport } from './local-cluster';
export type { ClusterStatus } from './status';
export type { ApplyResult } from './apply';
export { ClusterError, type ClusterErrorCode } from './errors';
export { readManifestArgs, loadManifests } from './manifests';
export { findRepoRoot, bundlesIn, clusterPaths, type Bundles } from './paths';
export { ECHO_IMAGES, NETNS_ANNOTATION } from './workloads';
export { ISTIOD_GRPC_PORT } from './components';
export {
  waypointGateway,
  applyWaypointObjects,
  listWaypointObjects,
  deleteWaypointObjects,
  WAYPOINT_FOR_VALUES,
  DEFAULT_WAYPOINT_NAME,
  type WaypointFor,
  type WaypointInfo,
} from './waypoint-objects';
export { waypointPodName, waypointEnv } from './waypoint-runtime';
export { ConfigDir } from './config-dir';
