import type { Logger } from '@mesh/core';
import type { XdsPrincipal } from './auth';
import type { XdsMetrics } from './metrics';
import type { ProxyNode } from './node';
import type { ResourceStore } from './resource';
import type { SendBudget } from './send-budget';

/** A response written to a client (emitted as the server's 'push' event; tests record these). */
export interface PushEvent {
  readonly connectionId: string;
  readonly protocol: 'delta' | 'sotw';
  readonly typeUrl: string;
  readonly nonce: string;
  /** Names (and versions) of the resources in the response. */
  readonly resources: readonly { name: string; version: string }[];
  readonly removed: readonly string[];
  readonly bytes: number;
}

export interface NackEvent {
  readonly connectionId: string;
  readonly typeUrl: string;
  readonly nonce: string;
  readonly code: number;
  readonly message: string;
}

/** Per-client, per-type state shown by /debug/syncz. */
export interface SynczTypeStatus {
  readonly typeUrl: string;
  readonly status: 'NOT SENT' | 'SYNCED' | 'STALE' | 'NACKED';
  readonly sentNonce: string;
  readonly ackedNonce: string;
  readonly nackError: string | undefined;
  /** Resources the client holds according to what it reported and what we sent. */
  readonly resourceCount: number;
  readonly wildcard: boolean;
  readonly inFlight: boolean;
}

export interface SynczEntry {
  readonly connectionId: string;
  readonly protocol: 'delta' | 'sotw';
  readonly nodeId: string;
  readonly proxyType: string;
  readonly podName: string;
  readonly namespace: string;
  readonly ip: string;
  readonly nodeName: string;
  readonly clusterId: string;
  readonly identity: string;
  readonly connectedAt: string;
  readonly types: readonly SynczTypeStatus[];
}

/** What a connection needs from the server. */
export interface ConnectionContext {
  readonly store: ResourceStore;
  readonly metrics: XdsMetrics | undefined;
  readonly logger: Logger | undefined;
  /** Shared by every connection: bounds bytes of responses buffered in the transport. */
  readonly budget: SendBudget;
  /**
   * name -> version of the store's current snapshot of a type, immutable and shared by every connection
   * that fully synced from this store generation (rebuilt after the type changes).
   */
  baseline(typeUrl: string): ReadonlyMap<string, string>;
  systemVersion(): string;
  newNonce(): string;
  /** False when nobody listens for 'push': a full sync's event lists 11k names, so it is only built on demand. */
  pushListened(): boolean;
  emitPush(event: PushEvent): void;
  emitNack(event: NackEvent): void;
}

/** The server-side face of one stream, whichever protocol it speaks. */
export interface XdsConnection {
  readonly id: string;
  readonly node: ProxyNode;
  readonly principal: XdsPrincipal;
  /** Debounced change: look at these names of this type again and push what differs. */
  enqueue(typeUrl: string, names: ReadonlySet<string>): void;
  syncz(): SynczEntry;
  close(): void;
}

export function statusOf(sent: string, acked: string, nackError: string | undefined): SynczTypeStatus['status'] {
  if (sent === '') return 'NOT SENT';
  if (nackError !== undefined) return 'NACKED';
  return sent === acked ? 'SYNCED' : 'STALE';
}
