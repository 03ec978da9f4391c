import { createHash } from 'node:crypto';
import { LocalNetError } from './errors';

/** The docker network kind attaches nodes to; gateway-less here because nothing leaves the switch netns. */
export const NODE_SUBNET_PREFIX_LEN = 16;
export const NODE_SUBNET_BASE = '172.18.0.';
/** kindnet's default pod CIDR: node i owns 10.244.i.0/24. */
export const POD_CIDR_PREFIX_LEN = 24;
/** Kubernetes' default service CIDR. */
export const SERVICE_CIDR = '10.96.0.0/12';
export const MAX_NODES = 250;
/** Pod host numbers inside a node's /24: .1 is the node's gateway address, .255 broadcast. */
export const FIRST_POD_HOST = 2;
export const LAST_POD_HOST = 254;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const CLUSTER_NAME = /^[a-z0-9]([-a-z0-9]{0,14}[a-z0-9])?$/;

/** Names end up in netns names, hosts files and `ip -batch` lines, so only DNS-1123 labels are accepted. */
export function checkLabel(kind: string, value: string): void {
  if (!DNS_LABEL.test(value)) {
    throw new LocalNetError('LOCAL_NET_BAD_NAME', `${kind} "${value}" is not a DNS-1123 label (a-z, 0-9, "-", max 63)`);
  }
}

export function checkClusterName(value: string): void {
  if (!CLUSTER_NAME.test(value)) {
    throw new LocalNetError('LOCAL_NET_BAD_NAME', `cluster name "${value}" must be a-z, 0-9, "-", at most 16 chars`);
  }
}

export function shortHash(text: string, hexChars = 8): string {
  return createHash('sha256').update(text).digest('hex').slice(0, hexChars);
}

export function defaultPrefix(cluster: string): string {
  return `mesh-${cluster}-`;
}

export function switchNetns(prefix: string): string {
  return `${prefix}sw`;
}

export function nodeNetns(prefix: string, index: number): string {
  return `${prefix}n${index}`;
}

export function podNetns(prefix: string, namespace: string, name: string): string {
  return `${prefix}p-${shortHash(`${namespace}/${name}`)}`;
}

/** Node-side end of a pod's veth (IFNAMSIZ is 16 including NUL, so <= 15 chars). */
export function podHostVeth(namespace: string, name: string): string {
  return `veth${shortHash(`${namespace}/${name}`)}`;
}

/** Switch-side port for node i. */
export function switchPort(index: number): string {
  return `n${index}`;
}

/** Only names this layer creates match, so a sweep by prefix never touches another cluster's `mesh-a-b-*`. */
export function ownedNamePattern(prefix: string): RegExp {
  const p = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${p}(sw|n\\d+|p-[0-9a-f]{8})$`);
}

export function nodeIp(index: number): string {
  return `${NODE_SUBNET_BASE}${index + 2}`;
}

export function podCidr(index: number): string {
  return `10.244.${index}.0/${POD_CIDR_PREFIX_LEN}`;
}

export function podGateway(index: number): string {
  return `10.244.${index}.1`;
}

export function podIp(nodeIndex: number, host: number): string {
  return `10.244.${nodeIndex}.${host}`;
}

export function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}
