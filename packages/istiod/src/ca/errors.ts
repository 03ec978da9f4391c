import { defineMeshError } from '@mesh/core';

/** The caller may not obtain a certificate for the requested identity (gRPC UNAUTHENTICATED, as Istio). */
export const CaImpersonationDeniedError = defineMeshError(
  'ISTIOD_CA_IMPERSONATION_DENIED',
  'CaImpersonationDeniedError',
  (d: { caller: string; requested: string; reason: string }) =>
    `${d.caller} may not request a certificate for ${d.requested}: ${d.reason}`,
);

/** The CA's key material could not be loaded or persisted. */
export const CaStateError = defineMeshError(
  'ISTIOD_CA_STATE',
  'CaStateError',
  (d: { path: string; reason: string }) => `CA state at ${d.path} is unusable: ${d.reason}`,
);
