import type { ValidationContext } from '../validate/context';
import {
  anyString,
  arr,
  bool,
  type Check,
  describe,
  eachIn,
  has,
  isObj,
  lenOf,
  mapOf,
  type Obj,
  obj,
  oneOf,
  str,
  anyDuration,
} from '../validate/schema';
import { HEADER_NAME_RE, isIPOrCIDR, oneSelectorType, policyTargetRef, workloadSelector } from './common';

/** Istio's CheckEmptyValues: list entries must be non-empty strings. */
const nonEmptyValues: Check = arr(str({ nonEmpty: true }));
const ipValues: Check = arr(str({ nonEmpty: true, check: (s, ctx) => {
  if (!isIPOrCIDR(s)) ctx.error('INVALID_FORMAT', `invalid IP address or CIDR ${JSON.stringify(s)}`);
} }));
/** AuthorizationPolicy ports are strings holding a port number (security.ValidatePorts). */
const portValues: Check = arr((v, ctx) => {
  if (typeof v !== 'string') return ctx.error('WRONG_TYPE', `must be a string holding a port number, got ${describe(v)}`);
  if (v === '') return ctx.error('REQUIRED', 'must not be empty');
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!(n >= 0 && n <= 65535)) ctx.error('INVALID_FORMAT', `invalid port ${JSON.stringify(v)}: must be a number between 0 and 65535`);
});

const SOURCE_FIELDS = [
  'principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals', 'namespaces', 'notNamespaces',
  'serviceAccounts', 'notServiceAccounts', 'ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks',
] as const;
const OPERATION_FIELDS = ['hosts', 'notHosts', 'ports', 'notPorts', 'methods', 'notMethods', 'paths', 'notPaths'] as const;

const source = obj(
  {
    principals: nonEmptyValues,
    notPrincipals: nonEmptyValues,
    requestPrincipals: nonEmptyValues,
    notRequestPrincipals: nonEmptyValues,
    namespaces: nonEmptyValues,
    notNamespaces: nonEmptyValues,
    serviceAccounts: nonEmptyValues,
    notServiceAccounts: nonEmptyValues,
    ipBlocks: ipValues,
    notIpBlocks: ipValues,
    remoteIpBlocks: ipValues,
    notRemoteIpBlocks: ipValues,
  },
  { check: (s, ctx) => {
    if (!SOURCE_FIELDS.some((k) => lenOf(s, k) > 0)) ctx.error('REQUIRED', 'source must not be empty');
    const identity = lenOf(s, 'principals') + lenOf(s, 'notPrincipals') + lenOf(s, 'namespaces') + lenOf(s, 'notNamespaces');
    if (identity > 0 && lenOf(s, 'serviceAccounts') + lenOf(s, 'notServiceAccounts') > 0) {
      ctx.error('CONSTRAINT', 'cannot set serviceAccounts together with namespaces or principals');
    }
  } },
);

const operation = obj(
  {
    hosts: nonEmptyValues,
    notHosts: nonEmptyValues,
    ports: portValues,
    notPorts: portValues,
    methods: nonEmptyValues,
    notMethods: nonEmptyValues,
    paths: nonEmptyValues,
    notPaths: nonEmptyValues,
  },
  { check: (o, ctx) => {
    if (!OPERATION_FIELDS.some((k) => lenOf(o, k) > 0)) ctx.error('REQUIRED', 'operation must not be empty');
  } },
);

const condition = obj(
  { key: str({ nonEmpty: true }), values: nonEmptyValues, notValues: nonEmptyValues },
  { required: ['key'], check: (c, ctx) => {
    if (lenOf(c, 'values') + lenOf(c, 'notValues') === 0) {
      ctx.error('REQUIRED', `at least one of values or notValues must be set for key ${JSON.stringify(c['key'])}`);
    }
  } },
);

const rule = obj(
  {
    from: arr(obj({ source }, { required: ['source'] }), { minItems: 1 }),
    to: arr(obj({ operation }, { required: ['operation'] }), { minItems: 1 }),
    when: arr(condition),
  },
);

export const AUTHORIZATION_ACTIONS = ['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'] as const;

