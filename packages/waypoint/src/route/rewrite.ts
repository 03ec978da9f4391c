import type { Route } from '../config/types';
import { splitPathAndQuery } from './request';

function joinQuery(path: string, query: string): string {
  return query === '' ? path : `${path}?${query}`;
}

/** Envoy regex_rewrite substitutions use \1; JS replace wants $1. */
function toJsSubstitution(s: string): string {
  return s.replace(/\$/g, '$$$$').replace(/\\(\d)/g, '$$$1');
}

function replacePrefix(path: string, prefixLen: number, replacement: string): string {
  const rest = path.slice(prefixLen);
  // Gateway API ReplacePrefixMatch "/" on "/foo/bar" (prefix "/foo") gives "/bar", not "//bar".
  if (replacement.endsWith('/') && rest.startsWith('/')) return replacement + rest.slice(1);
  return replacement + rest;
}

const regexCache = new Map<string, RegExp | null>();

function cachedRegex(pattern: string): RegExp | null {
  let re = regexCache.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(pattern, 'g');
    } catch {
      re = null;
    }
    regexCache.set(pattern, re);
  }
  return re;
}

/**
 * Envoy's prefix_rewrite (routes and redirects alike): replaces the part the winning match's path condition
 * matched: the prefix for prefix matches, the whole path for exact/regex, and the implicit "/" when the match
 * had no path condition (so "/foo" with rewrite "/v2" becomes "/v2foo", as in Istio).
 */
function prefixRewritten(route: Route, matchIndex: number, path: string, replacement: string): string {
  const m = route.matches[matchIndex]?.path?.kind;
  if (m?.case === 'prefix' || m?.case === 'segmentPrefix') return replacePrefix(path, Math.min(m.value.length, path.length), replacement);
  if (m?.case === 'exact' || m?.case === 'regex') return replacement;
  return replacePrefix(path, 1, replacement);
}

/** The request target after the route's rewrite (query kept); see prefixRewritten for `uriPrefix`. */
export function rewriteTarget(route: Route, matchIndex: number, target: string): string {
  const rw = route.rewrite;
  if (rw === undefined) return target;
  const { path, query } = splitPathAndQuery(target);
  switch (rw.path.case) {
    case 'fullPath':
      return joinQuery(rw.path.value, query);
    case 'uriPrefix':
      return joinQuery(prefixRewritten(route, matchIndex, path, rw.path.value), query);
    default:
      break;
  }
  if (rw.regexMatch !== '') {
    const re = cachedRegex(rw.regexMatch);
    if (re !== null) return joinQuery(path.replace(re, toJsSubstitution(rw.regexSubstitution)), query);
  }
  return target;
}

/** The authority after the route's rewrite. */
export function rewriteAuthority(route: Route, authority: string): string {
  return route.rewrite !== undefined && route.rewrite.authority !== '' ? route.rewrite.authority : authority;
}

export interface RedirectRequest {
  readonly scheme: string;
  readonly authority: string;
  readonly path: string;
  /** Index of the match that selected the route (a `uriPrefix` redirect replaces its prefix); default 0. */
  readonly matchIndex?: number;
}

/** Location header and status for a redirect route; pieces left empty keep the request's. */
export function redirectLocation(route: Route, req: RedirectRequest): { status: number; location: string } | undefined {
  const r = route.redirect;
  if (r === undefined) return undefined;
  const { path, query } = splitPathAndQuery(req.path);
  const scheme = r.scheme !== '' ? r.scheme : req.scheme;
  let host = r.authority !== '' ? r.authority : req.authority;
  if (r.port !== 0) host = `${host.replace(/:\d+$/, '')}:${r.port}`;
  let target = r.uri !== '' ? r.uri : r.uriPrefix !== '' ? prefixRewritten(route, req.matchIndex ?? 0, path, r.uriPrefix) : path;
  if (!target.includes('?')) target = joinQuery(target, query);
  return { status: r.responseCode !== 0 ? r.responseCode : 301, location: `${scheme}://${host}${target}` };
}
