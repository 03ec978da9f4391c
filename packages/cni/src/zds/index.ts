export {
  DEFAULT_ZDS_ACK_TIMEOUT_MS,
  DEFAULT_ZTUNNEL_UDS_PATH,
  ZdsServer,
  type ZdsServerEvents,
  type ZdsServerOptions,
  type ZdsSnapshotEntry,
  type ZdsWorkloadInfo,
} from './server';
export { ZdsConnection, type ZdsConnectionOptions, type ZdsPhase } from './connection';
export { ZdsAckTimeoutError, ZdsConnectionClosedError, ZdsNackError, ZdsNoZtunnelError, ZdsProtocolError } from './errors';
