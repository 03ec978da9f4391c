// Which HTTP version the waypoint speaks upstream once DestinationRule h2UpgradePolicy and the mesh default
// are taken into account. Istio applies shouldH2Upgrade to waypoint inbound-vip clusters as to sidecar
// outbound ones (I:pilot/pkg/networking/core/cluster_waypoint.go, cluster_traffic_policy.go).
import { waypoint } from '@mesh/api';

export type HttpVersion = 'http1' | 'http2';

/**
 * `declared` is what the port's protocol or name says (undefined: not declared, i.e. sniffed). HTTP2/GRPC
 * ports always use HTTP/2. Otherwise, as Istio's shouldH2Upgrade: a DestinationRule UPGRADE upgrades even an
 * undeclared port ("the user is sure it is HTTP"), its DO_NOT_UPGRADE never does, and only then does the
 * mesh default UPGRADE apply, to ports declared HTTP only (sniffed ports keep the client's protocol).
 */
export function chooseHttpVersion(declared: HttpVersion | undefined, rule: waypoint.H2UpgradePolicy | undefined, mesh: waypoint.H2UpgradePolicy): HttpVersion {
  const H = waypoint.H2UpgradePolicy;
  if (declared === 'http2' || rule === H.UPGRADE) return 'http2';
  if (rule === H.DO_NOT_UPGRADE || declared === undefined) return 'http1';
  return mesh === H.UPGRADE ? 'http2' : 'http1';
}
