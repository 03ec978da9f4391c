import { defineMeshError } from '@mesh/core';

/** The caller's credentials were missing or not accepted; answered with gRPC UNAUTHENTICATED. */
export const AuthUnauthenticatedError = defineMeshError(
  'ISTIOD_AUTH_UNAUTHENTICATED',
  'AuthUnauthenticatedError',
  (d: { peer: string; reason: string }) =>
    `caller ${d.peer} is not authenticated: ${d.reason}; check the client's "authorization: Bearer <token>" ` +
    'header (token file / projected service-account token with audience istio-ca) and its "clusterid" header',
);

/** The tokens file could not be read or parsed. */
export const AuthTokensFileError = defineMeshError(
  'ISTIOD_AUTH_TOKENS_FILE',
  'AuthTokensFileError',
  (d: { path: string; reason: string }) =>
    `tokens file ${d.path} is unusable: ${d.reason}; expected a YAML/JSON list of ` +
    '{token, namespace, serviceAccount, podName?, nodeName?} (or {tokens: [...]})',
);
