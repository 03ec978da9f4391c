import fs from 'node:fs';
import path from 'node:path';
import type { ServiceState } from './state';

/** `ip netns exec <name>` bind-mounts every file in here over the same name in /etc. */
export const ETC_NETNS_DIR = '/etc/netns';
export const CLUSTER_DOMAIN = 'cluster.local';

/**
 * Nothing may leak to the machine's real DNS: a resolver on the pod's own loopback answers nothing, fast.
 * Service names come from the hosts file instead (no CoreDNS in this cluster).
 */
export function renderResolvConf(namespace: string | undefined): string {
  const search = namespace
    ? `search ${namespace}.svc.${CLUSTER_DOMAIN} svc.${CLUSTER_DOMAIN} ${CLUSTER_DOMAIN}\n`
    : '';
  return `# managed by meshctl local\nnameserver 127.0.0.1\n${search}options timeout:1 attempts:1\n`;
}

/**
 * glibc does not apply resolv.conf search domains to /etc/hosts, so each name kube DNS would answer through the
 * search list is spelled out; the bare `<svc>` only for the pod's own namespace, as the first search domain does.
 */
export function renderHosts(
  self: { hostname: string; ip: string; namespace?: string },
  services: readonly ServiceState[],
): string {
  const lines = [
    '# managed by meshctl local: rewritten on every service change',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    `${self.ip}\t${self.hostname}`,
  ];
  const sorted = [...services].sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  for (const s of sorted) {
    const fq = `${s.name}.${s.namespace}`;
    const names = [`${fq}.svc.${CLUSTER_DOMAIN}`, `${fq}.svc`, fq];
    if (s.namespace === self.namespace) names.push(s.name);
    lines.push(`${s.vip}\t${names.join(' ')}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * In place, not rename: running pod processes have the file's inode bind-mounted over /etc/hosts, and a
 * rename would leave them reading the old inode forever. The brief truncate window is the lesser evil.
 */
function writeInPlace(file: string, text: string): void {
  fs.writeFileSync(file, text);
}

export function writeNetnsEtc(netns: string, hosts: string, resolv: string): void {
  const dir = path.join(ETC_NETNS_DIR, netns);
  fs.mkdirSync(dir, { recursive: true });
  writeInPlace(path.join(dir, 'hosts'), hosts);
  writeInPlace(path.join(dir, 'resolv.conf'), resolv);
}

export function removeNetnsEtc(netns: string): void {
  fs.rmSync(path.join(ETC_NETNS_DIR, netns), { recursive: true, force: true });
}

export function listNetnsEtc(): string[] {
  try {
    return fs.readdirSync(ETC_NETNS_DIR);
  } catch {
    return [];
  }
}
