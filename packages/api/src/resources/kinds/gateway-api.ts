import type { ValidationContext } from '../validate/context';
import {
  anyString,
  anyValue,
  arr,
  bool,
  type Check,
  anyDuration,
  eachIn,
  has,
  int,
  isObj,
  type Obj,
  obj,
  oneOf,
  port,

  stringMap,
  str,
} from '../validate/schema';
import { labelSelector } from './common';

// Patterns and limits from the Gateway API CRDs (v1.2+); CEL rules are mirrored where they matter to routing.
const HOSTNAME_RE = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const hostname = str({ nonEmpty: true, maxLength: 253, pattern: HOSTNAME_RE, format: 'a DNS hostname, optionally prefixed by "*."' });
const sectionName = str({ nonEmpty: true, maxLength: 253, pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, format: 'a DNS-1123 subdomain' });
const objName = str({ nonEmpty: true, maxLength: 253 });
const group = str({ maxLength: 253 });
const kind = str({ nonEmpty: true, maxLength: 63, pattern: /^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/, format: 'a Kubernetes kind' });
const namespace = str({ nonEmpty: true, maxLength: 63, pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, format: 'a DNS-1123 label' });
const duration = anyDuration;

const parentRef = obj({ group, kind, namespace, name: objName, sectionName, port }, { required: ['name'] });
const backendObjectRef = obj({ group, kind, name: objName, namespace, port }, { required: ['name'] });

const header = obj({ name: str({ nonEmpty: true, maxLength: 256 }), value: str({ maxLength: 4096 }) }, { required: ['name', 'value'] });
const headerFilter = obj({ set: arr(header, { maxItems: 16 }), add: arr(header, { maxItems: 16 }), remove: arr(str({ nonEmpty: true }), { maxItems: 16 }) });
const headerMatch = obj(
  { type: oneOf(['Exact', 'RegularExpression'], 'match type'), name: str({ nonEmpty: true, maxLength: 256 }), value: str({ maxLength: 4096 }) },
  { required: ['name', 'value'] },
);

const pathModifier = obj(
  { type: oneOf(['ReplaceFullPath', 'ReplacePrefixMatch'], 'path modifier type'), replaceFullPath: anyString, replacePrefixMatch: anyString },
  { required: ['type'], check: (p, ctx) => {
    if (p['type'] === 'ReplaceFullPath' && !has(p, 'replaceFullPath')) ctx.error('REQUIRED', 'replaceFullPath must be specified when type is ReplaceFullPath');
    if (p['type'] === 'ReplacePrefixMatch' && !has(p, 'replacePrefixMatch')) ctx.error('REQUIRED', 'replacePrefixMatch must be specified when type is ReplacePrefixMatch');
  } },
);

const requestMirror = obj(
  { backendRef: backendObjectRef, percent: int(0, 100), fraction: obj({ numerator: int(0), denominator: int(1) }, { required: ['numerator'] }) },
  { required: ['backendRef'] },
);
// HTTPCORSFilter CRD limits: 64 origins/headers, 9 methods, maxAge >= 1.
const corsFilter = obj({
  allowOrigins: arr(str({ nonEmpty: true, maxLength: 253 }), { maxItems: 64 }),
  allowCredentials: bool,
  allowMethods: arr(str({ nonEmpty: true }), { maxItems: 9 }),
  allowHeaders: arr(str({ nonEmpty: true, maxLength: 256 }), { maxItems: 64 }),
  exposeHeaders: arr(str({ nonEmpty: true, maxLength: 256 }), { maxItems: 64 }),
  maxAge: int(1),
});
const extensionRef = obj({ group, kind, name: objName }, { required: ['group', 'kind', 'name'] });

const FILTER_FIELD: Readonly<Record<string, string>> = {
  RequestHeaderModifier: 'requestHeaderModifier',
  ResponseHeaderModifier: 'responseHeaderModifier',
  RequestMirror: 'requestMirror',
  RequestRedirect: 'requestRedirect',
  URLRewrite: 'urlRewrite',
  ExtensionRef: 'extensionRef',
  CORS: 'cors',
};

