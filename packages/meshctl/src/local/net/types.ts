import type { SpawnInNetnsOptions } from './processes';
import type { RunOptions } from './run';
import type { PodState, ServicePort } from './state';

export interface NetLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
}

export interface LocalNetworkOptions {
  cluster: string;
  /** netns name prefix; default `mesh-<cluster>-`. */
  prefix?: string;
  /** Default /run/mesh-local/<cluster>. */
  stateDir?: string;
  logger?: NetLogger;
}

export interface UpOptions {
  /** A count (kind-style names `<cluster>-control-plane`, `<cluster>-worker`, `<cluster>-worker2`...) or names. */
  nodes: number | readonly string[];
}

export interface PodRef {
  namespace: string;
  name: string;
}

export interface AddPodOptions {
  labels?: Record<string, string>;
  serviceAccount?: string;
}

export interface ServiceSpec {
  namespace: string;
  name: string;
  ports: ServicePort[];
  selector?: Record<string, string>;
  endpointIps?: string[];
}

export interface DownReport {
  netns: string[];
  killedPids: number[];
}

export type ExecOptions = RunOptions;
export type SpawnOptions = SpawnInNetnsOptions;

export interface NodeSpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** Log file for the component's stdout/stderr and its supervisor's exit line. */
  log: string;
  /** Names the component in log lines, e.g. `ztunnel on node-a`. */
  label?: string;
}

export const NOOP_LOGGER: NetLogger = { debug: () => undefined, info: () => undefined };

export function kindNodeNames(cluster: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) =>
    i === 0 ? `${cluster}-control-plane` : `${cluster}-worker${i === 1 ? '' : String(i)}`,
  );
}

export function podEnv(pod: PodState): Record<string, string> {
  return {
    POD_NAME: pod.name,
    POD_NAMESPACE: pod.namespace,
    POD_IP: pod.ip,
    NODE_NAME: pod.node,
    SERVICE_ACCOUNT: pod.serviceAccount,
    HOSTNAME: pod.name,
  };
}

