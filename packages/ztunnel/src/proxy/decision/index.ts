export {
  decideOutbound,
  serviceRef,
  type OutboundPlan,
  type DnsTarget,
  type OutboundRoute,
  type OutboundRequest,
  type OutboundOptions,
  type SocketAddress,
  type ServiceRef,
} from './outbound';
export {
  parseAuthority,
  validateInboundAuthority,
  resolveInboundPort,
  type HboneTarget,
  type InboundResult,
  type InboundUpstream,
} from './inbound';
export { EndpointPicker, type LbStrategy, type Upstream } from './upstream';
export { isFromGateway, resolveWaypoint } from './waypoint';
export { HBONE_PORT, ZTUNNEL_OUTBOUND_PORT, ZTUNNEL_INBOUND_PLAINTEXT_PORT, ILLEGAL_PORTS } from './ports';
export {
  SelfCallError,
  NoHealthyUpstreamError,
  UnknownWaypointError,
  NoValidDestinationError,
  CrossNetworkUnsupportedError,
  BadAuthorityError,
  IpMismatchError,
  NoPortForServiceError,
  UnknownHostnameError,
} from './errors';
