export { UpstreamState, DEFAULT_TRUST_DOMAIN, type UpstreamWorkload, type UpstreamService, type Endpoint, type PortMapping, type ServicePortInfo } from './mesh-state';
export { portHttpVersion, type UpstreamHttpVersion } from './protocol';
export { connectDirect, originatesTls, transportKey, UpstreamTlsError, type DirectConnect, type UpstreamTransport } from './direct';
export { HboneAgents, UPSTREAM_CONNECT_TIMEOUT_MS, type HboneAgentsOptions } from './hbone-agents';
export { bytesToIp, canonicalIp, hostPort } from './ip';
export { affinityFor, EndpointPicker, endpointKey, hash32, hashKeyFor, lbPolicyOf, RING_POINTS_PER_ENDPOINT, type Affinity, type LbPolicy, type PickInput } from './lb';
export { OutlierDetector, outcomeOfStatus, MAX_EJECTION_TIME_MS, type UpstreamOutcome } from './outlier';
export { ConnectionPoolLimiter, type Admission, type CancelSignal } from './pool';
export { UpstreamCluster, UpstreamClusters, type ClusterSnapshot, type TrafficPolicyLookup } from './lb-clusters';
