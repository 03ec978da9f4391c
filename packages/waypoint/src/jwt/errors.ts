import { MeshError } from '@mesh/core';

// Envoy jwt_authn's failure statuses (source/extensions/filters/http/jwt_authn and common/jwt status
// strings): the body of the 401 an Istio RequestAuthentication answers for a present but bad token.
export const JWT_STATUS = {
  malformed: 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections',
  badHeader: 'Jwt header is an invalid JSON',
  badPayload: 'Jwt payload is an invalid JSON',
  unknownIssuer: 'Jwt issuer is not configured',
  audience: 'Audiences in Jwt are not allowed',
  expired: 'Jwt is expired',
  notYetValid: 'Jwt not yet valid',
  noKey: "Jwks doesn't have key to match kid or alg from Jwt",
  verification: 'Jwt verification fails',
  fetchFailed: 'Jwks remote fetch is failed',
  badJwks: 'Jwks is an invalid JSON',
} as const;

export type JwtFailureCode = keyof typeof JWT_STATUS;

/**
 * A present token that did not verify. `code` is stable (WAYPOINT_JWT_<REASON>), the message is Envoy's text
 * (it becomes the 401 body), and `cause` keeps jose's detailed error for the operator's logs.
 */
export class JwtAuthError extends MeshError {
  constructor(readonly reason: JwtFailureCode, cause?: unknown) {
    super(`WAYPOINT_JWT_${reason.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`, JWT_STATUS[reason], cause === undefined ? undefined : { cause });
  }
}
