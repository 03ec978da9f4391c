import { bool, defineConfig, duration, enumOf, int, list, LOG_LEVELS, str, type ConfigValues } from '@mesh/core';

/** The ports istiod serves (Istio defaults); each appears only here. */
export const ISTIOD_GRPC_PORT = 15012;
export const ISTIOD_MONITORING_PORT = 15014;
export const ISTIOD_READINESS_PORT = 8080;
const PORT_RANGE = { min: 0, max: 65_535 };

/** Every istiod environment variable, registered once (names follow Istio's where one exists). */
export const istiodConfig = defineConfig({
  CLUSTER_ID: str('Kubernetes', 'cluster name; callers\' "clusterid" header must match it, and it prefixes workload uids'),
  TRUST_DOMAIN: str('cluster.local', 'mesh trust domain: SPIFFE ids are spiffe://<TRUST_DOMAIN>/ns/<ns>/sa/<sa>'),
  ISTIO_NAMESPACE: str('istio-system', 'namespace istiod runs in (Secrets, serving-cert DNS name)', { aliases: ['POD_NAMESPACE'] }),
  MESH_ROOT_NAMESPACE: str('istio-system', 'MeshConfig rootNamespace: policies here apply mesh-wide'),
  DOMAIN_SUFFIX: str('cluster.local', 'Kubernetes DNS suffix for service hostnames'),
  NETWORK: str('', 'network of this cluster\'s workload addresses (empty = default network)'),
  MESH_H2_UPGRADE_POLICY: enumOf(['DO_NOT_UPGRADE', 'UPGRADE'] as const, 'DO_NOT_UPGRADE', 'MeshConfig h2UpgradePolicy: whether waypoints upgrade HTTP/1.1 upstream connections of ports declared HTTP to HTTP/2 (a DestinationRule connectionPool.http.h2UpgradePolicy overrides it)'),
  CONFIG_SOURCE: str('kubernetes', '"kubernetes" (API server via in-cluster config or KUBECONFIG) or "dir:<path>" (a folder of manifests)'),
  BIND_ADDRESS: str('0.0.0.0', 'address every istiod listener binds'),
  GRPC_PORT: int(ISTIOD_GRPC_PORT, 'xDS + CA gRPC over TLS (0 = pick a free port)', PORT_RANGE),
  MONITORING_PORT: int(ISTIOD_MONITORING_PORT, 'HTTP /metrics and /debug/* (0 = pick a free port)', PORT_RANGE),
  READINESS_PORT: int(ISTIOD_READINESS_PORT, 'HTTP /ready (0 = pick a free port)', PORT_RANGE),
  ISTIOD_DNS_NAMES: list([], 'extra DNS SANs for istiod\'s serving certificate (istiod.<ISTIO_NAMESPACE>.svc is always included)'),
  ISTIOD_SERVING_CERT_TTL: duration('24h', 'lifetime of istiod\'s serving certificate; re-issued at half-life'),
  MAX_WORKLOAD_CERT_TTL: duration('2160h', 'longest workload certificate issued; longer requests are capped (90d)'),
  DEFAULT_WORKLOAD_CERT_TTL: duration('24h', 'workload certificate lifetime when the request asks for none'),
  CA_TRUSTED_NODE_ACCOUNTS: list(['istio-system/ztunnel'], 'ns/sa accounts allowed to request certificates for pods on their node'),
  CACERTS_DIR: str('/etc/cacerts', 'plug-in CA directory (ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem); used when ca-key.pem exists'),
  CA_STATE_DIR: str('/var/lib/istiod/ca', 'directory mode: where the self-signed root is persisted (ca-cert.pem, ca-key.pem 0600)'),
  ROOT_CERT_OUTPUT: str('', 'if set, write the mesh root (root-cert.pem) to this path for node agents'),
  CA_RELOAD_INTERVAL: duration('10s', 'how often the plug-in cacerts files (or the persisted self-signed root) are re-read; on a change istiod signs with the new CA, re-issues its serving cert and republishes the root (0 = never)'),
  AUTH_TOKENS_FILE: str('', 'directory mode: YAML/JSON list of {token, namespace, serviceAccount, podName, nodeName} callers'),
  CONFIG_DIR_DEBOUNCE: duration('15ms', 'directory mode: quiet time after a file event before the folder is rescanned; short because writers replace files atomically (a file that does not parse keeps its previous objects until it does)'),
  PILOT_DEBOUNCE_AFTER: duration('100ms', 'quiet time before a config change is pushed'),
  PILOT_DEBOUNCE_MAX: duration('10s', 'longest a change waits under continuous churn'),
  XDS_SEND_BUDGET_BYTES: int(16 * 1024 * 1024, 'bytes of xDS responses buffered for sending across all clients before large pushes (initial syncs) wait their turn; bounds memory when many proxies connect at once', { min: 64 * 1024 }),
  PROCESS_METRICS: bool(true, 'export Node.js process metrics on /metrics'),
  POD_NAME: str('', 'this istiod\'s pod name: its identity in leader-election Leases (empty = host name)'),
  LEADER_LEASE_DURATION: duration('30s', 'Kubernetes mode: leader Lease duration (Istio: 30s); only leaders write ConfigMaps and status'),
  LEADER_RENEW_DEADLINE: duration('15s', 'Kubernetes mode: a leader that cannot renew for this long stops writing'),
  LEADER_RETRY_PERIOD: duration('5s', 'Kubernetes mode: how often the Lease is acquired or renewed'),
  KUBE_IGNORED_RESOURCES: list([], 'Kubernetes mode: resource plurals not to watch (e.g. endpointslices where only discovery.k8s.io/v1beta1 is served)'),
  LOG_LEVEL: enumOf(LOG_LEVELS, 'info', 'log level'),
  WAYPOINT_DEPLOY: bool(true, 'Kubernetes mode: create a ServiceAccount, Deployment and Service for every istio-waypoint Gateway (leader only)'),
  WAYPOINT_IMAGE: str('mesh/waypoint:latest', 'Kubernetes mode: container image of the waypoints istiod deploys'),
  WAYPOINT_IMAGE_PULL_POLICY: str('IfNotPresent', 'Kubernetes mode: imagePullPolicy of deployed waypoints'),
  WAYPOINT_ISTIOD_ADDRESS: str('', 'xDS/CA address deployed waypoints dial (empty = istiod.<ISTIO_NAMESPACE>.svc:<GRPC_PORT>)'),
  WAYPOINT_LOG_LEVEL: enumOf(LOG_LEVELS, 'info', 'log level of deployed waypoints'),
});

