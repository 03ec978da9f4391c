export { KubeClient, KubeApiError, KUBE_REQUEST_TIMEOUT_MS, type KubeTarget } from './client';
export { KubeWaypoints, WAYPOINT_WAIT_TIMEOUT_MS, type KubeWaypointInfo } from './waypoints';
