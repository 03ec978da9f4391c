import { tryParseDuration } from '../duration';
import type { ValidationContext } from '../validate/context';
import {
  anyString,
  arr,
  at,
  bool,
  type Check,
  eachIn,
  has,
  int,
  isObj,
  istioDuration,
  anyDuration,
  lenOf,
  mapOf,
  nonNegInt,
  type Obj,
  obj,
  oneOf,
  percent,
  port,
  stringList,
  stringMap,
  str,
} from '../validate/schema';
import { exportTo, HEADER_NAME_RE, labels, regexString, stringMatch, wildcardHost } from './common';

const percentObj = obj({ value: percent });

export const destination: Check = obj(
  {
    host: str({ nonEmpty: true, check: (s, ctx) => {
      if (s === '*') ctx.error('INVALID_FORMAT', 'invalid destination host "*"');
    } }),
    subset: str({ nonEmpty: true, pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, format: 'a DNS-1123 label' }),
    port: obj({ number: port }),
  },
  { required: ['host'] },
);

const headerOps = obj({ set: stringMap, add: stringMap, remove: stringList });
const headers = obj({ request: headerOps, response: headerOps });

const httpMatch = obj({
  name: anyString,
  uri: stringMatch,
  scheme: stringMatch,
  method: stringMatch,
  authority: stringMatch,
  headers: mapOf(stringMatch),
  port,
  sourceLabels: labels,
  gateways: stringList,
  queryParams: mapOf(stringMatch),
  ignoreUriCase: bool,
  withoutHeaders: mapOf(stringMatch),
  sourceNamespace: anyString,
  statPrefix: anyString,
});

/** Istio: weights are relative, >= 0, and with several destinations their total must not be 0. */
function weightsCheck(route: unknown, ctx: ValidationContext): void {
  if (!Array.isArray(route) || route.length < 2) return;
  let total = 0;
  for (const d of route) total += typeof (d as Obj)?.weight === 'number' ? ((d as Obj).weight as number) : 0;
  if (total === 0) ctx.error('CONSTRAINT', 'total destination weight = 0: give at least one destination a weight > 0');
}

const httpRouteDestination = obj({ destination, weight: int(0), headers }, { required: ['destination'] });
const routeDestination = obj({ destination, weight: int(0) }, { required: ['destination'] });

const RETRY_ON = new Set([
  '5xx', 'gateway-error', 'reset', 'reset-before-request', 'connect-failure', 'envoy-ratelimited', 'retriable-4xx',
  'refused-stream', 'retriable-status-codes', 'retriable-headers', 'http3-post-connect-failure', 'cancelled',
  'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
]);

const retries = obj(
  {
    attempts: nonNegInt,
    perTryTimeout: istioDuration,
    retryOn: str({ check: (s, ctx) => {
      for (const p of s.split(',')) {
        if (!RETRY_ON.has(p) && !/^[1-5]\d\d$/.test(p)) ctx.error('INVALID_ENUM', `${JSON.stringify(p)} is not a valid retryOn policy`);
      }
    } }),
    retryRemoteLocalities: bool,
    backoff: istioDuration,
  },
  {
    check: (r, ctx) => {
      if (r['attempts'] === 0 && (has(r, 'perTryTimeout') || has(r, 'retryOn'))) {
        ctx.error('CONSTRAINT', 'retry policy configured while attempts is 0 (retries disabled)');
      }
    },
  },
);

const fault = obj(
  {
    delay: obj({ fixedDelay: istioDuration, percentage: percentObj, percent: int(0, 100) }),
    abort: obj({ httpStatus: int(200, 599), grpcStatus: anyString, percentage: percentObj }),
  },
  { check: (f, ctx) => {
    if (!has(f, 'delay') && !has(f, 'abort')) ctx.error('CONSTRAINT', 'fault injection must have an abort and/or a delay');
  } },
);

const redirect = obj(
  {
    uri: anyString,
    authority: anyString,
    port,
    derivePort: oneOf(['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT'], 'derivePort'),
    scheme: oneOf(['http', 'https'], 'redirect scheme'),
    redirectCode: int(300, 399),
  },
  { check: (r, ctx) => {
    if (!['uri', 'authority', 'port', 'derivePort', 'scheme'].some((k) => has(r, k))) {
      ctx.error('CONSTRAINT', 'redirect must specify uri, authority, scheme or port');
    }
  } },
);

const rewrite = obj(
  { uri: anyString, authority: anyString, uriRegexRewrite: obj({ match: regexString, rewrite: anyString }, { required: ['match', 'rewrite'] }) },
  { check: (r, ctx) => {
    if (has(r, 'uri') && has(r, 'uriRegexRewrite')) ctx.error('CONSTRAINT', 'rewrite may only contain one of uri or uriRegexRewrite');
    if (!has(r, 'uri') && !has(r, 'uriRegexRewrite') && !has(r, 'authority')) {
      ctx.error('CONSTRAINT', 'rewrite must specify at least one of uri, uriRegexRewrite or authority');
    }
  } },
);

