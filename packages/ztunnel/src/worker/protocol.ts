// What the main thread and the data-path workers say to each other. Everything here is a structured clone:
// plain data, PEM strings and protobuf bytes (a worker decodes xDS resources with the same code as the main
// thread), never live objects.
import type { LogLevel } from '@mesh/core';
import type { WorkloadCertificate } from '@mesh/identity';
import type { PodInfo, PodListenerPorts } from '../proxy/index';

/** `workerData` of a data-path worker. */
export interface WorkerSettings {
  readonly id: number;
  readonly network: string;
  readonly trustDomain: string;
  readonly packetMark: number;
  readonly portReuse: boolean;
  readonly ipv6Enabled: boolean;
  readonly podPorts: PodListenerPorts;
  readonly logLevel: LogLevel;
  /** The main thread's accepted state when the worker was started. */
  readonly snapshot: readonly XdsDelta[];
}

/** One accepted xDS response, as resource bytes (Address or Authorization protos). */
export interface XdsDelta {
  readonly kind: 'address' | 'authorization';
  readonly updates: readonly (readonly [name: string, bytes: Uint8Array])[];
  readonly removed: readonly string[];
}

export interface AddPodRequest {
  readonly info: PodInfo;
  /** A dup of the pod's netns fd owned by the worker from here on. */
  readonly netnsFd: number;
}

/** One worker's share of the data path, as /config_dump `workers` shows it. */
export interface WorkerStats {
  readonly worker: number;
  readonly threadId: number;
  /** Connections this worker accepted since start (opened or rejected). */
  readonly connectionsOpened: number;
  readonly activeConnections: number;
  /** uid -> live connections of that pod in this worker. */
  readonly pods: Record<string, number>;
  readonly workloads: number;
  readonly policies: number;
}

export interface DrainReply {
  readonly forced: boolean;
  readonly remaining: number;
}

/** Operations a worker serves. */
export const WorkerOp = {
  ready: 'ready',
  xds: 'xds',
  addPod: 'addPod',
  delPod: 'delPod',
  stopAccepting: 'stopAccepting',
  drain: 'drain',
  stats: 'stats',
  tallies: 'tallies',
  logLevel: 'logLevel',
  certificate: 'certificate',
} as const;

/** Operations the main thread serves for workers. */
export const MainOp = {
  fetchCertificate: 'fetchCertificate',
} as const;

export type { WorkloadCertificate };