export type IstiodConfig = ConfigValues<typeof istiodConfig.specs>;

export type ConfigSourceSpec = { kind: 'kubernetes' } | { kind: 'dir'; path: string };

/** CONFIG_SOURCE: `kubernetes` | `dir:<path>`. */
export function parseConfigSource(raw: string): ConfigSourceSpec | undefined {
  if (raw === 'kubernetes') return { kind: 'kubernetes' };
  if (raw.startsWith('dir:') && raw.length > 'dir:'.length) return { kind: 'dir', path: raw.slice('dir:'.length) };
  return undefined;
}

/**
 * Flags mirror the env vars: `--grpc-port=0` or `--GRPC_PORT 0` sets GRPC_PORT. Flags win over the env.
 * Returns the merged env, whether --help was asked, and unknown flags.
 */
export function argvToEnv(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): {
  env: Record<string, string | undefined>;
  help: boolean;
  unknown: string[];
} {
  const out: Record<string, string | undefined> = { ...env };
  const known = new Set(Object.keys(istiodConfig.specs));
  const unknown: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    const m = /^--([A-Za-z0-9_-]+)(?:=(.*))?$/.exec(arg);
    const name = m?.[1]?.replace(/-/g, '_').toUpperCase();
    if (m === null || name === undefined || !known.has(name)) {
      unknown.push(arg);
      continue;
    }
    out[name] = m[2] ?? argv[++i] ?? '';
  }
  return { env: out, help, unknown };
}