// Istio's validateCORSPolicy (I:pkg/config/validation/validation.go): supportedCORSMethods, ValidateCORSHTTPHeaderName
// ("*" or an RFC 7230 token), non-empty origins, and maxAge a whole number of seconds (Envoy takes seconds).
const CORS_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', '*'];
const corsHeaderName: Check = (v, ctx) => {
  if (typeof v === 'string' && v !== '*' && !HEADER_NAME_RE.test(v)) ctx.error('INVALID_FORMAT', `invalid header name ${JSON.stringify(v)}`);
};
const corsOrigin: Check = (v, ctx) => {
  stringMatch(v, ctx);
  if (isObj(v) && [v['exact'], v['prefix'], v['regex']].includes('')) ctx.error('CONSTRAINT', "'' is not a valid match type for CORS allow origins");
};
const corsMaxAge: Check = (v, ctx) => {
  istioDuration(v, ctx);
  const ms = typeof v === 'string' ? tryParseDuration(v) : undefined;
  if (ms !== undefined && ms % 1000 !== 0) ctx.error('CONSTRAINT', 'max_age duration is accurate only to seconds precision');
};

const corsPolicy = obj({
  allowOrigins: arr(corsOrigin),
  allowOrigin: stringList,
  allowMethods: arr(oneOf(CORS_METHODS, 'CORS method')),
  allowHeaders: arr(corsHeaderName),
  exposeHeaders: arr(corsHeaderName),
  maxAge: corsMaxAge,
  allowCredentials: bool,
  unmatchedPreflights: oneOf(['UNSPECIFIED', 'FORWARD', 'IGNORE'], 'unmatchedPreflights'),
});

/** validateHTTPRouteConflict: one of route, redirect, directResponse (or delegate). */
function httpRouteConflicts(h: Obj, ctx: ValidationContext): void {
  const hasRoute = lenOf(h, 'route') > 0;
  if (has(h, 'delegate')) {
    if (has(h, 'redirect') || hasRoute) ctx.error('CONSTRAINT', 'a delegating HTTP route must not specify route or redirect');
    return;
  }
  if (has(h, 'redirect')) {
    for (const k of ['route', 'fault', 'rewrite', 'directResponse']) {
      if (k === 'route' ? hasRoute : has(h, k)) ctx.error('CONSTRAINT', `HTTP route cannot contain both ${k} and redirect`);
    }
  } else if (has(h, 'directResponse')) {
    for (const k of ['route', 'fault', 'rewrite']) {
      if (k === 'route' ? hasRoute : has(h, k)) ctx.error('CONSTRAINT', `HTTP route cannot contain both ${k} and directResponse`);
    }
  } else if (!hasRoute) {
    ctx.error('REQUIRED', 'HTTP route needs route, redirect or directResponse');
  }
  if (has(h, 'mirror') && lenOf(h, 'mirrors') > 0) ctx.error('CONSTRAINT', 'HTTP route cannot contain both mirror and mirrors');
}

const httpRoute = obj(
  {
    name: anyString,
    match: arr(httpMatch),
    route: arr(httpRouteDestination),
    redirect,
    directResponse: obj({ status: int(200, 599), body: obj({ string: anyString, bytes: anyString }) }, { required: ['status'] }),
    delegate: obj({ name: anyString, namespace: anyString }),
    rewrite,
    timeout: anyDuration,
    retries,
    fault,
    mirror: destination,
    mirrors: arr(obj({ destination, percentage: percentObj }, { required: ['destination'] })),
    mirrorPercentage: percentObj,
    mirrorPercent: int(0, 100),
    corsPolicy,
    headers,
  },
  { check: (h, ctx) => {
    httpRouteConflicts(h, ctx);
    at(h, 'route', ctx, (r) => weightsCheck(r, ctx));
  } },
);

const l4Match = {
  destinationSubnets: stringList,
  port,
  sourceLabels: labels,
  gateways: stringList,
  sourceNamespace: anyString,
};

const tcpRoute = obj({ match: arr(obj(l4Match)), route: arr(routeDestination) }, {
  check: (r, ctx) => at(r, 'route', ctx, (v) => weightsCheck(v, ctx)),
});

const tlsRoute = obj(
  { match: arr(obj({ ...l4Match, sniHosts: arr(wildcardHost, { minItems: 1 }) }, { required: ['sniHosts'] }), { minItems: 1 }), route: arr(routeDestination) },
  { required: ['match'], check: (r, ctx) => at(r, 'route', ctx, (v) => weightsCheck(v, ctx)) },
);

export const virtualServiceSpec: Check = obj(
  {
    hosts: arr(wildcardHost),
    gateways: stringList,
    http: arr(httpRoute),
    tls: arr(tlsRoute),
    tcp: arr(tcpRoute),
    exportTo,
  },
  { check: (s, ctx) => {
    if (lenOf(s, 'http') + lenOf(s, 'tcp') + lenOf(s, 'tls') === 0) {
      ctx.error('REQUIRED', 'http, tcp or tls must be provided in virtual service');
    }
    const gateways = Array.isArray(s['gateways']) ? (s['gateways'] as unknown[]) : [];
    const mesh = gateways.length === 0 || gateways.includes('mesh');
    eachIn(s, 'hosts', ctx, (h) => {
      if (h === '*' && mesh) ctx.error('CONSTRAINT', 'wildcard host * is not allowed for virtual services bound to the mesh gateway');
    });
    if (lenOf(s, 'hosts') === 0 && (gateways.length > 0 || lenOf(s, 'tls') + lenOf(s, 'tcp') > 0)) {
      ctx.error('CONSTRAINT', 'a delegate virtual service (no hosts) must have no gateways, tls or tcp routes');
    }
  } },
);