/** CRD CEL rule: the config field matching `type` must be set, and no other. */
function filterTypeMatchesField(f: Obj, ctx: ValidationContext): void {
  const type = f['type'];
  if (typeof type !== 'string' || !Object.hasOwn(FILTER_FIELD, type)) return;
  const field = FILTER_FIELD[type];
  for (const other of Object.values(FILTER_FIELD)) {
    if (other !== field && has(f, other)) ctx.errorAt(other, 'CONSTRAINT', `must not be set for filter type ${type}`);
  }
  if (field !== undefined && !has(f, field)) ctx.errorAt(field, 'REQUIRED', `must be specified for filter type ${type}`);
}

const httpFilterFields = {
  requestHeaderModifier: headerFilter,
  responseHeaderModifier: headerFilter,
  requestMirror,
  requestRedirect: obj({
    scheme: oneOf(['http', 'https'], 'scheme'),
    hostname,
    path: pathModifier,
    port,
    statusCode: (v: unknown, ctx: ValidationContext) => {
      if (![301, 302, 303, 307, 308].includes(v as number)) ctx.error('INVALID_ENUM', `unknown statusCode ${JSON.stringify(v)}: expected 301|302|303|307|308`);
    },
  }),
  urlRewrite: obj({ hostname, path: pathModifier }),
  extensionRef,
  cors: corsFilter,
};

const httpFilter = obj(
  { type: oneOf(Object.keys(FILTER_FIELD), 'filter type'), ...httpFilterFields },
  { required: ['type'], check: filterTypeMatchesField },
);

const GRPC_FILTERS = ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror', 'ExtensionRef'];
const grpcFilter = obj(
  {
    type: oneOf(GRPC_FILTERS, 'filter type'),
    requestHeaderModifier: headerFilter,
    responseHeaderModifier: headerFilter,
    requestMirror,
    extensionRef,
  },
  { required: ['type'], check: filterTypeMatchesField },
);

const pathMatch = obj(
  { type: oneOf(['Exact', 'PathPrefix', 'RegularExpression'], 'path match type'), value: str({ maxLength: 1024 }) },
  { check: (p, ctx) => {
    const type = p['type'] ?? 'PathPrefix';
    const value = p['value'];
    if ((type === 'Exact' || type === 'PathPrefix') && typeof value === 'string' && !value.startsWith('/')) {
      ctx.errorAt('value', 'INVALID_FORMAT', `path ${JSON.stringify(value)} must be an absolute path starting with "/"`);
    }
  } },
);

