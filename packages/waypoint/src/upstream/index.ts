export { UpstreamState, DEFAULT_TRUST_DOMAIN, type UpstreamWorkload, type UpstreamService, type Endpoint, type PortMapping } from './mesh-state';
export { HboneAgents, UPSTREAM_CONNECT_TIMEOUT_MS, type HboneAgentsOptions } from './hbone-agents';
export { bytesToIp, canonicalIp, hostPort } from './ip';
