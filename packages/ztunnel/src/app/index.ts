export { ZtunnelApp } from './ztunnel-app';
export type { AppState, ZtunnelAppOptions } from './ztunnel-app';
export { ztunnelConfig, grpcTarget } from './config';
export type { ZtunnelConfig } from './config';
export { createCaFetch } from './ca';
export { createXdsClient, nodeId } from './xds';
export { interimDecider, interimInboundResolver } from './interim-decision';