const httpMatch = obj({
  path: pathMatch,
  headers: arr(headerMatch, { maxItems: 16 }),
  queryParams: arr(headerMatch, { maxItems: 16 }),
  method: oneOf(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'], 'method'),
});

const weight = int(0, 1_000_000);

function backendRef(filter: Check): Check {
  return obj({ group, kind, name: objName, namespace, port, weight, filters: arr(filter) }, {
    required: ['name'],
    check: (b, ctx) => {
      const k = b['kind'] ?? 'Service';
      const g = b['group'] ?? '';
      if (k === 'Service' && g === '' && !has(b, 'port')) ctx.errorAt('port', 'REQUIRED', 'port is required when referring to a Service');
    },
  });
}

const httpRule = obj({
  name: sectionName,
  matches: arr(httpMatch, { maxItems: 64 }),
  filters: arr(httpFilter, { maxItems: 16 }),
  backendRefs: arr(backendRef(httpFilter), { maxItems: 16 }),
  timeouts: obj({ request: duration, backendRequest: duration }),
  retry: obj({ codes: arr(int(400, 599)), attempts: int(0), backoff: duration }),
  sessionPersistence: anyValue,
});

const routeCommon = {
  parentRefs: arr(parentRef, { maxItems: 32 }),
  hostnames: arr(hostname, { maxItems: 16 }),
};

const condition = obj(
  { type: str({ nonEmpty: true }), status: oneOf(['True', 'False', 'Unknown'], 'condition status'), reason: anyString, message: anyString, observedGeneration: int(0), lastTransitionTime: anyString },
  { required: ['type', 'status'] },
);
const routeStatus = obj({ parents: arr(obj({ parentRef, controllerName: anyString, conditions: arr(condition) }, { open: true })) });

export const httpRouteSpec: Check = obj({ ...routeCommon, rules: arr(httpRule, { maxItems: 16 }) });
export const httpRouteStatus: Check = routeStatus;

const grpcRule = obj({
  name: sectionName,
  matches: arr(obj({
    method: obj(
      { type: oneOf(['Exact', 'RegularExpression'], 'method match type'), service: str({ maxLength: 1024 }), method: str({ maxLength: 1024 }) },
      { check: (m, ctx) => {
        if (!has(m, 'service') && !has(m, 'method')) ctx.error('REQUIRED', 'one or both of service or method must be specified');
      } },
    ),
    headers: arr(headerMatch, { maxItems: 16 }),
  }), { maxItems: 64 }),
  filters: arr(grpcFilter, { maxItems: 16 }),
  backendRefs: arr(backendRef(grpcFilter), { maxItems: 16 }),
  sessionPersistence: anyValue,
});

export const grpcRouteSpec: Check = obj({ ...routeCommon, rules: arr(grpcRule, { maxItems: 16 }) });

const listener = obj(
  {
    name: sectionName,
    hostname,
    port,
    protocol: str({ nonEmpty: true, maxLength: 255, pattern: /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9]+$/, format: 'a protocol name such as HTTP, HTTPS, TLS, TCP, UDP or HBONE' }),
    tls: obj({ mode: oneOf(['Terminate', 'Passthrough'], 'TLS mode'), certificateRefs: arr(obj({ group, kind, name: objName, namespace }, { required: ['name'] }), { maxItems: 64 }), options: stringMap, frontendValidation: anyValue }),
    allowedRoutes: obj({
      namespaces: obj(
        { from: oneOf(['All', 'Same', 'Selector'], 'namespaces.from'), selector: labelSelector },
        { check: (n, ctx) => {
          if (n['from'] === 'Selector' && !has(n, 'selector')) ctx.errorAt('selector', 'REQUIRED', 'selector is required when from is Selector');
        } },
      ),
      kinds: arr(obj({ group, kind }, { required: ['kind'] }), { maxItems: 8 }),
    }),
  },
  { required: ['name', 'port', 'protocol'] },
);

const address = obj({ type: anyString, value: str({ nonEmpty: true, maxLength: 253 }) }, { required: ['value'] });

export const gatewaySpec: Check = obj(
  {
    gatewayClassName: objName,
    listeners: arr(listener, { minItems: 1, maxItems: 64 }),
    addresses: arr(address, { maxItems: 16 }),
    infrastructure: obj({ labels: stringMap, annotations: stringMap, parametersRef: obj({ group, kind, name: objName }, { required: ['group', 'kind', 'name'] }) }),
    backendTLS: anyValue,
  },
  { required: ['gatewayClassName', 'listeners'], check: (s, ctx) => {
    const names = new Set<string>();
    eachIn(s, 'listeners', ctx, (l) => {
      if (!isObj(l) || typeof l['name'] !== 'string') return;
      if (names.has(l['name'])) ctx.errorAt('name', 'CONSTRAINT', `listener name ${JSON.stringify(l['name'])} must be unique within the Gateway`);
      names.add(l['name']);
    });
  } },
);

export const gatewayStatus: Check = obj({
  addresses: arr(address),
  conditions: arr(condition),
  listeners: arr(obj({ name: anyString, supportedKinds: arr(obj({ group, kind }, { required: ['kind'] })), attachedRoutes: int(0), conditions: arr(condition) }, { required: ['name'] })),
});

export const gatewayClassSpec: Check = obj(
  {
    controllerName: str({ nonEmpty: true, maxLength: 253, pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/, format: 'a domain-prefixed path such as istio.io/gateway-controller' }),
    parametersRef: obj({ group, kind, name: objName, namespace }, { required: ['group', 'kind', 'name'] }),
    description: str({ maxLength: 64 }),
  },
  { required: ['controllerName'] },
);

export const gatewayClassStatus: Check = obj({ conditions: arr(condition), supportedFeatures: anyValue });

export const referenceGrantSpec: Check = obj(
  {
    from: arr(obj({ group, kind, namespace }, { required: ['group', 'kind', 'namespace'] }), { minItems: 1, maxItems: 16 }),
    to: arr(obj({ group, kind, name: objName }, { required: ['group', 'kind'] }), { minItems: 1, maxItems: 16 }),
  },
  { required: ['from', 'to'] },
);

