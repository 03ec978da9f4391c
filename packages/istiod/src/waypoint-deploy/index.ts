export { WaypointDeployer, WAYPOINT_FIELD_MANAGER, WAYPOINT_RESYNC_INTERVAL_MS, type WaypointDeployerOptions } from './controller';
export {
  renderWaypoint, waypointDeploymentName, waypointServicePorts, GATEWAY_NAME_LABEL, GATEWAY_CLASS_LABEL, MANAGED_LABEL,
  MESH_CONTROLLER_LABEL, NAME_OVERRIDE_ANNOTATION, SERVICE_ACCOUNT_ANNOTATION,
  type KubeManifest, type WaypointDeployOptions, type WaypointObjects,
} from './render';
