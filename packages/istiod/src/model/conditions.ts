/**
 * Status the index wants written back (Kubernetes mode) or shown (debug endpoints): one entry per object
 * and condition. Mirrors the reasons Istio reports for waypoint bindings and ztunnel policy conversion.
 */
export interface StatusCondition {
  /** `Kind namespace/name` of the object the condition belongs to. */
  readonly resource: string;
  readonly type: 'WaypointBound' | 'ZtunnelAccepted';
  readonly status: 'True' | 'False';
  readonly reason: string;
  readonly message: string;
}
