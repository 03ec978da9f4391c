// CORS policies compiled into the route's Envoy-shaped CorsPolicy, as Istio builds the route-level
// envoy.config.route.v3.CorsPolicy (I:pilot/pkg/networking/core/route/route.go TranslateCORSPolicy for
// VirtualService corsPolicy; I:pilot/pkg/config/kube/gateway/conversion.go createCorsFilter for the Gateway
// API CORS filter, which becomes a VirtualService corsPolicy first).
import { create, tryParseDuration, waypoint, type CorsPolicy, type HTTPCORSFilter, type StringMatch } from '@mesh/api';
import { kindOf } from './common';

type Warn = (message: string) => void;

/** Gateway API HTTPCORSFilter.maxAge default (CRD `default: 5`), which the API server stores when unset. */
export const GATEWAY_CORS_DEFAULT_MAX_AGE_SECONDS = 5;

function originMatch(m: StringMatch, i: number, warn: Warn): waypoint.StringMatch | undefined {
  const kind = kindOf(m);
  if (kind.case !== undefined) return create(waypoint.StringMatchSchema, { kind });
  warn(`corsPolicy.allowOrigins[${i}] has no exact, prefix or regex; it allows nothing`);
  return undefined;
}

/**
 * VirtualService corsPolicy. Istio: allowOrigins (else the deprecated allowOrigin as exact matches), lists
 * joined with ",", maxAge as whole seconds, allowCredentials as given, and unmatchedPreflights IGNORE as
 * forward_not_matching_preflights=false (FORWARD and UNSPECIFIED forward, Envoy's default).
 */
export function compileVsCors(p: CorsPolicy, warn: Warn): waypoint.CorsPolicy {
  const origins = (p.allowOrigins?.length ?? 0) > 0
    ? (p.allowOrigins ?? []).flatMap((m, i) => originMatch(m, i, warn) ?? [])
    : (p.allowOrigin ?? []).map((o) => create(waypoint.StringMatchSchema, { kind: { case: 'exact', value: o } }));
  let maxAge = '';
  if (p.maxAge !== undefined) {
    const ms = tryParseDuration(p.maxAge);
    if (ms === undefined) warn(`corsPolicy.maxAge: invalid duration ${JSON.stringify(p.maxAge)}; no Access-Control-Max-Age is sent`);
    // Istio sends MaxAge.GetSeconds(): the whole seconds, fractions dropped.
    else maxAge = String(Math.floor(ms / 1000));
  }
  return create(waypoint.CorsPolicySchema, {
    allowOrigins: origins,
    allowMethods: (p.allowMethods ?? []).join(','),
    allowHeaders: (p.allowHeaders ?? []).join(','),
    exposeHeaders: (p.exposeHeaders ?? []).join(','),
    maxAge,
    allowCredentials: p.allowCredentials ?? false,
    unmatchedPreflights: p.unmatchedPreflights === 'IGNORE' ? waypoint.UnmatchedPreflights.IGNORE : waypoint.UnmatchedPreflights.FORWARD,
  });
}

/**
 * Gateway API CORS filter through Istio's createCorsFilter: every origin an exact match (so "*" allows all,
 * through Envoy's match("*") rule), credentials only when true, maxAge only when positive; unmatched
 * preflights are forwarded. Unlike the Gateway API spec, an origin wildcard such as "https://*.example.com"
 * does not match subdomains: Istio leaves it a literal exact match (its TODO, gateway-api#3648), and so do
 * we, with a warning so the difference is not silent.
 */
export function compileGatewayCors(f: HTTPCORSFilter, warn: Warn): waypoint.CorsPolicy {
  const origins = (f.allowOrigins ?? []).filter((o) => o !== '');
  for (const o of origins) {
    if (o !== '*' && o.includes('*')) warn(`CORS allowOrigins ${JSON.stringify(o)}: wildcards other than "*" are matched literally, as Istio does`);
  }
  const maxAge = f.maxAge ?? GATEWAY_CORS_DEFAULT_MAX_AGE_SECONDS;
  return compileVsCors({
    allowOrigins: origins.map((exact) => ({ exact })),
    allowCredentials: f.allowCredentials === true,
    allowMethods: f.allowMethods ?? [],
    allowHeaders: f.allowHeaders ?? [],
    exposeHeaders: f.exposeHeaders ?? [],
    ...(maxAge > 0 ? { maxAge: `${maxAge}s` } : {}),
  }, warn);
}
