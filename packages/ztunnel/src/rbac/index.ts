export {
  Authorizer,
  evaluatePolicies,
  type RbacConnection,
  type AuthorizationDecision,
  type AuthorizationReason,
  type DryRunResult,
  type PolicySource,
  type ApplicablePolicies,
} from './authorize';
export { compilePolicy, parseCidr, cidrContains, type CompiledPolicy, type Cidr } from './compile';
export type { MatchTrace } from './match';
