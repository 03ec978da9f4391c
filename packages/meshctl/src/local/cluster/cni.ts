import path from 'node:path';
import type { RunResult } from '../net';
import { ClusterError } from './errors';
import { ISTIO_NAMESPACE } from './components';

export const CNI_VERSION = '1.0.0';
export const CNI_IFNAME = 'eth0';
/** The network name our single-plugin "conflist" would carry. */
export const CNI_NETWORK_NAME = 'mesh-local';

export interface CniPod {
  namespace: string;
  name: string;
  uid: string;
  netnsPath: string;
  ip: string;
  /** The node's gateway for pod traffic (first address of its pod CIDR). */
  gateway: string;
  prefixLen: number;
}

/** Runs argv in the node netns (where kubelet runs CNI plugins) with env and stdin. */
export type NodeRunner = (argv: readonly string[], env: Record<string, string>, stdin: string) => Promise<RunResult>;

/** The container id kubelet would pass: the sandbox id; ours is derived from the pod uid. */
export function containerId(uid: string): string {
  return uid.replace(/-/g, '');
}

function cniEnv(command: 'ADD' | 'DEL', pod: CniPod, pluginPath: string): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: command,
    CNI_CONTAINERID: containerId(pod.uid),
    CNI_NETNS: pod.netnsPath,
    CNI_IFNAME: CNI_IFNAME,
    CNI_PATH: path.dirname(pluginPath),
    CNI_ARGS: [
      'IgnoreUnknown=1',
      `K8S_POD_NAMESPACE=${pod.namespace}`,
      `K8S_POD_NAME=${pod.name}`,
      `K8S_POD_INFRA_CONTAINER_ID=${containerId(pod.uid)}`,
      `K8S_POD_UID=${pod.uid}`,
    ].join(';'),
  };
}

/**
 * The network config a chained istio-cni sees: its own keys plus `prevResult` from the primary plugin
 * (here: the local network that already made the veth and address), exactly as libcni passes it.
 */
export function cniConfig(pod: CniPod, runDir: string): Record<string, unknown> {
  return {
    cniVersion: CNI_VERSION,
    name: CNI_NETWORK_NAME,
    type: 'istio-cni',
    ambient_enabled: true,
    cni_agent_run_dir: runDir,
    exclude_namespaces: [ISTIO_NAMESPACE, 'kube-system'],
    pod_namespace: ISTIO_NAMESPACE,
    plugin_log_level: 'info',
    prevResult: {
      cniVersion: CNI_VERSION,
      interfaces: [{ name: CNI_IFNAME, sandbox: pod.netnsPath }],
      ips: [{ address: `${pod.ip}/${pod.prefixLen}`, gateway: pod.gateway, interface: 0 }],
      routes: [{ dst: '0.0.0.0/0', gw: pod.gateway }],
      dns: {},
    },
  };
}

/** CNI ADD; a failure fails the pod start (kubelet would retry the sandbox; the app never runs unredirected). */
export async function cniAdd(run: NodeRunner, pluginPath: string, pod: CniPod, runDir: string): Promise<void> {
  const stdin = JSON.stringify(cniConfig(pod, runDir));
  const r = await run([process.execPath, pluginPath], cniEnv('ADD', pod, pluginPath), stdin);
  if (r.code !== 0) {
    throw new ClusterError(
      'CLUSTER_CNI_ADD_FAILED',
      `CNI ADD for pod ${pod.namespace}/${pod.name} failed: ${describeCniError(r)}; check the node's cni-agent log (meshctl local logs cni-agent)`,
    );
  }
}

export async function cniDel(run: NodeRunner, pluginPath: string, pod: CniPod, runDir: string): Promise<void> {
  const stdin = JSON.stringify(cniConfig(pod, runDir));
  await run([process.execPath, pluginPath], cniEnv('DEL', pod, pluginPath), stdin);
}

export function describeCniError(r: RunResult): string {
  try {
    const j = JSON.parse(r.stdout) as { code?: unknown; msg?: unknown; details?: unknown };
    const details = typeof j.details === 'string' && j.details !== '' ? ` (${j.details})` : '';
    return `code ${String(j.code)}: ${String(j.msg)}${details}`;
  } catch {
    return `exit ${String(r.code)}: ${(r.stderr || r.stdout).trim().split('\n').slice(-1)[0] ?? ''}`;
  }
}
