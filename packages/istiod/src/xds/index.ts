export { XdsServer, type XdsServerOptions, type XdsServerEvents } from './server';
export { MemoryResourceStore } from './memory-store';
export { storedResource, contentVersion, type ResourceStore, type ResourceChangeListener, type StoredResource } from './resource';
export {
  allowAllAuthenticator,
  anyOfAuthenticators,
  mtlsAuthenticator,
  staticTokenAuthenticator,
  type AuthRequest,
  type XdsAuthenticator,
  type XdsPrincipal,
} from './auth';
export { parseNode, type ProxyNode } from './node';
export type { NackEvent, PushEvent, SynczEntry, SynczTypeStatus } from './connection-types';
export { XdsBadNodeError, XdsUnauthenticatedError } from './errors';
export { DEFAULT_DEBOUNCE_AFTER_MS, DEFAULT_DEBOUNCE_MAX_MS } from './debouncer';
