/** Stable codes for resource problems; callers match on these, never on message text. */
export type ResourceIssueCode =
  | 'YAML_SYNTAX'
  | 'NOT_AN_OBJECT'
  | 'UNSUPPORTED_KIND'
  | 'WRONG_TYPE'
  | 'REQUIRED'
  | 'INVALID_ENUM'
  | 'OUT_OF_RANGE'
  | 'INVALID_FORMAT'
  | 'INVALID_DURATION'
  | 'CONSTRAINT'
  | 'UNKNOWN_FIELD';

export type IssueSeverity = 'error' | 'warning';

export interface ResourceIssue {
  readonly severity: IssueSeverity;
  readonly code: ResourceIssueCode;
  /** `Kind namespace/name` (or `Kind name` for cluster-scoped / namespace-less objects). */
  readonly resource: string;
  /** File or stream the object came from, when known. */
  readonly source?: string;
  /** 0-based index of the YAML document inside `source`. */
  readonly docIndex?: number;
  /** Field path such as `spec.rules[0].from[1].source.principals[2]`; empty for the whole object. */
  readonly path: string;
  readonly message: string;
}

/** Where an object came from; carried into every issue so operators can find the bad document. */
export interface ResourceOrigin {
  readonly source?: string;
  readonly docIndex?: number;
}

export function formatIssue(issue: ResourceIssue): string {
  let where = '';
  if (issue.source !== undefined) {
    where = issue.docIndex !== undefined ? `${issue.source}#${issue.docIndex}: ` : `${issue.source}: `;
  } else if (issue.docIndex !== undefined) {
    where = `document ${issue.docIndex}: `;
  }
  const path = issue.path === '' ? '' : `${issue.path}: `;
  return `${where}${issue.resource}: ${path}${issue.message}`;
}

/** Thrown by `assertValidResource` when a caller prefers exceptions over result objects. */
export class ResourceValidationError extends Error {
  readonly code = 'RESOURCE_INVALID';
  readonly issues: readonly ResourceIssue[];

  constructor(issues: readonly ResourceIssue[]) {
    const first = issues[0];
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super(`${first ? formatIssue(first) : 'invalid resource'}${more}`);
    this.name = 'ResourceValidationError';
    this.issues = issues;
  }
}

export type ValidationResult<T> =
  | { readonly ok: true; readonly value: T; readonly warnings: ResourceIssue[] }
  | { readonly ok: false; readonly errors: ResourceIssue[]; readonly warnings: ResourceIssue[] };
