import { compileIpSet } from './ip';
import type { AuthzView } from './request';
import { compileWildcard, type ValueTest } from './wildcard';

/** Returns every string a `when` key yields for the request (empty = attribute absent). */
type Extractor = (view: AuthzView) => readonly string[];

const NONE: readonly string[] = [];

function one(v: string | undefined): readonly string[] {
  return v === undefined || v === '' ? NONE : [v];
}

function claimStrings(v: unknown): readonly string[] {
  if (typeof v === 'string') return [v];
  if (typeof v === 'number' || typeof v === 'boolean') return [String(v)];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return NONE;
}

/** request.auth.claims[a][b] -> ["a", "b"]; undefined when malformed. */
export function parseClaimPath(rest: string): string[] | undefined {
  const out: string[] = [];
  const re = /\[([^\][]+)\]/gy;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(rest)) !== null) {
    out.push(m[1]!);
    consumed = re.lastIndex;
  }
  return out.length > 0 && consumed === rest.length ? out : undefined;
}

function claimExtractor(path: string[]): Extractor {
  return (view) => {
    let cur: unknown = view.req.claims;
    for (const k of path) {
      if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return NONE;
      cur = (cur as Record<string, unknown>)[k];
    }
    return claimStrings(cur);
  };
}

const SIMPLE: Readonly<Record<string, Extractor>> = {
  'source.namespace': (v) => one(v.namespace()),
  'source.principal': (v) => one(v.principal()),
  'request.auth.principal': (v) => one(v.req.requestPrincipal),
  'request.auth.audiences': (v) => claimStrings(v.req.claims?.['aud']),
  'request.auth.presenter': (v) => claimStrings(v.req.claims?.['azp']),
  'destination.port': (v) => [String(v.req.port)],
  'connection.sni': (v) => one(v.req.sni),
};

const IP_KEYS: Readonly<Record<string, (v: AuthzView) => string | undefined>> = {
  'source.ip': (v) => v.req.sourceIp,
  'remote.ip': (v) => v.remoteIp(),
  'destination.ip': (v) => v.req.destinationIp,
};

function compileValues(key: string, values: readonly string[], problems: string[]): ((view: AuthzView) => boolean) | undefined {
  const ipOf = IP_KEYS[key];
  if (ipOf !== undefined) {
    const set = compileIpSet(values, problems);
    return (view) => set(ipOf(view));
  }
  let extract: Extractor | undefined = SIMPLE[key];
  if (extract === undefined && key.startsWith('request.headers[') && key.endsWith(']')) {
    const name = key.slice('request.headers['.length, -1).toLowerCase();
    extract = (view) => one(view.header(name));
  }
  if (extract === undefined && key.startsWith('request.auth.claims')) {
    const path = parseClaimPath(key.slice('request.auth.claims'.length));
    if (path !== undefined) extract = claimExtractor(path);
  }
  if (extract === undefined) return undefined;
  const tests: ValueTest[] = values.map((v) => compileWildcard(v));
  const ex = extract;
  return (view) => {
    for (const got of ex(view)) for (const t of tests) if (t(got)) return true;
    return false;
  };
}

export type ConditionTest = (view: AuthzView) => boolean;

/**
 * `values`: some value must match; `notValues`: none may match (an absent attribute satisfies
 * notValues). An unknown key fails closed for the policy's action: the condition never holds in an
 * ALLOW rule and always holds in a DENY rule, so a typo can never widen access.
 */
export function compileCondition(
  c: { key: string; values: readonly string[]; notValues: readonly string[] },
  failClosedValue: boolean,
  problems: string[],
): ConditionTest {
  const pos = c.values.length > 0 ? compileValues(c.key, c.values, problems) : () => true;
  const neg = c.notValues.length > 0 ? compileValues(c.key, c.notValues, problems) : () => false;
  if (pos === undefined || neg === undefined) {
    problems.push(`unsupported condition key ${JSON.stringify(c.key)}`);
    return () => failClosedValue;
  }
  return (view) => pos(view) && !neg(view);
}
