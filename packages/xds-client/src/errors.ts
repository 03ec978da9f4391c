import { defineMeshError } from '@mesh/core';

/** A response could not be decoded or applied; the client NACKs it and keeps its last good state. */
export const XdsRejectedResponseError = defineMeshError(
  'XDS_RESPONSE_REJECTED',
  'XdsRejectedResponseError',
  (d: { typeUrl: string; reason: string }) =>
    `rejected xDS response for ${d.typeUrl}: ${d.reason}; check istiod's logs and that both sides use the same proto versions`,
);
