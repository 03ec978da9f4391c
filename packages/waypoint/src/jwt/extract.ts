// Token locations of a RequestAuthentication jwtRule: fromHeaders (with prefix), fromParams, fromCookies;
// Istio's default when none is given is `Authorization: Bearer <token>` and `?access_token=`.
import type { JwtRule } from '../config/types';

export type TokenLocation =
  | { readonly kind: 'header'; readonly name: string }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'cookie'; readonly name: string };

export interface FoundToken {
  readonly token: string;
  readonly location: TokenLocation;
}

type Headers = Readonly<Record<string, string | readonly string[] | undefined>>;

const DEFAULT_HEADER = { name: 'authorization', prefix: 'Bearer ' };
const DEFAULT_PARAM = 'access_token';

function headerValue(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : (v as string | undefined);
}

function fromHeader(headers: Headers, name: string, prefix: string): string | undefined {
  const v = headerValue(headers, name.toLowerCase());
  if (v === undefined) return undefined;
  // Envoy compares the prefix case-sensitively except for the customary "Bearer " scheme.
  const head = v.slice(0, prefix.length);
  if (head !== prefix && head.toLowerCase() !== prefix.toLowerCase()) return undefined;
  const t = v.slice(prefix.length).trim();
  return t === '' ? undefined : t;
}

function cookieValue(headers: Headers, name: string): string | undefined {
  const raw = headerValue(headers, 'cookie');
  if (raw === undefined) return undefined;
  for (const part of raw.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return undefined;
}

/** The first token found in the rule's locations (headers, then params, then cookies). */
export function findToken(rule: JwtRule, headers: Headers, query: URLSearchParams): FoundToken | undefined {
  const noLocation = rule.fromHeaders.length === 0 && rule.fromParams.length === 0 && rule.fromCookies.length === 0;
  const hdrs = noLocation ? [DEFAULT_HEADER] : rule.fromHeaders;
  const params = noLocation ? [DEFAULT_PARAM] : rule.fromParams;
  for (const h of hdrs) {
    const token = fromHeader(headers, h.name, h.prefix);
    if (token !== undefined) return { token, location: { kind: 'header', name: h.name.toLowerCase() } };
  }
  for (const p of params) {
    const token = query.get(p);
    if (token !== null && token !== '') return { token, location: { kind: 'param', name: p } };
  }
  for (const c of rule.fromCookies) {
    const token = cookieValue(headers, c);
    if (token !== undefined && token !== '') return { token, location: { kind: 'cookie', name: c } };
  }
  return undefined;
}
