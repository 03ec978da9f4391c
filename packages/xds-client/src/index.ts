export { DeltaXdsClient } from './client';
export { Backoff, DEFAULT_INITIAL_BACKOFF_MS, DEFAULT_MAX_BACKOFF_MS } from './backoff';
export { XdsRejectedResponseError } from './errors';
export { defineXdsType } from './types';
export { proxyNode, proxyNodeId, xdsConnectionOptions } from './connection-options';
export type { ProxyNodeIdentity, XdsConnectionConfig, XdsConnectionOptions } from './connection-options';
export type {
  DeltaXdsClientEvents,
  DeltaXdsClientOptions,
  DisconnectInfo,
  NackInfo,
  NodeInit,
  ResponseInfo,
  XdsTypeHandler,
  XdsUpdate,
} from './types';
