// What the per-pod listeners share: the pod (from ZDS), its netns, and the proxy-wide inputs.
import type { Drain, Logger } from '@mesh/core';
import type { HbonePool } from '@mesh/hbone';
import type { Identity } from '@mesh/identity';
import type { Workload } from '@mesh/api';
import type { ProxyMetrics } from '../metrics/index';
import type { ConnectionSet } from './copy/index';
import type { WorkloadCredentials } from './credentials';
import type { Authorizer, InboundResolver, OutboundDecider, ProxyState } from './types';

export const OUTBOUND_PORT = 15001;
export const INBOUND_PLAINTEXT_PORT = 15006;
export const INBOUND_HBONE_PORT = 15008;
/** Ports whose use as a destination would loop back into ztunnel (Z:src/config.rs `illegal_ports`). */
export const ILLEGAL_PORTS: ReadonlySet<number> = new Set([OUTBOUND_PORT, INBOUND_PLAINTEXT_PORT, INBOUND_HBONE_PORT]);

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
