export { parseDuration, tryParseDuration, DurationParseError } from './duration';
export * from './labels';
export { parseManifests, type ParsedManifests } from './manifests';
export {
  validateResource,
  assertValidResource,
  resourceKeyOf,
  resourceLabel,
  isResource,
  supportedApiVersions,
} from './validate-resource';
export {
  formatIssue,
  ResourceValidationError,
  type ResourceIssue,
  type ResourceIssueCode,
  type IssueSeverity,
  type ResourceOrigin,
  type ValidationResult,
} from './validate/issues';
export type * from './types';
