import type { IssueSeverity, ResourceIssue, ResourceIssueCode, ResourceOrigin } from './issues';

const IDENT_RE = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Collects issues while a validator walks one object. The path is a shared stack that is only
 * turned into a string when an issue is recorded, so the common (valid) case allocates nothing per field.
 */
export class ValidationContext {
  readonly errors: ResourceIssue[] = [];
  readonly warnings: ResourceIssue[] = [];
  private readonly path: (string | number)[] = [];

  constructor(
    private resource: string,
    private readonly origin: ResourceOrigin = {},
  ) {}

  setResource(resource: string): void {
    this.resource = resource;
  }

  push(key: string | number): void {
    this.path.push(key);
  }

  pop(): void {
    this.path.pop();
  }

  error(code: ResourceIssueCode, message: string): void {
    this.errors.push(this.issue('error', code, message));
  }

  warn(code: ResourceIssueCode, message: string): void {
    this.warnings.push(this.issue('warning', code, message));
  }

  /** Records an error at `key` below the current path. */
  errorAt(key: string | number, code: ResourceIssueCode, message: string): void {
    this.push(key);
    this.error(code, message);
    this.pop();
  }

  currentPath(): string {
    return formatPath(this.path);
  }

  private issue(severity: IssueSeverity, code: ResourceIssueCode, message: string): ResourceIssue {
    const issue: { -readonly [K in keyof ResourceIssue]: ResourceIssue[K] } = {
      severity,
      code,
      resource: this.resource,
      path: formatPath(this.path),
      message,
    };
    if (this.origin.source !== undefined) issue.source = this.origin.source;
    if (this.origin.docIndex !== undefined) issue.docIndex = this.origin.docIndex;
    return issue;
  }
}

export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (IDENT_RE.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}
