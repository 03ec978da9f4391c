// Every environment variable ztunnel reads, once, with its default (Z:src/config.rs names where they exist).
import { bool, defineConfig, duration, int, str, type ConfigValues } from '@mesh/core';

const ISTIOD = 'https://istiod.istio-system.svc:15012';
/** Istio defaults to 2 tokio workers; see docs/architecture.md "ztunnel on more than one core" for ours. */
export const DEFAULT_WORKER_THREADS = 1;
export const MAX_WORKER_THREADS = 64;

export const ztunnelConfig = defineConfig({
  XDS_ADDRESS: str(ISTIOD, 'istiod xDS endpoint: https://host:port or host:port'),
  CA_ADDRESS: str(ISTIOD, 'istiod CA endpoint: https://host:port or host:port'),
  XDS_SERVER_NAME: str('', 'TLS server name to verify istiod xDS as (default: the host of XDS_ADDRESS, or istiod.istio-system.svc for an IP)'),
  CA_SERVER_NAME: str('', 'TLS server name to verify the CA as (default like XDS_SERVER_NAME)'),
  ROOT_CERT: str('/var/run/secrets/istio/root-cert.pem', 'PEM roots that sign istiod\'s serving certificate'),
  XDS_ROOT_CA: str('', 'Alias file for ROOT_CERT used for xDS only (empty = ROOT_CERT)'),
  TOKEN_FILE: str('/var/run/secrets/tokens/istio-token', 'Projected service account token sent as Bearer to istiod'),
  ISTIO_META_CLUSTER_ID: str('Kubernetes', 'Cluster id sent as the clusterid header', { aliases: ['CLUSTER_ID'] }),
  TRUST_DOMAIN: str('cluster.local', 'Default SPIFFE trust domain'),
  NETWORK: str('', 'Network of this node\'s workloads'),
  NODE_NAME: str('', 'Kubernetes node this ztunnel serves'),
  POD_NAME: str('ztunnel', 'This ztunnel pod\'s name (xDS node id)'),
  POD_NAMESPACE: str('istio-system', 'This ztunnel pod\'s namespace (xDS node id)'),
  INSTANCE_IP: str('127.0.0.1', 'This ztunnel pod\'s IP (xDS node id)'),
  INPOD_UDS: str('/var/run/ztunnel/ztunnel.sock', 'ZDS socket of the istio-cni node agent'),
  PACKET_MARK: int(1337, 'SO_MARK on every socket ztunnel opens in a pod', { min: 0, max: 0xffffffff }),
  INPOD_PORT_REUSE: bool(true, 'SO_REUSEPORT on pod listeners (upgrade overlap; required for ZTUNNEL_WORKER_THREADS > 1)'),
  ZTUNNEL_WORKER_THREADS: int(DEFAULT_WORKER_THREADS, 'Data-path event loops: 1 = on the main thread; N > 1 = N worker threads sharing each pod port via SO_REUSEPORT (about 10 MB RSS each)', { min: 1, max: MAX_WORKER_THREADS }),
  IPV6_ENABLED: bool(true, 'Bind pod listeners on [::] (else 0.0.0.0)'),
  SECRET_TTL: duration('24h', 'Requested workload certificate lifetime', { unit: 'ms' }),
  CONNECTION_TERMINATION_DEADLINE: duration('5s', 'How long SIGTERM waits for connections to finish', { unit: 'ms' }),
  ADMIN_ADDR: str('127.0.0.1', 'Admin (:15000) bind address'),
  ADMIN_PORT: int(15000, 'Admin port', { min: 0, max: 65535 }),
  STATS_ADDR: str('0.0.0.0', 'Prometheus (:15020) bind address'),
  STATS_PORT: int(15020, 'Prometheus port', { min: 0, max: 65535 }),
  READINESS_ADDR: str('0.0.0.0', 'Readiness (:15021) bind address'),
  READINESS_PORT: int(15021, 'Readiness port', { min: 0, max: 65535 }),
  LOG_LEVEL: str('info', 'Initial log level (fatal|error|warn|info|debug|trace)', { aliases: ['RUST_LOG'] }),
});

export type ZtunnelConfig = ConfigValues<typeof ztunnelConfig.specs>;

/** `https://host:port` or `host:port` -> grpc target and the TLS name to verify. */
export function grpcTarget(address: string, serverNameOverride: string): { target: string; serverName: string } {
  const hostPort = address.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  const host = hostPort.startsWith('[') ? hostPort.slice(1, hostPort.indexOf(']')) : hostPort.replace(/:\d+$/, '');
  const isIp = /^[\d.]+$/.test(host) || host.includes(':');
  const serverName = serverNameOverride || (isIp ? 'istiod.istio-system.svc' : host);
  return { target: hostPort, serverName };
}
