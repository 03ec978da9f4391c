import fs from 'node:fs';
import {
  NODE_SUBNET_PREFIX_LEN,
  POD_CIDR_PREFIX_LEN,
  SERVICE_CIDR,
  nodeIp,
  podGateway,
  switchPort,
} from './names';
import { NETNS_RUN_DIR } from './processes';
import { ipBatch, run, runOk } from './run';
import type { NodeState, PodState } from './state';

export const BRIDGE_NAME = 'br0';
/** Interface name inside nodes and pods, as in kind nodes and CNI-created pods. */
export const NETNS_IFNAME = 'eth0';

export function netnsExists(name: string): boolean {
  return fs.existsSync(`${NETNS_RUN_DIR}/${name}`);
}

export function listNetns(): string[] {
  try {
    return fs.readdirSync(NETNS_RUN_DIR);
  } catch {
    return [];
  }
}

async function sysctls(netns: string, settings: Record<string, string>): Promise<void> {
  const args = Object.entries(settings).map(([k, v]) => `${k}=${v}`);
  await runOk(['ip', 'netns', 'exec', netns, 'sysctl', '-q', '-w', ...args]);
}

/** Creates (or replaces) a netns; a leftover with the same name is from a crashed run and is discarded. */
export async function freshNetns(name: string): Promise<void> {
  if (netnsExists(name)) await run(['ip', 'netns', 'del', name]);
  await runOk(['ip', 'netns', 'add', name]);
}

/** The "docker network": one bridge in its own netns, so the root netns never holds a cluster interface. */
export async function createSwitch(netns: string): Promise<void> {
  await freshNetns(netns);
  await ipBatch(netns, ['link set lo up', `link add ${BRIDGE_NAME} type bridge`, `link set ${BRIDGE_NAME} up`]);
}

export async function switchHealthy(netns: string): Promise<boolean> {
  if (!netnsExists(netns)) return false;
  const r = await run(['ip', '-n', netns, 'link', 'show', BRIDGE_NAME]);
  return r.code === 0;
}

/** Routes node `to` needs for node `via`'s pod CIDR, like kindnet's per-node routes. */
function podCidrRoute(via: NodeState): string {
  return `route replace ${via.podCidr} via ${via.ip} dev ${NETNS_IFNAME}`;
}

export async function createNode(switchNs: string, node: NodeState, peers: readonly NodeState[]): Promise<void> {
  await freshNetns(node.netns);
  const port = switchPort(node.index);
  await run(['ip', '-n', switchNs, 'link', 'del', port]);
  // Both veth ends are created directly inside their namespaces: nothing ever appears in the root netns.
  await runOk(['ip', '-n', switchNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', NETNS_IFNAME, 'netns', node.netns]);
  await runOk(['ip', '-n', switchNs, 'link', 'set', port, 'master', BRIDGE_NAME, 'up']);
  await ipBatch(node.netns, [
    'link set lo up',
    `addr add ${nodeIp(node.index)}/${NODE_SUBNET_PREFIX_LEN} dev ${NETNS_IFNAME}`,
    `link set ${NETNS_IFNAME} up`,
    // Without a route the node's own sockets fail with ENETUNREACH before the OUTPUT DNAT to a VIP can run.
    `route add ${SERVICE_CIDR} dev ${NETNS_IFNAME}`,
    ...peers.map(podCidrRoute),
  ]);
  await sysctls(node.netns, {
    'net.ipv4.ip_forward': '1',
    'net.ipv4.conf.all.rp_filter': '0',
    'net.ipv4.conf.default.rp_filter': '0',
  });
  await Promise.all(peers.map((p) => ipBatch(p.netns, [podCidrRoute(node)])));
}

export async function nodeHealthy(node: NodeState): Promise<boolean> {
  if (!netnsExists(node.netns)) return false;
  const r = await run(['ip', '-n', node.netns, '-4', '-o', 'addr', 'show', 'dev', NETNS_IFNAME]);
  return r.code === 0 && r.stdout.includes(`${node.ip}/${NODE_SUBNET_PREFIX_LEN}`);
}

/**
 * kindnet's ptp layout: the pod holds 10.244.i.k/24 (without the on-link subnet route) and reaches everything,
 * its node-local neighbours included, through the node at 10.244.i.1; the node holds 10.244.i.1/32 on each pod
 * veth and a /32 route per pod.
 */
export async function createPod(node: NodeState, pod: PodState): Promise<void> {
  await freshNetns(pod.netns);
  await run(['ip', '-n', node.netns, 'link', 'del', pod.hostVeth]);
  const gw = podGateway(node.index);
  await runOk(['ip', '-n', node.netns, 'link', 'add', pod.hostVeth, 'type', 'veth', 'peer', 'name', NETNS_IFNAME, 'netns', pod.netns]);
  await ipBatch(node.netns, [
    `addr add ${gw}/32 dev ${pod.hostVeth}`,
    `link set ${pod.hostVeth} up`,
    `route replace ${pod.ip}/32 dev ${pod.hostVeth} scope link src ${gw}`,
  ]);
  await ipBatch(pod.netns, [
    'link set lo up',
    `addr add ${pod.ip}/${POD_CIDR_PREFIX_LEN} dev ${NETNS_IFNAME} noprefixroute`,
    `link set ${NETNS_IFNAME} up`,
    `route add ${gw}/32 dev ${NETNS_IFNAME} scope link`,
    `route add default via ${gw} dev ${NETNS_IFNAME}`,
  ]);
}

export async function podHealthy(pod: PodState): Promise<boolean> {
  if (!netnsExists(pod.netns)) return false;
  const r = await run(['ip', '-n', pod.netns, '-4', '-o', 'addr', 'show', 'dev', NETNS_IFNAME]);
  return r.code === 0 && r.stdout.includes(`${pod.ip}/`);
}

export async function deletePodLinks(node: NodeState | undefined, pod: PodState): Promise<void> {
  if (node && netnsExists(node.netns)) await run(['ip', '-n', node.netns, 'link', 'del', pod.hostVeth]);
}

/** `ip -force -batch` keeps going past names that are already gone. */
export async function deleteNetns(names: readonly string[]): Promise<void> {
  const present = names.filter(netnsExists);
  if (present.length === 0) return;
  await run(['ip', '-force', '-batch', '-'], { input: present.map((n) => `netns del ${n}`).join('\n') + '\n' });
}

