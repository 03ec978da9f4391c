// Errors of the outbound/inbound decisions, named after ztunnel's `proxy::Error` variants (Z:src/proxy.rs).
// Inbound ones carry the HTTP status ztunnel answers the CONNECT with (Z:src/proxy/inbound.rs).
import { defineMeshError } from '@mesh/core';

export const SelfCallError = defineMeshError(
  'PROXY_SELF_CALL',
  'SelfCallError',
  (d: { ip: string; port: number }) =>
    `refusing to proxy to ${d.ip}:${d.port}: it is one of ztunnel's own ports (15001/15006/15008) on this pod, ` +
    `which would loop; check the application is not configured to dial ztunnel's ports`,
);

export const NoHealthyUpstreamError = defineMeshError(
  'PROXY_NO_HEALTHY_UPSTREAM',
  'NoHealthyUpstreamError',
  (d: { service: string; port: number }) =>
    `service ${d.service} has no healthy endpoint for port ${d.port}; check the Service's selector, that its ` +
    `pods are Ready, and that the port exists on the Service`,
);

export const UnknownWaypointError = defineMeshError(
  'PROXY_UNKNOWN_WAYPOINT',
  'UnknownWaypointError',
  (d: { waypoint: string; reason: string }) =>
    `waypoint ${d.waypoint} could not be resolved (${d.reason}); check the waypoint Gateway is programmed and ` +
    `its pods are running (kubectl get gateway -A)`,
);

export const NoValidDestinationError = defineMeshError(
  'PROXY_NO_VALID_DESTINATION',
  'NoValidDestinationError',
  (d: { workload: string; reason: string }) => `workload ${d.workload} cannot be reached: ${d.reason}`,
);

export const CrossNetworkUnsupportedError = defineMeshError(
  'PROXY_CROSS_NETWORK_UNSUPPORTED',
  'CrossNetworkUnsupportedError',
  (d: { workload: string; network: string }) =>
    `destination ${d.workload} is on network ${JSON.stringify(d.network)}; multi-network (double HBONE via an ` +
    `east-west gateway) is not supported by this ztunnel`,
);

export const BadAuthorityError = defineMeshError(
  'INBOUND_BAD_AUTHORITY',
  'BadAuthorityError',
  (d: { authority: string }) => `HBONE CONNECT authority ${JSON.stringify(d.authority)} is not host:port or ip:port`,
);

export const IpMismatchError = defineMeshError(
  'INBOUND_IP_MISMATCH',
  'IpMismatchError',
  (d: { localIp: string; authorityIp: string }) =>
    `HBONE target ${d.authorityIp} does not match the connection's destination ${d.localIp}, and this workload is ` +
    `not the target's waypoint; check the client's routing (or the waypoint binding of the target)`,
);

export const NoPortForServiceError = defineMeshError(
  'INBOUND_NO_PORT_FOR_SERVICE',
  'NoPortForServiceError',
  (d: { hostname: string; port: number }) =>
    `service ${d.hostname} has no target port for port ${d.port} on this workload; check the Service's ports`,
);

export const UnknownHostnameError = defineMeshError(
  'INBOUND_UNKNOWN_HOSTNAME',
  'UnknownHostnameError',
  (d: { hostname: string }) => `no service with hostname ${d.hostname} is known; check it exists and istiod pushed it`,
);
