export { MeshState, type ResourceUpdate, type Endpoint, type AddressLookup } from './store';
export { PolicyStore, policyKey, GLOBAL_POLICY_NAMESPACE } from './policy-store';
export { serviceKey, type PortMap, type NetworkIp } from './convert';
export { StateRejectedResourcesError, InvalidResourceError, type RejectedResource } from './errors';
export {
  identityOf,
  workloadIdentity,
  spiffeUri,
  principalOf,
  parseSpiffeUri,
  sameIdentity,
  DEFAULT_TRUST_DOMAIN,
  DEFAULT_SERVICE_ACCOUNT,
  type SpiffeIdentity,
} from './identity';
export {
  parseIp,
  formatIp,
  canonicalIp,
  canonicalIpFromBytes,
  canonicalBytes,
  isLoopback,
  isIpv6Text,
  formatSocketAddr,
  networkAddressKey,
} from './ip';
