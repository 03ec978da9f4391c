export { authenticateJwt, type JwtOutcome, type JwtRequest } from './authenticate';
export { findToken, type FoundToken, type TokenLocation } from './extract';
export { KeySets, JWKS_FETCH_TIMEOUT_MS, JWKS_REFRESH_INTERVAL_MS, type KeySetOptions } from './keys';
export { JwtAuthError, JWT_STATUS, type JwtFailureCode } from './errors';
