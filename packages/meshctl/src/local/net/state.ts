import fs from 'node:fs';
import path from 'node:path';
import { LocalNetError } from './errors';

export const STATE_VERSION = 1;
export const STATE_FILE_NAME = 'state.json';
export const DEFAULT_STATE_ROOT = '/run/mesh-local';

export interface NodeState {
  name: string;
  index: number;
  netns: string;
  ip: string;
  podCidr: string;
}

export interface PodState {
  name: string;
  namespace: string;
  node: string;
  netns: string;
  ip: string;
  hostVeth: string;
  labels: Record<string, string>;
  serviceAccount: string;
}

export type ServiceProtocol = 'TCP' | 'UDP';

export interface ServicePort {
  name?: string;
  port: number;
  /** Defaults to `port`. */
  targetPort?: number;
  protocol?: ServiceProtocol;
}

export interface ServiceState {
  name: string;
  namespace: string;
  vip: string;
  ports: ServicePort[];
  /** Pods in the same namespace whose labels include all of these are endpoints (like a Service selector). */
  selector?: Record<string, string>;
  /** Extra endpoint IPs, for endpoints that are not pods (like a selector-less Service + manual Endpoints). */
  endpointIps?: string[];
}

export interface ProcessState {
  pid: number;
  /** /proc/<pid>/stat start time, so a recycled pid is never killed by mistake. */
  startTime: string;
  netns: string;
  argv: string[];
  /** `pod:<ns>/<name>` or `node:<name>`; removing the owner kills the process. */
  owner: string;
}

/** Everything the layer created, written before the kernel object is made so `down` can undo a crash. */
export interface NetworkState {
  version: number;
  cluster: string;
  prefix: string;
  netns: string[];
  nodes: NodeState[];
  pods: PodState[];
  services: ServiceState[];
  processes: ProcessState[];
}

export function emptyState(cluster: string, prefix: string): NetworkState {
  return { version: STATE_VERSION, cluster, prefix, netns: [], nodes: [], pods: [], services: [], processes: [] };
}

export function stateFilePath(stateDir: string): string {
  return path.join(stateDir, STATE_FILE_NAME);
}

export function loadState(stateDir: string): NetworkState | undefined {
  const file = stateFilePath(stateDir);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const parsed = JSON.parse(text) as NetworkState;
    if (parsed.version !== STATE_VERSION || !Array.isArray(parsed.netns)) throw new Error('unexpected shape');
    return parsed;
  } catch (e) {
    throw new LocalNetError(
      'LOCAL_NET_STATE_CORRUPT',
      `state file ${file} is unreadable; run down with the same prefix (it also sweeps by name) or delete the file`,
      { cause: e },
    );
  }
}

/** Atomic replace: a crash leaves either the old or the new file, never a torn one. */
export function saveState(stateDir: string, state: NetworkState): void {
  fs.mkdirSync(stateDir, { recursive: true });
  const file = stateFilePath(stateDir);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
  fs.renameSync(tmp, file);
}

export function removeStateFile(stateDir: string): void {
  fs.rmSync(stateFilePath(stateDir), { force: true });
  fs.rmSync(path.join(stateDir, 'state.lock'), { force: true });
  try {
    fs.rmdirSync(stateDir);
  } catch {
    // Not empty (someone keeps logs there) or already gone: leave it.
  }
}
