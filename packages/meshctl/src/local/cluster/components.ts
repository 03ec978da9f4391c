import path from 'node:path';
import { clusterPaths, nodePaths, type Bundles } from './paths';

export type ComponentName = 'istiod' | 'ztunnel' | 'cni-agent';

/** Ports mirrored from the components' own defaults (Istio's), each named once here. */
export const ISTIOD_GRPC_PORT = 15012;
export const ISTIOD_READY_PORT = 8080;
export const ZTUNNEL_READY_PORT = 15021;
export const CNI_AGENT_READY_PORT = 8000;
export const WAYPOINT_HBONE_PORT = 15008;
export const WAYPOINT_READY_PORT = 15021;
/** The istiod certificate's DNS SAN clients verify (ztunnel's default server-name for IP addresses). */
export const ISTIOD_SERVER_NAME = 'istiod.istio-system.svc';
export const ISTIO_NAMESPACE = 'istio-system';
export const CLUSTER_ID = 'Kubernetes';
export const TRUST_DOMAIN = 'cluster.local';

export interface ComponentSpec {
  name: ComponentName;
  /** Node whose netns the process runs in (hostNetwork, like the DaemonSets and istiod here). */
  node: string;
  bundle: string;
  argv: string[];
  env: Record<string, string>;
  /** Probed from inside the node netns. */
  readyUrl: string;
  log: string;
}

export interface IstiodPlacement {
  node: string;
  ip: string;
}

export function istiodAddress(at: IstiodPlacement): string {
  return `${at.ip}:${ISTIOD_GRPC_PORT}`;
}

/**
 * istiod in directory mode: config and pods from the config dir, callers authenticated by the tokens file,
 * its self-signed root written where the ztunnels read it.
 */
export function istiodSpec(b: Bundles, stateDir: string, at: IstiodPlacement): ComponentSpec {
  const p = clusterPaths(stateDir);
  return {
    name: 'istiod',
    node: at.node,
    bundle: b.istiod,
    argv: [process.execPath, b.istiod],
    env: {
      CONFIG_SOURCE: `dir:${p.configDir}`,
      AUTH_TOKENS_FILE: p.tokensFile,
      ROOT_CERT_OUTPUT: p.rootCertFile,
      CA_STATE_DIR: path.join(p.stateDir, 'ca'),
      ISTIO_NAMESPACE,
      CLUSTER_ID,
      TRUST_DOMAIN,
      BIND_ADDRESS: '0.0.0.0',
      ISTIOD_DNS_NAMES: `istiod.${ISTIO_NAMESPACE}.svc.cluster.local`,
    },
    readyUrl: `http://${at.ip}:${ISTIOD_READY_PORT}/ready`,
    log: path.join(p.logsDir, 'istiod.log'),
  };
}

export interface NodePlacement {
  node: string;
  ip: string;
}

export function ztunnelSpec(b: Bundles, stateDir: string, at: NodePlacement, istiod: IstiodPlacement): ComponentSpec {
  const p = clusterPaths(stateDir);
  const np = nodePaths(stateDir, at.node);
  const addr = `https://${istiodAddress(istiod)}`;
  return {
    name: 'ztunnel',
    node: at.node,
    bundle: b.ztunnel,
    argv: [process.execPath, b.ztunnel],
    env: {
      XDS_ADDRESS: addr,
      CA_ADDRESS: addr,
      XDS_SERVER_NAME: ISTIOD_SERVER_NAME,
      CA_SERVER_NAME: ISTIOD_SERVER_NAME,
      ROOT_CERT: p.rootCertFile,
      TOKEN_FILE: np.ztunnelTokenFile,
      ISTIO_META_CLUSTER_ID: CLUSTER_ID,
      TRUST_DOMAIN,
      NODE_NAME: at.node,
      POD_NAME: ztunnelPodName(at.node),
      POD_NAMESPACE: ISTIO_NAMESPACE,
      INSTANCE_IP: at.ip,
      INPOD_UDS: np.ztunnelSocket,
    },
    readyUrl: `http://${at.ip}:${ZTUNNEL_READY_PORT}/healthz/ready`,
    log: path.join(p.logsDir, `ztunnel-${at.node}.log`),
  };
}

export function cniAgentSpec(b: Bundles, stateDir: string, at: NodePlacement): ComponentSpec {
  const p = clusterPaths(stateDir);
  const np = nodePaths(stateDir, at.node);
  return {
    name: 'cni-agent',
    node: at.node,
    bundle: b.cniAgent,
    argv: [process.execPath, b.cniAgent],
    env: {
      NODE_NAME: at.node,
      ZTUNNEL_UDS_ADDRESS: np.ztunnelSocket,
      CNI_AGENT_RUN_DIR: np.cniRunDir,
      POD_SOURCE: 'directory',
      POD_SOURCE_DIR: p.configDir,
      EXCLUDED_NAMESPACES: `kube-system,${ISTIO_NAMESPACE}`,
      NETNS_RESOLVER: 'annotation',
    },
    readyUrl: `http://${at.ip}:${CNI_AGENT_READY_PORT}/readyz`,
    log: path.join(p.logsDir, `cni-agent-${at.node}.log`),
  };
}

export function ztunnelPodName(node: string): string {
  return `ztunnel-${node}`;
}

/** Token file entry of a node's ztunnel: the trusted node account, bound to its node (CA impersonation). */
export interface TokenEntry {
  token: string;
  namespace: string;
  serviceAccount: string;
  podName: string;
  /** Set for ztunnels (node-bound, may impersonate); absent for waypoints, which request their own identity. */
  nodeName?: string;
}
