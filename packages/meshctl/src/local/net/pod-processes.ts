import fs from 'node:fs';
import { isAlive, pidsInNetns, procDescription, procOwner, snapshot } from './processes';
import type { NetLogger } from './types';
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
  /** `pod:<ns>/<name>` (the OWNER_ENV value of the pod's processes). */
  owner: string;
  /** Processes meshctl started for this pod. */
  own: readonly ProcessState[];
  /** Every other process meshctl tracks (components on nodes, other pods' processes). */
  others: readonly ProcessState[];
}

export type VictimReason = 'pod process' | 'child of a pod process' | 'stray in the pod netns';
export type SparedReason = 'tracked by meshctl for another owner' | 'descendant of a tracked process' | 'started by meshctl for another owner';

export interface PodVictim extends ProcRef {
  reason: VictimReason;
}

export interface SparedProcess {
  pid: number;
  reason: SparedReason;
  /** OWNER_ENV of the spared process, or the tracked owner. */
  owner?: string;
}

export interface PodVictims {
  victims: PodVictim[];
  /** Processes seen in the pod netns that are not killed, and why (logged: a pod removal never kills them). */
  spared: SparedProcess[];
}

/**
 * The processes removing a pod must kill: what meshctl started for it (and their children), plus strays whose
 * netns is the pod's (e.g. a `meshctl local exec` still running). Never killed, even when /proc/<pid>/ns/net
 * says they are in the pod netns: a process meshctl tracks for another owner (node components, other pods) or
 * a descendant of one (cni-agent's helpers enter pod netns to program redirection), and any process whose
 * OWNER_ENV names another owner, which holds even when a state file lost the record (a concurrent meshctl
 * saving a stale view) or a tracked pid was reused. A process whose OWNER_ENV is this pod's is the pod's.
 */
export function podProcessVictims(input: PodVictimsInput): PodVictims {
  const ownLive = input.own.filter(isAlive);
  const ownTree = withDescendants(ownLive.map((p) => p.pid));
  const trackedOthers = new Map(input.others.filter(isAlive).map((p) => [p.pid, p.owner]));
  const descendantsOfOthers = withDescendants([...trackedOthers.keys()]);
  const victims = new Map<number, PodVictim>();
  for (const p of ownLive) victims.set(p.pid, { pid: p.pid, startTime: p.startTime, reason: 'pod process' });
  const extra = [...ownTree].filter((pid) => !victims.has(pid));
  for (const p of snapshot(extra)) victims.set(p.pid, { ...p, reason: 'child of a pod process' });
  const spared: SparedProcess[] = [];
  for (const pid of pidsInNetns([input.netns])) {
    if (victims.has(pid)) continue;
    const why = spareReason(pid, input.owner, trackedOthers, descendantsOfOthers);
    if (why) {
      spared.push({ pid, ...why });
      continue;
    }
    for (const p of snapshot([pid])) victims.set(pid, { ...p, reason: 'stray in the pod netns' });
  }
  return { victims: [...victims.values()], spared };
}

function spareReason(
  pid: number,
  podOwner: string,
  tracked: ReadonlyMap<number, string>,
  descendants: ReadonlySet<number>,
): Omit<SparedProcess, 'pid'> | undefined {
  const trackedOwner = tracked.get(pid);
  if (trackedOwner !== undefined) return { reason: 'tracked by meshctl for another owner', owner: trackedOwner };
  if (descendants.has(pid)) return { reason: 'descendant of a tracked process' };
  const owner = procOwner(pid);
  if (owner !== undefined && owner !== podOwner) return { reason: 'started by meshctl for another owner', owner };
  return undefined;
}

/** One info line per process a pod removal kills or spares, with the reason and the command line. */
export function logPodVictims(log: NetLogger, pod: string, found: PodVictims): void {
  for (const v of found.victims) {
    log.info({ pod, pid: v.pid, reason: v.reason, cmd: procDescription(v.pid) }, 'pod removal kills process');
  }
  for (const sp of found.spared) {
    const fields = { pod, pid: sp.pid, reason: sp.reason, owner: sp.owner, cmd: procDescription(sp.pid) };
    log.info(fields, 'pod removal spares process seen in the pod netns');
  }
}
