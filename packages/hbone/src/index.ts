export * from './constants';
export { HboneError, HboneConnectRefusedError, isHboneError } from './errors';
export type { HboneErrorCode } from './errors';
export { parseAuthority, tryParseAuthority, formatAuthority } from './authority';
export type { HboneAuthority } from './authority';
export * from './headers/index';
export {
  parseSubjectAltNames,
  uriSans,
  spiffeIdentities,
  parseSpiffeId,
  verifyServerSans,
  trustDomainVerifier,
} from './tls/identity';
export type { SpiffeId } from './tls/identity';
export { createHboneSecureContext } from './tls/context';
export type { HboneCredentials } from './tls/context';
export { startKeepalive } from './keepalive';
export type { KeepaliveOptions } from './keepalive';
export { bridge } from './bridge';
export { createHboneServer } from './server/server';
export type { HboneServer, HboneServerOptions } from './server/server';
export { HboneTunnelRequest } from './server/tunnel-request';
export type { HbonePeer, HboneConnectionInfo, HboneRequestHeaders, SocketAddress } from './server/tunnel-request';
export { HbonePool, getTunnelInfo } from './client/pool';
export type { WorkloadKey, HbonePoolOptions, HboneConnectRequest, HboneTunnelInfo } from './client/pool';
export type { HboneTlsOptions } from './client/establish';
