import { runOk } from './run';
import { portProtocol, sepChain, serviceEndpointIps, svcChain } from './services';
import type { PodState, ServiceState } from './state';

export const CHAIN_SERVICES = 'MESH-SERVICES';
export const CHAIN_POSTROUTING = 'MESH-POSTROUTING';
export const CHAIN_MARK_MASQ = 'MESH-MARK-MASQ';
/** kube-proxy's masquerade bit; Istio CNI's in-pod marks (0x539, 0x111) do not overlap it. */
export const MASQ_MARK = '0x4000/0x4000';

/** Jumps from built-in chains, installed once per node; everything else lives in MESH-* chains. */
const HOOKS: ReadonlyArray<{ table: 'nat' | 'filter'; rule: string }> = [
  { table: 'nat', rule: `-A PREROUTING -j ${CHAIN_SERVICES}` },
  { table: 'nat', rule: `-A OUTPUT -j ${CHAIN_SERVICES}` },
  { table: 'nat', rule: `-A POSTROUTING -j ${CHAIN_POSTROUTING}` },
  { table: 'filter', rule: `-A FORWARD -j ${CHAIN_SERVICES}` },
  { table: 'filter', rule: `-A OUTPUT -j ${CHAIN_SERVICES}` },
];

export interface RenderedRules {
  nat: { chains: string[]; rules: string[] };
  filter: { chains: string[]; rules: string[] };
}

function q(comment: string): string {
  return `"${comment.replace(/["\\]/g, '')}"`;
}

/**
 * kube-proxy iptables mode, reduced: per service port a SVC chain picks an endpoint with `statistic random`
 * probabilities 1/n, 1/(n-1), ... 1 (uniform overall); per endpoint a SEP chain DNATs, marking hairpin traffic
 * (endpoint calling its own VIP) for masquerade so the reply comes back through the node. Ports without
 * endpoints are REJECTed in the filter table, as kube-proxy does, so clients fail fast instead of timing out.
 */
export function renderServiceRules(services: readonly ServiceState[], pods: readonly PodState[]): RenderedRules {
  const nat = { chains: [CHAIN_SERVICES, CHAIN_POSTROUTING, CHAIN_MARK_MASQ], rules: [] as string[] };
  const filter = { chains: [CHAIN_SERVICES], rules: [] as string[] };
  nat.rules.push(`-A ${CHAIN_MARK_MASQ} -j MARK --set-xmark ${MASQ_MARK}`);
  nat.rules.push(`-A ${CHAIN_POSTROUTING} -m mark --mark ${MASQ_MARK} -j MASQUERADE`);
  const sorted = [...services].sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  for (const svc of sorted) {
    const eps = serviceEndpointIps(svc, pods);
    for (const port of svc.ports) {
      const proto = portProtocol(port);
      const match = `-d ${svc.vip}/32 -p ${proto} -m ${proto} --dport ${port.port}`;
      const comment = q(`${svc.namespace}/${svc.name}:${port.name ?? port.port}`);
      if (eps.length === 0) {
        filter.rules.push(`-A ${CHAIN_SERVICES} ${match} -m comment --comment ${comment} -j REJECT`);
        continue;
      }
      const svcC = svcChain(svc, port);
      nat.chains.push(svcC);
      nat.rules.push(`-A ${CHAIN_SERVICES} ${match} -m comment --comment ${comment} -j ${svcC}`);
      eps.forEach((ip, i) => {
        const sep = sepChain(svc, port, ip);
        nat.chains.push(sep);
        const left = eps.length - i;
        const pick = left > 1 ? `-m statistic --mode random --probability ${(1 / left).toFixed(10)} ` : '';
        nat.rules.push(`-A ${svcC} ${pick}-j ${sep}`);
        nat.rules.push(`-A ${sep} -s ${ip}/32 -j ${CHAIN_MARK_MASQ}`);
        nat.rules.push(`-A ${sep} -p ${proto} -m ${proto} -j DNAT --to-destination ${ip}:${port.targetPort ?? port.port}`);
      });
    }
  }
  return { nat, filter };
}

/** MESH-* chains present in `iptables-save` output of one table, and which hooks are already installed. */
export function parseSaved(saved: string): { chains: Map<string, Set<string>>; rules: Set<string> } {
  const chains = new Map<string, Set<string>>();
  const rules = new Set<string>();
  let table = '';
  for (const line of saved.split('\n')) {
    if (line.startsWith('*')) {
      table = line.slice(1).trim();
      chains.set(table, chains.get(table) ?? new Set());
    } else if (line.startsWith(':MESH-')) {
      chains.get(table)?.add(line.slice(1).split(' ')[0]!);
    } else if (line.startsWith('-A ')) {
      rules.add(`${table} ${line.trim()}`);
    }
  }
  return { chains, rules };
}

/**
 * One `iptables-restore --noflush` transaction per table set: declaring a chain flushes just that chain, stale
 * MESH-SVC/SEP chains are deleted in the same commit, and rules of other owners (Istio CNI's node rules) are
 * left alone. The swap is atomic, so a connection never sees a half-built service table.
 */
export function renderRestore(rendered: RenderedRules, saved: string): string {
  const current = parseSaved(saved);
  const out: string[] = [];
  for (const table of ['nat', 'filter'] as const) {
    const want = rendered[table];
    out.push(`*${table}`);
    for (const c of want.chains) out.push(`:${c} - [0:0]`);
    for (const h of HOOKS) if (h.table === table && !current.rules.has(`${table} ${h.rule}`)) out.push(h.rule);
    out.push(...want.rules);
    const keep = new Set(want.chains);
    // All flushes before any delete: a stale SEP chain is still referenced by its stale SVC chain until then.
    const stale = [...(current.chains.get(table) ?? [])].filter((c) => !keep.has(c));
    for (const c of stale) out.push(`-F ${c}`);
    for (const c of stale) out.push(`-X ${c}`);
    out.push('COMMIT');
  }
  return out.join('\n') + '\n';
}

export async function applyServiceRules(netns: string, rendered: RenderedRules): Promise<void> {
  const saved = await runOk(['ip', 'netns', 'exec', netns, 'iptables-save']);
  await runOk(['ip', 'netns', 'exec', netns, 'iptables-restore', '--noflush'], {
    input: renderRestore(rendered, saved),
  });
}
