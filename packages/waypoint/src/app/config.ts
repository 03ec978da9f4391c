// Every environment variable the waypoint reads, once, with its default. Names follow pilot-agent / ztunnel
// where they exist (XDS_ADDRESS, CA_ADDRESS, ISTIO_META_CLUSTER_ID, POD_NAME, ...).
import { defineConfig, duration, int, str, type ConfigValues } from '@mesh/core';

const ISTIOD = 'https://istiod.istio-system.svc:15012';

export const waypointConfig = defineConfig({
  XDS_ADDRESS: str(ISTIOD, 'istiod xDS endpoint: https://host:port or host:port'),
  CA_ADDRESS: str(ISTIOD, 'istiod CA endpoint: https://host:port or host:port'),
  XDS_SERVER_NAME: str('', 'TLS name to verify istiod xDS as (default: the host of XDS_ADDRESS, or istiod.istio-system.svc for an IP)'),
  CA_SERVER_NAME: str('', 'TLS name to verify the CA as (default like XDS_SERVER_NAME)'),
  ROOT_CERT: str('/var/run/secrets/istio/root-cert.pem', "PEM roots that sign istiod's serving certificate"),
  TOKEN_FILE: str('/var/run/secrets/tokens/istio-token', 'Projected service account token sent as Bearer to istiod'),
  ISTIO_META_CLUSTER_ID: str('Kubernetes', 'Cluster id sent as the clusterid header', { aliases: ['CLUSTER_ID'] }),
  TRUST_DOMAIN: str('cluster.local', 'SPIFFE trust domain of the mesh'),
  POD_NAME: str('waypoint', "This waypoint pod's name (xDS node id)"),
  POD_NAMESPACE: str('default', "This waypoint pod's namespace; also the Gateway's namespace"),
  SERVICE_ACCOUNT: str('waypoint', 'Service account of this pod: the identity of its certificate'),
  INSTANCE_IP: str('127.0.0.1', "This waypoint pod's IP (xDS node id)"),
  WAYPOINT_NAME: str('waypoint', 'Name of the waypoint Gateway; its WaypointConfig is "<POD_NAMESPACE>/<WAYPOINT_NAME>"'),
  HBONE_ADDR: str('0.0.0.0', 'HBONE listener bind address'),
  HBONE_PORT: int(15008, 'HBONE listener port', { min: 0, max: 65535 }),
  UPSTREAM_HBONE_PORT: int(15008, "Destinations' HBONE port", { min: 1, max: 65535 }),
  ADMIN_ADDR: str('127.0.0.1', 'Admin (/config_dump) bind address'),
  ADMIN_PORT: int(15000, 'Admin port', { min: 0, max: 65535 }),
  STATS_ADDR: str('0.0.0.0', 'Prometheus bind address'),
  STATS_PORT: int(15020, 'Prometheus port (/metrics, /stats/prometheus)', { min: 0, max: 65535 }),
  READINESS_ADDR: str('0.0.0.0', 'Readiness bind address'),
  READINESS_PORT: int(15021, 'Readiness port (/healthz/ready)', { min: 0, max: 65535 }),
  SECRET_TTL: duration('24h', 'Requested certificate lifetime', { unit: 'ms' }),
  TERMINATION_DRAIN_DURATION: duration('5s', 'How long SIGTERM waits for in-flight tunnels', { unit: 'ms' }),
  LOG_LEVEL: str('info', 'Initial log level (fatal|error|warn|info|debug|trace)'),
});

export type WaypointEnv = ConfigValues<typeof waypointConfig.specs>;

/** `https://host:port` or `host:port` -> grpc target and the TLS name to verify. */
export function grpcTarget(address: string, serverNameOverride: string): { target: string; serverName: string } {
  const hostPort = address.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  const host = hostPort.startsWith('[') ? hostPort.slice(1, hostPort.indexOf(']')) : hostPort.replace(/:\d+$/, '');
  const isIp = /^[\d.]+$/.test(host) || host.includes(':');
  return { target: hostPort, serverName: serverNameOverride || (isIp ? 'istiod.istio-system.svc' : host) };
}
