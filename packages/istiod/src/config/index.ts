export { ConfigStore, type ConfigStoreOptions } from './store';
export { DirectorySource, type DirectorySourceOptions, DIRECTORY_POLL_INTERVAL_MS, DIRECTORY_DEBOUNCE_MS } from './directory-source';
export { KubernetesSource, type KubernetesSourceOptions, KubeListError, KUBE_BACKOFF_INITIAL_MS, KUBE_BACKOFF_MAX_MS } from './kube-source';
export { WATCHED_RESOURCES, collectionPath, type WatchedResource } from './kube-resources';
export { readManifestFile, identityOf, type RawManifestObject, type ManifestFileResult } from './manifest-file';
export type {
  AnyConfigEvent,
  ConfigEvent,
  ConfigBatchListener,
  ConfigEventListener,
  ConfigEventType,
  InvalidResourceReport,
  RawConfigChange,
} from './types';
