// The route's CORS policy applied as Envoy's envoy.filters.http.cors does (E:source/extensions/filters/http/cors/
// cors_filter.cc, decodeHeaders / encodeHeaders; E:docs/root/configuration/http/http_filters/cors_filter.rst).
// Istio places the filter after RBAC and fault and before the router, with the policy on the route.
import { waypoint } from '@mesh/api';
import type { Route } from '../config/types';
import { headerValue, type RouteRequest } from './request';
import { compileStringMatch, type MatcherProblems, type StringPredicate } from './string-matchers';

type CorsPolicy = waypoint.CorsPolicy;

/**
 * What the CORS filter does with one request:
 * - `preflight`: answer 200 with exactly `headers` (no body, nothing forwarded);
 * - `actual`: continue, and set `headers` on whatever response the request ends with (upstream, direct
 *   response, redirect or a router-generated 503/504: Envoy's encodeHeaders runs for all of them);
 * - undefined: the filter leaves the request and its response alone.
 */
export type CorsDecision =
  | { readonly kind: 'preflight'; readonly headers: Readonly<Record<string, string>> }
  | { readonly kind: 'actual'; readonly headers: Readonly<Record<string, string>> }
  | undefined;

const compiled = new WeakMap<CorsPolicy, StringPredicate>();
const IGNORE_PROBLEMS: MatcherProblems = { push: () => undefined };
const anyOrigin: StringPredicate = () => true;

/**
 * Precompiles the policy's origin check (config time) as Envoy's isOriginAllowed: a matcher that accepts the
 * literal "*" allows every origin. Invalid regexes never match and are reported.
 */
export function compileCors(policy: CorsPolicy, where: string, problems: MatcherProblems): StringPredicate {
  let allowed = compiled.get(policy);
  if (allowed === undefined) {
    const matchers = policy.allowOrigins.map((o, i) => compileStringMatch(o.kind, `${where} cors allowOrigins[${i}]`, problems));
    allowed = matchers.some((m) => m('*')) ? anyOrigin : (origin) => matchers.some((m) => m(origin));
    compiled.set(policy, allowed);
  }
  return allowed;
}

function originAllowed(policy: CorsPolicy, origin: string): boolean {
  // Policies reach here precompiled by compileService; the fallback only serves policies built elsewhere.
  return compileCors(policy, 'cors', IGNORE_PROBLEMS)(origin);
}

/** encodeHeaders for a request whose origin matched: what every response to it carries. */
function responseHeaders(policy: CorsPolicy, origin: string, into: Record<string, string>): Record<string, string> {
  into['access-control-allow-origin'] = origin;
  if (policy.allowCredentials) into['access-control-allow-credentials'] = 'true';
  if (policy.exposeHeaders !== '') into['access-control-expose-headers'] = policy.exposeHeaders;
  return into;
}

/** decodeHeaders' preflight answer; the encoder pass (responseHeaders) then runs on it too, as on any reply. */
function preflightHeaders(policy: CorsPolicy, headers: RouteRequest['headers'], origin: string | undefined, requestMethod: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (origin !== undefined) out['access-control-allow-origin'] = origin;
  if (policy.allowCredentials) out['access-control-allow-credentials'] = 'true';
  if (policy.allowMethods !== '') out['access-control-allow-methods'] = policy.allowMethods === '*' ? requestMethod : policy.allowMethods;
  if (policy.allowHeaders !== '') {
    // Envoy sets the echoed value even when the request sent none (an empty header).
    out['access-control-allow-headers'] = policy.allowHeaders === '*' ? headerValue(headers, 'access-control-request-headers') ?? '' : policy.allowHeaders;
  }
  if (policy.maxAge !== '') out['access-control-max-age'] = policy.maxAge;
  return origin === undefined ? out : responseHeaders(policy, origin, out);
}

export function evaluateCors(route: Route, method: string, headers: RouteRequest['headers']): CorsDecision {
  const policy = route.cors;
  if (policy === undefined) return undefined;
  const origin = headerValue(headers, 'origin');
  if (origin === undefined || origin === '') return undefined;
  const allowed = originAllowed(policy, origin);
  const actual: CorsDecision = allowed ? { kind: 'actual', headers: responseHeaders(policy, origin, {}) } : undefined;
  if (method !== 'OPTIONS') return actual;
  const requestMethod = headerValue(headers, 'access-control-request-method') ?? '';
  if (requestMethod === '') return actual;
  if (!allowed && policy.unmatchedPreflights !== waypoint.UnmatchedPreflights.IGNORE) return undefined;
  return { kind: 'preflight', headers: preflightHeaders(policy, headers, allowed ? origin : undefined, requestMethod) };
}

type HeadFields = Record<string, string | number | readonly string[] | undefined>;

/** The response surface CORS decorates: an HTTP/1.1 response, or HTTP/2 compat with its stream. */
interface HeadWriter {
  writeHead(status: number, headers?: HeadFields): unknown;
  readonly stream?: { respond(headers?: HeadFields, options?: object): void };
}

/**
 * Makes the response's head carry `extra`, overriding the same names from upstream (Envoy's setInline), on
 * every reply path (upstream, direct response, redirect, local 503/504). HTTP/2 heads all leave through
 * stream.respond (compat writeHead included, and the END_STREAM headers-only answers that bypass writeHead).
 */
export function addCorsResponseHeaders(res: HeadWriter, extra: Readonly<Record<string, string>>): void {
  const stream = res.stream;
  if (stream !== undefined) {
    const respond = stream.respond.bind(stream);
    stream.respond = (headers, options) => respond({ ...headers, ...extra }, options);
    return;
  }
  const writeHead = res.writeHead.bind(res);
  res.writeHead = (status, headers) => writeHead(status, { ...headers, ...extra });
}