/** CUSTOM (ext-authz) cannot match on attributes only known after JWT/peer authentication. */
function customActionRules(spec: Obj, ctx: ValidationContext): void {
  if (!Array.isArray(spec['rules'])) {
    ctx.error('REQUIRED', 'CUSTOM action without rules is never triggered; add an empty rule {} to apply it to every request');
    return;
  }
  if (!isObj(spec['provider']) || typeof spec['provider']['name'] !== 'string' || spec['provider']['name'] === '') {
    ctx.errorAt('provider', 'REQUIRED', 'provider.name must not be empty for a CUSTOM action');
  }
  eachIn(spec, 'rules', ctx, (r) => {
    if (!isObj(r)) return;
    eachIn(r, 'from', ctx, (f) => {
      if (!isObj(f) || !isObj(f['source'])) return;
      const src = f['source'];
      ctx.push('source');
      for (const k of ['requestPrincipals', 'notRequestPrincipals'] as const) {
        if (lenOf(src, k) > 0) ctx.errorAt(k, 'CONSTRAINT', `${k} is not supported with the CUSTOM action`);
      }
      ctx.pop();
    });
    eachIn(r, 'when', ctx, (w) => {
      if (isObj(w) && typeof w['key'] === 'string' && w['key'].startsWith('request.auth.')) {
        ctx.errorAt('key', 'CONSTRAINT', `condition key ${JSON.stringify(w['key'])} is not supported with the CUSTOM action`);
      }
    });
  });
}

function authorizationPolicyRules(spec: Obj, ctx: ValidationContext): void {
  oneSelectorType(spec, ctx);
  const action = spec['action'] ?? 'ALLOW';
  if (action === 'CUSTOM') customActionRules(spec, ctx);
  else if (has(spec, 'provider')) ctx.errorAt('provider', 'CONSTRAINT', `provider must not be set with non-CUSTOM action ${String(action)}`);
  // Istio: a DENY policy with no `rules` field never triggers; `rules: [{}]` denies everything.
  if (action === 'DENY' && !Array.isArray(spec['rules'])) {
    ctx.error('REQUIRED', 'DENY action without rules is never triggered; add an empty rule {} to deny every request');
  }
}

export const authorizationPolicySpec: Check = obj(
  {
    selector: workloadSelector,
    targetRef: policyTargetRef,
    targetRefs: arr(policyTargetRef),
    rules: arr(rule),
    action: oneOf(AUTHORIZATION_ACTIONS, 'action'),
    provider: obj({ name: anyString }),
  },
  { check: authorizationPolicyRules },
);

const mtlsMode = obj({ mode: oneOf(['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'], 'mTLS mode') });

export const peerAuthenticationSpec: Check = obj(
  {
    selector: workloadSelector,
    mtls: mtlsMode,
    portLevelMtls: mapOf(mtlsMode, (k, ctx) => {
      const n = /^\d+$/.test(k) ? Number(k) : NaN;
      if (!(n >= 1 && n <= 65535)) ctx.error('INVALID_FORMAT', `port ${JSON.stringify(k)} must be in range 1..65535`);
    }),
  },
  { check: (s, ctx) => {
    if (!isObj(s['portLevelMtls'])) return;
    const sel = s['selector'];
    const emptySelector = !isObj(sel) || !isObj(sel['matchLabels']) || Object.keys(sel['matchLabels']).length === 0;
    if (emptySelector) ctx.errorAt('portLevelMtls', 'CONSTRAINT', 'portLevelMtls requires a selector with matchLabels (mesh/namespace-wide peer authentication cannot have port level mTLS)');
    else if (Object.keys(s['portLevelMtls']).length === 0) ctx.errorAt('portLevelMtls', 'REQUIRED', 'portLevelMtls, if defined, must have at least one element');
  } },
);

const headerName = str({ nonEmpty: true, pattern: HEADER_NAME_RE, format: 'a valid HTTP header name' });

const jwtRule = obj(
  {
    issuer: anyString,
    audiences: nonEmptyValues,
    jwksUri: str({ check: (s, ctx) => {
      if (s !== '' && !/^https?:\/\/[^\s/]+/.test(s)) ctx.error('INVALID_FORMAT', `invalid jwksUri ${JSON.stringify(s)}: must be an http(s) URL`);
    } }),
    jwks: str({ check: (s, ctx) => {
      try {
        JSON.parse(s);
      } catch {
        ctx.error('INVALID_FORMAT', 'jwks must be a JSON Web Key Set document');
      }
    } }),
    fromHeaders: arr(obj({ name: str({ nonEmpty: true }), prefix: anyString }, { required: ['name'] })),
    fromParams: nonEmptyValues,
    fromCookies: nonEmptyValues,
    outputPayloadToHeader: anyString,
    forwardOriginalToken: bool,
    outputClaimToHeaders: arr(obj({ header: headerName, claim: str({ nonEmpty: true }) }, { required: ['header', 'claim'] })),
    timeout: anyDuration,
  },
  { check: (r, ctx) => {
    const issuer = r['issuer'];
    const uri = r['jwksUri'];
    if ((typeof issuer !== 'string' || issuer === '') && (typeof uri !== 'string' || uri === '')) {
      ctx.error('REQUIRED', 'issuer or jwksUri must be a non-empty string');
    }
  } },
);

export const requestAuthenticationSpec: Check = obj(
  { selector: workloadSelector, targetRef: policyTargetRef, targetRefs: arr(policyTargetRef), jwtRules: arr(jwtRule) },
  { check: oneSelectorType },
);

