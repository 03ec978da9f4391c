export {
  parseSpiffeId,
  parsePrincipal,
  tryParseSpiffeId,
  formatSpiffeId,
  toPrincipal,
  makeIdentity,
  identityEquals,
  principalMatches,
  SPIFFE_SCHEME,
  DEFAULT_TRUST_DOMAIN,
} from './identity';
export type { Identity } from './identity';
