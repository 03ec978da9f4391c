export { authorizeHttp, RBAC_DENIED_BODY, RBAC_DENIED_STATUS, type AuthzDecision, type AuthzReason, type PolicyRef } from './authorize';
export { compilePolicies, stripPort, type CompiledPolicies } from './compile';
export { normalizePathBase, removeDotSegments, type PathNormalizationResult } from './normalize-path';
export type { AuthzRequest } from './request';
export { compileWildcard } from './wildcard';
