import fs from 'node:fs';
import type { ComponentName } from './components';

export const CLUSTER_STATE_VERSION = 1;

export interface ComponentRecord {
  name: ComponentName;
  node: string;
  pid: number;
  /** /proc/<pid>/stat start time: a recycled pid is never mistaken for the component. */
  startTime: string;
  log: string;
  readyUrl: string;
}

export interface SkippedComponent {
  name: ComponentName;
  node?: string;
  reason: string;
}

/** What LocalCluster adds to LocalNetwork's state.json: the control plane and node agents it started. */
export interface ClusterState {
  version: number;
  cluster: string;
  istiod?: { node: string; ip: string };
  components: ComponentRecord[];
  skipped: SkippedComponent[];
}

export function emptyClusterState(cluster: string): ClusterState {
  return { version: CLUSTER_STATE_VERSION, cluster, components: [], skipped: [] };
}

export function loadClusterState(file: string, cluster: string): ClusterState {
  try {
    const st = JSON.parse(fs.readFileSync(file, 'utf8')) as ClusterState;
    if (st.version === CLUSTER_STATE_VERSION && Array.isArray(st.components)) return st;
  } catch {
    // Missing or torn (crash): components are still found and killed through the network's netns sweep.
  }
  return emptyClusterState(cluster);
}

export function saveClusterState(file: string, st: ClusterState): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(st, null, 2) + '\n');
  fs.renameSync(tmp, file);
}

/** Field 22 of /proc/<pid>/stat; undefined when gone or a zombie. */
export function procStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
  return fields[19];
}

export function alive(p: { pid: number; startTime: string }): boolean {
  return procStartTime(p.pid) === p.startTime;
}

/** Last lines of a log file, for error messages that should say why a component failed. */
export function tailFile(file: string, lines: number): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
