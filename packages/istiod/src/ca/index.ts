export { CaService, IMPERSONATED_IDENTITY_KEY, type CaServiceOptions } from './ca-service';
export { NodeAuthorizer, DEFAULT_TRUSTED_NODE_ACCOUNTS, type NodeAuthorizerOptions } from './node-auth';
export { InMemoryNodePodIndex, applyPodEvent, type NodePodIndex, type PodEventLike } from './node-pod-index';
export { createCaMetrics, type CaMetrics } from './metrics';
export { CaImpersonationDeniedError, CaStateError } from './errors';
export {
  directoryCaStore,
  loadOrCreateSelfSignedCa,
  loadPluginCa,
  caFromStored,
  hasPluginCa,
  publishRootCert,
  writeFileAtomic,
  CA_CERT_FILE,
  CA_KEY_FILE,
  type CaSecretStore,
  type SelfSignedCaPems,
  type SelfSignedCaOptions,
} from './ca-store';
export { kubernetesCaSecretStore, CA_SECRET_NAME } from './kube-ca-secret';
export { issueServingCert, RotatingServingCert, DEFAULT_SERVING_CERT_TTL_MS, type ServingCertificate, type ServingCertOptions } from './serving-cert';
export { RootCertPublisher, ROOT_CERT_CONFIGMAP, ROOT_CERT_KEY, ROOT_CERT_IGNORED_NAMESPACES, type RootCertPublisherOptions } from './root-cert-configmap';
export { CaReloader, openCa, pluginCaReader, storedCaReader, type OpenCaOptions, type CaReader, type CaChange, type CaChangeListener, type CaReloaderOptions } from './ca-reloader';
