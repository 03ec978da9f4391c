export type { Authenticator, AuthCall, CallerIdentity } from './types';
export { AuthUnauthenticatedError, AuthTokensFileError } from './errors';
export { bearerTokenOf, withClusterCheck, AUTHORIZATION_HEADER, CLUSTER_ID_HEADER } from './bearer';
export { tokenFileAuthenticator, parseTokensFile, type TokenEntry, type TokenFileAuthenticatorOptions } from './token-file';
export {
  kubeTokenReviewAuthenticator,
  callerFromTokenReview,
  ISTIO_CA_AUDIENCE,
  type TokenReviewer,
  type TokenReviewStatus,
  type PodLookup,
  type PodInfo,
  type KubeTokenReviewAuthenticatorOptions,
} from './kube-token-review';
export { cachedTokenReviewer, jwtExpiryMs, TOKEN_REVIEW_CACHE_TTL_MS, type TokenReviewCacheOptions } from './token-review-cache';
export { loadKubeConfig, kubeTokenReviewer, kubePodLookup } from './kube-client';
export { xdsAuthenticatorOf } from './xds-adapter';
