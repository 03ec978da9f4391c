export { relay, recordOpen, recordRejected, clientSideCounts, upstreamSideCounts } from './relay';
export type { ByteCounts, ConnectionRecord } from './relay';
export { ConnectionSet } from './connection-set';
export type { Closable } from './connection-set';
