export { compileService, type CompiledService, type CompiledRoute, type CompiledMatch } from './compile';
export { selectRoute, type RouteSelection } from './select';
export { pickWeighted, type Weighted } from './weighted';
export { type RouteRequest, headerValue, splitPathAndQuery } from './request';
export { compileFullRegex } from './string-matchers';
export { rewriteTarget, rewriteAuthority, redirectLocation, type RedirectRequest } from './rewrite';
export { evaluateCors, addCorsResponseHeaders, type CorsDecision } from './cors';
