import type { HeaderMatch, StringMatch } from '../config/types';

export type StringPredicate = (value: string) => boolean;

/**
 * Regexes are full matches (Istio documents RE2 full-match semantics), so the JS pattern is
 * anchored. RE2-only syntax that JS lacks makes compilation fail; callers turn that into a
 * never-matching predicate plus a problem report.
 */
export function compileFullRegex(pattern: string, ignoreCase = false): RegExp {
  return new RegExp(`^(?:${pattern})$`, ignoreCase ? 'i' : '');
}

export interface MatcherProblems {
  push(problem: string): void;
}

const NEVER: StringPredicate = () => false;

function regexPredicate(pattern: string, ignoreCase: boolean, where: string, problems: MatcherProblems): StringPredicate {
  try {
    const re = compileFullRegex(pattern, ignoreCase);
    return (v) => re.test(v);
  } catch (e) {
    problems.push(`${where}: invalid regex ${JSON.stringify(pattern)}: ${e instanceof Error ? e.message : String(e)}`);
    return NEVER;
  }
}

/** Exact/prefix/regex; an empty StringMatch (no kind) matches any value, as Istio. */
export function compileStringMatch(kind: StringMatch['kind'], where: string, problems: MatcherProblems, ignoreCase = false): StringPredicate {
  switch (kind.case) {
    case 'exact': {
      const want = ignoreCase ? kind.value.toLowerCase() : kind.value;
      return ignoreCase ? (v) => v.toLowerCase() === want : (v) => v === want;
    }
    case 'prefix': {
      const want = ignoreCase ? kind.value.toLowerCase() : kind.value;
      return ignoreCase ? (v) => v.toLowerCase().startsWith(want) : (v) => v.startsWith(want);
    }
    case 'regex':
      return regexPredicate(kind.value, ignoreCase, where, problems);
    default:
      return () => true;
  }
}

/** A header/query predicate over the (possibly absent) value; see HeaderMatch in waypoint.proto. */
export type OptionalValuePredicate = (value: string | undefined) => boolean;

export function compileHeaderMatch(m: HeaderMatch, where: string, problems: MatcherProblems): OptionalValuePredicate {
  let test: StringPredicate;
  switch (m.kind.case) {
    case 'exact': {
      const want = m.kind.value;
      test = (v) => v === want;
      break;
    }
    case 'prefix': {
      const want = m.kind.value;
      test = (v) => v.startsWith(want);
      break;
    }
    case 'regex':
      test = regexPredicate(m.kind.value, false, where, problems);
      break;
    case 'present':
      if (!m.kind.value) {
        // present: false = the header must be absent (Envoy present_match false).
        const inv = m.invert;
        return (v) => (v === undefined) !== inv;
      }
      test = () => true;
      break;
    default:
      // No kind: any value, including the empty string.
      test = () => true;
  }
  const invert = m.invert;
  // An absent header never satisfies the condition itself; `invert` then flips the outcome, so
  // withoutHeaders conditions match requests lacking the header (Envoy invert_match).
  return (v) => (v !== undefined && test(v)) !== invert;
}
