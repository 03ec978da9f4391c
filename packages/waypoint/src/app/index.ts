export { WaypointApp, CERT_WAIT_TIMEOUT_MS, type WaypointAppOptions } from './waypoint-app';
export { waypointConfig, grpcTarget, type WaypointEnv } from './config';
export { waypointFromConfig, type ConfiguredWaypoint } from './from-config';
export { createWaypointXds, waypointNodeId, type WaypointXdsOptions, type WaypointXdsSink } from './xds';
export { RootCertUnreadableError } from './errors';
