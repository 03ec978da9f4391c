import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js';
import type { envoyCore, MessageInitShape, wkt } from '@mesh/api';
import type { Logger } from '@mesh/core';

/** One resource of a response, decoded. */
export interface XdsUpdate<T> {
  readonly name: string;
  readonly version: string;
  readonly resource: T;
}

/**
 * How one type URL is consumed. `apply` must be all-or-nothing: when it throws (or `decode` throws for
 * any resource of the response) the response is NACKed and the client's versions stay at the last good
 * state, so the handler's state must too. `apply` may be async; the ACK is sent after it resolves.
 */
export interface XdsTypeHandler<T> {
  readonly typeUrl: string;
  decode(any: wkt.Any): T;
  apply(updates: readonly XdsUpdate<T>[], removed: readonly string[]): void | Promise<void>;
}

export type NodeInit = MessageInitShape<typeof envoyCore.NodeSchema>;

export interface DeltaXdsClientOptions {
  /** `host:port` of istiod's xDS endpoint (:15012). */
  address: string;
  credentials: ChannelCredentials;
  /**
   * Headers sent on every stream, e.g. `{ authorization: 'Bearer <jwt>', clusterid: 'Kubernetes' }`.
   * A function is called on each (re)connect, so a rotated token is picked up.
   */
  metadata?: Readonly<Record<string, string>> | (() => Readonly<Record<string, string>>);
  node: NodeInit;
  types: readonly XdsTypeHandler<unknown>[];
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  channelOptions?: Partial<ChannelOptions>;
  logger?: Logger;
  /** For deterministic jitter in tests. */
  random?: () => number;
}

export interface DisconnectInfo {
  /** gRPC status code (e.g. 16 UNAUTHENTICATED, 14 UNAVAILABLE). */
  readonly code: number;
  readonly details: string;
  /** Human readable: `UNAUTHENTICATED: <details>`. */
  readonly reason: string;
  /** Delay before the next attempt, or undefined when the client was closed. */
  readonly retryInMs: number | undefined;
}

export interface NackInfo {
  readonly typeUrl: string;
  readonly nonce: string;
  readonly error: Error;
}

export interface ResponseInfo {
  readonly typeUrl: string;
  readonly nonce: string;
  readonly systemVersionInfo: string;
  readonly resources: readonly { name: string; version: string }[];
  readonly removed: readonly string[];
  readonly accepted: boolean;
}

export interface DeltaXdsClientEvents {
  connected: [];
  disconnected: [DisconnectInfo];
  /** Every subscribed type got its first response on this stream. */
  synced: [];
  nack: [NackInfo];
  response: [ResponseInfo];
}

/** Keeps `T` inferred inside an inline handler while the options hold handlers of mixed types. */
export function defineXdsType<T>(handler: XdsTypeHandler<T>): XdsTypeHandler<unknown> {
  return handler as XdsTypeHandler<unknown>;
}
