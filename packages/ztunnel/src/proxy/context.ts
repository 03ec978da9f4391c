// What the per-pod listeners share: the pod (from ZDS), its netns, and the proxy-wide inputs.
import type { Drain, Logger } from '@mesh/core';
import type { HbonePool } from '@mesh/hbone';
import type { NetnsSocketPool } from '@mesh/netns';
import type { Identity } from '@mesh/identity';
import type { Workload } from '@mesh/api';
import type { ProxyMetrics } from '../metrics/index';
import type { ConnectionSet } from './copy/index';
import type { HostResolver } from './outbound/dns';
import type { WorkloadCredentials } from './credentials';
import type { Authorizer, InboundResolver, OutboundDecider, ProxyState } from './types';

// The in-pod ports are defined once, in the decision module (Z:src/config.rs).
export {
  ZTUNNEL_OUTBOUND_PORT as OUTBOUND_PORT,
  ZTUNNEL_INBOUND_PLAINTEXT_PORT as INBOUND_PLAINTEXT_PORT,
  HBONE_PORT as INBOUND_HBONE_PORT,
  ILLEGAL_PORTS,
} from './decision/index';

export interface ProxyInputs {
  readonly state: ProxyState;
  readonly decide: OutboundDecider;
  readonly authorize: Authorizer;
  readonly resolveInbound: InboundResolver;
  readonly credentials: WorkloadCredentials;
  readonly metrics: ProxyMetrics;
  readonly logger: Logger;
  /** The `access` logger (connection open/close lines). */
  readonly accessLog: Logger;
  readonly network: string;
  readonly trustDomain: string;
  /** SO_MARK of every socket ztunnel opens in a pod (PACKET_MARK). */
  readonly packetMark: number;
  readonly portReuse: boolean;
  readonly ipv6Enabled: boolean;
  /** On-demand DNS for hostname-only workloads (one answer cache per data path). */
  readonly hostResolver: HostResolver;
  readonly drain: Drain;
}

/** One enrolled pod, as the CNI agent described it over ZDS. */
export interface PodInfo {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

export interface PodContext {
  readonly info: PodInfo;
  readonly netnsFd: number;
  /** Sockets made ahead of time in the pod netns: connections from the pod never wait for the netns helper. */
  readonly sockets: NetnsSocketPool;
  readonly connections: ConnectionSet;
  readonly pool: HbonePool;
  readonly logger: Logger;
}

/** The pod's own workload in the xDS state: matched by its IP and checked against ZDS name/namespace. */
export function podWorkload(inputs: ProxyInputs, pod: PodContext, ip: string): Workload | undefined {
  const wl = inputs.state.workloadByAddress(inputs.network, ip);
  if (wl === undefined || wl.name !== pod.info.name || wl.namespace !== pod.info.namespace) return undefined;
  return wl;
}

export function workloadIdentity(wl: Workload, defaultTrustDomain: string): Identity {
  return {
    trustDomain: wl.trustDomain || defaultTrustDomain,
    namespace: wl.namespace,
    serviceAccount: wl.serviceAccount || 'default',
  };
}
