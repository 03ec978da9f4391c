import type { ValidationContext } from '../validate/context';
import {
  anyInt,
  anyString,
  arr,
  type Check,
  describe,
  dnsSubdomain,
  isObj,
  mapOf,
  type Obj,
  obj,
  oneOf,
  stringList,
  stringMap,
  str,
} from '../validate/schema';

// Kubernetes label keys: optional DNS-subdomain prefix + '/' + name of <=63 [A-Za-z0-9._-] chars.
const LABEL_NAME_RE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE_RE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

function labelKey(k: string, ctx: ValidationContext): void {
  const slash = k.lastIndexOf('/');
  const name = slash >= 0 ? k.slice(slash + 1) : k;
  if (!LABEL_NAME_RE.test(name) || (slash >= 0 && slash > 253)) {
    ctx.error('INVALID_FORMAT', `invalid label key ${JSON.stringify(k)}`);
  }
}

function labelValue(v: unknown, ctx: ValidationContext): void {
  if (typeof v !== 'string') return ctx.error('WRONG_TYPE', `label value must be a string, got ${describe(v)}`);
  if (!LABEL_VALUE_RE.test(v)) ctx.error('INVALID_FORMAT', `invalid label value ${JSON.stringify(v)}`);
}

export const labels: Check = mapOf(labelValue, labelKey);

const ownerReference = obj(
  { apiVersion: anyString, kind: anyString, name: anyString, uid: anyString, controller: () => {}, blockOwnerDeletion: () => {} },
  { required: ['apiVersion', 'kind', 'name', 'uid'] },
);

/** ObjectMeta; server-managed fields we do not model are accepted silently. */
export const objectMeta: Check = obj(
  {
    name: dnsSubdomain,
    generateName: anyString,
    namespace: str({ nonEmpty: true, pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, format: 'a DNS-1123 label', maxLength: 63 }),
    uid: anyString,
    resourceVersion: anyString,
    generation: anyInt,
    labels,
    annotations: stringMap,
    creationTimestamp: anyString,
    deletionTimestamp: anyString,
    deletionGracePeriodSeconds: anyInt,
    ownerReferences: arr(ownerReference),
    finalizers: stringList,
    managedFields: () => {},
    selfLink: anyString,
  },
  {
    check: (m, ctx) => {
      if (m['name'] === undefined && m['generateName'] === undefined) ctx.errorAt('name', 'REQUIRED', 'is required');
    },
  },
);

/** Istio WorkloadSelector: no empty keys, no wildcards (validateWorkloadSelector). */
export const workloadSelector: Check = obj({
  matchLabels: mapOf(
    (v, ctx) => {
      if (typeof v !== 'string') return ctx.error('WRONG_TYPE', `must be a string, got ${describe(v)}`);
      if (v.includes('*')) ctx.error('INVALID_FORMAT', `wildcard is not supported in selector value ${JSON.stringify(v)}`);
    },
    (k, ctx) => {
      if (k === '') ctx.error('INVALID_FORMAT', 'empty key is not supported in selector');
      else if (k.includes('*')) ctx.error('INVALID_FORMAT', `wildcard is not supported in selector key ${JSON.stringify(k)}`);
    },
  ),
});

export const policyTargetRef: Check = obj(
  { group: anyString, kind: str({ nonEmpty: true }), name: str({ nonEmpty: true }), namespace: anyString },
  { required: ['kind', 'name'] },
);

/** Istio's validateOneOfSelectorType: selector, targetRef and targetRefs are mutually exclusive. */
export function oneSelectorType(spec: Obj, ctx: ValidationContext): void {
  const set = ['selector', 'targetRef', 'targetRefs'].filter((k) =>
    k === 'targetRefs' ? Array.isArray(spec[k]) && (spec[k] as unknown[]).length > 0 : isObj(spec[k]),
  );
  if (set.length > 1) {
    ctx.error('CONSTRAINT', `only one of targetRefs or workloadSelector can be set (found ${set.join(', ')})`);
  }
}

/** An HTTP header name: an RFC 7230 token. */
export const HEADER_NAME_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** networking.v1alpha3.StringMatch: exactly one of exact, prefix, regex. */
export const stringMatch: Check = obj(
  { exact: anyString, prefix: anyString, regex: regexString },
  {
    check: (m, ctx) => {
      const set = ['exact', 'prefix', 'regex'].filter((k) => m[k] !== undefined && m[k] !== null);
      if (set.length !== 1) {
        ctx.error('CONSTRAINT', set.length === 0 ? 'one of exact, prefix or regex is required' : `only one of exact, prefix or regex may be set (found ${set.join(', ')})`);
      }
    },
  },
);

/** Istio uses RE2; JavaScript RegExp is close enough to reject garbage without pulling in RE2. */
export function regexString(v: unknown, ctx: ValidationContext): void {
  if (typeof v !== 'string') return ctx.error('WRONG_TYPE', `must be a string, got ${describe(v)}`);
  try {
    new RegExp(v);
  } catch {
    ctx.error('INVALID_FORMAT', `invalid regular expression ${JSON.stringify(v)}`);
  }
}

export const labelSelector: Check = obj({
  matchLabels: labels,
  matchExpressions: arr(
    obj(
      { key: str({ nonEmpty: true }), operator: oneOf(['In', 'NotIn', 'Exists', 'DoesNotExist'], 'operator'), values: stringList },
      { required: ['key', 'operator'] },
    ),
  ),
});

export const exportTo: Check = stringList;

const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(s: string): boolean {
  return IPV4_RE.test(s);
}

export function isIPv6(s: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(':')) return false;
  try {
    new URL(`http://[${s}]/`);
    return true;
  } catch {
    return false;
  }
}

export function isIP(s: string): boolean {
  return isIPv4(s) || isIPv6(s);
}

/** IP or CIDR ("10.0.0.0/8", "::1"), as Istio's ValidateIPs / ValidateIPSubnet accept. */
export function isIPOrCIDR(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash < 0) return isIP(s);
  const ip = s.slice(0, slash);
  const len = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(len)) return false;
  const n = Number(len);
  return (isIPv4(ip) && n <= 32) || (isIPv6(ip) && n <= 128);
}

export const ipOrCidr: Check = str({ check: (s, ctx) => {
  if (!isIPOrCIDR(s)) ctx.error('INVALID_FORMAT', `invalid IP address or CIDR ${JSON.stringify(s)}`);
} });

/** Hostnames as Istio's ValidateWildcardDomain allows: optional leading "*." and DNS labels. */
const HOST_RE = /^(\*|(\*\.)?[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*\.?)$/;

export const wildcardHost: Check = str({ nonEmpty: true, maxLength: 255, check: (s, ctx) => {
  if (!HOST_RE.test(s) && !isIP(s)) ctx.error('INVALID_FORMAT', `invalid host ${JSON.stringify(s)}: must be a DNS name, optionally starting with "*."`);
} });
