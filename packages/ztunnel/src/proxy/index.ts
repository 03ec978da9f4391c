export { PodProxy, DEFAULT_POD_PORTS } from './pod-proxy';
export type { PodListenerPorts } from './pod-proxy';
export {
  ILLEGAL_PORTS, INBOUND_HBONE_PORT, INBOUND_PLAINTEXT_PORT, OUTBOUND_PORT, workloadIdentity,
} from './context';
export type { PodContext, PodInfo, ProxyInputs } from './context';
export { ManagedCredentials, CERT_WAIT_TIMEOUT_MS } from './credentials';
export { HostResolver } from './outbound/dns';
export type { WorkloadCredentials } from './credentials';
export type {
  Authorizer, AuthorizationRequest, AuthorizationResult, InboundResolver, InboundTarget, InboundTargetRequest,
  OutboundDecider, OutboundPlan, OutboundRequest, ProxyState, SocketTarget,
} from './types';
