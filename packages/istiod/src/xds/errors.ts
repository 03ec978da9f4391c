import { defineMeshError } from '@mesh/core';

/** A stream's credentials were missing or wrong; the stream ends with gRPC UNAUTHENTICATED. */
export const XdsUnauthenticatedError = defineMeshError(
  'XDS_UNAUTHENTICATED',
  'XdsUnauthenticatedError',
  (d: { peer: string; reason: string }) =>
    `xDS client ${d.peer} is not authenticated: ${d.reason}; check the client's bearer token / client certificate`,
);

/** The client's Node is unusable (missing on the first request, or an id that is not `type~ip~id~domain`). */
export const XdsBadNodeError = defineMeshError(
  'XDS_BAD_NODE',
  'XdsBadNodeError',
  (d: { id: string; reason: string }) =>
    `xDS node id ${JSON.stringify(d.id)} is invalid: ${d.reason}; ` +
    'expected "<type>~<ip>~<pod>.<namespace>~<namespace>.svc.cluster.local" on the first request',
);
