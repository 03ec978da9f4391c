/**
 * Istio authorization string values: "*" (any), "prefix*", "*suffix" or exact. Since Istio 1.22,
 * paths may also use templates: "{*}" one segment, "{**}" any remaining segments.
 * `required`: "*" needs a non-empty value (principals, namespaces, requestPrincipals: Istio treats
 * "*" there as "authenticated", not "anything").
 */
export type ValueTest = (value: string) => boolean;

export interface WildcardOptions {
  readonly ignoreCase?: boolean;
  readonly required?: boolean;
  readonly pathTemplates?: boolean;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function compileTemplate(pattern: string): ValueTest {
  const parts = pattern.split(/(\{\*\*\}|\{\*\})/);
  const re = parts.map((p) => (p === '{**}' ? '.+' : p === '{*}' ? '[^/]+' : escapeRegex(p))).join('');
  const rx = new RegExp(`^${re}$`);
  return (v) => rx.test(v);
}

export function compileWildcard(pattern: string, opts: WildcardOptions = {}): ValueTest {
  const ic = opts.ignoreCase === true;
  const p = ic ? pattern.toLowerCase() : pattern;
  const norm = ic ? (v: string) => v.toLowerCase() : (v: string) => v;
  if (p === '*') return opts.required === true ? (v) => v.length > 0 : () => true;
  if (opts.pathTemplates === true && (p.includes('{*}') || p.includes('{**}'))) return compileTemplate(p);
  if (p.startsWith('*')) {
    const suffix = p.slice(1);
    return (v) => norm(v).endsWith(suffix);
  }
  if (p.endsWith('*')) {
    const prefix = p.slice(0, -1);
    return (v) => norm(v).startsWith(prefix);
  }
  return ic ? (v) => v.toLowerCase() === p : (v) => v === p;
}

/** True when any pattern matches; an absent value never matches. */
export function compileAny(patterns: readonly string[], opts: WildcardOptions = {}): (value: string | undefined) => boolean {
  const tests = patterns.map((p) => compileWildcard(p, opts));
  if (tests.length === 1) {
    const t = tests[0]!;
    return (v) => v !== undefined && t(v);
  }
  return (v) => {
    if (v === undefined) return false;
    for (const t of tests) if (t(v)) return true;
    return false;
  };
}
