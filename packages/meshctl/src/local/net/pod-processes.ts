import fs from 'node:fs';
import { isAlive, pidsInNetns, snapshot } from './processes';
import type { ProcessState } from './state';

type ProcRef = Pick<ProcessState, 'pid' | 'startTime'>;

/** pid -> child pids, from field 4 (ppid) of every /proc/<pid>/stat. */
function childrenByParent(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // Exited while scanning.
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  }
  return children;
}

/** `roots` plus every live descendant of them. */
export function withDescendants(roots: readonly number[]): Set<number> {
  const children = childrenByParent();
  const out = new Set<number>();
  const queue = [...roots];
  for (let pid = queue.pop(); pid !== undefined; pid = queue.pop()) {
    if (out.has(pid)) continue;
    out.add(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

export interface PodVictimsInput {
  /** The pod's netns name (under /run/netns). */
  netns: string;
  /** Processes meshctl started for this pod. */
  own: readonly ProcessState[];
  /** Every other process meshctl tracks (components on nodes, other pods' processes). */
  others: readonly ProcessState[];
}

/**
 * The processes removing a pod must kill: what meshctl started for it (and their children), plus strays whose
 * netns is the pod's. A tracked component is never a stray even when /proc/<pid>/ns/net says it is in the pod:
 * the @mesh/netns addon setns()es ztunnel's main thread into a pod netns for a moment to open that pod's
 * listeners (ztunnel's in-pod mode), and cni-agent's helpers enter pod netns to program redirection. Those
 * are exempt, descendants included, so removing a pod never kills a node's data plane.
 */
export function podProcessVictims(input: PodVictimsInput): ProcRef[] {
  const ownLive = input.own.filter(isAlive);
  const exempt = withDescendants(input.others.filter(isAlive).map((p) => p.pid));
  const ownTree = withDescendants(ownLive.map((p) => p.pid));
  for (const pid of ownTree) exempt.delete(pid);
  const strays = pidsInNetns([input.netns]).filter((pid) => !exempt.has(pid));
  const extra = [...ownTree].filter((pid) => !ownLive.some((p) => p.pid === pid));
  const byPid = new Map<number, ProcRef>();
  for (const p of [...ownLive, ...snapshot([...extra, ...strays])]) byPid.set(p.pid, p);
  return [...byPid.values()];
}
