import { defineMeshError } from './mesh-error';

/** Errors raised by @mesh/core itself. Each code is stable; match on `code`. */

export const ConfigInvalidValueError = defineMeshError(
  'CONFIG_INVALID_VALUE',
  'ConfigInvalidValueError',
  (d: { name: string; value: string; expected: string }) =>
    `environment variable ${d.name}=${JSON.stringify(d.value)} is invalid: expected ${d.expected}; ` +
    `check the deployment's env (Helm values or pod spec)`,
);

export const ConfigMissingValueError = defineMeshError(
  'CONFIG_MISSING_VALUE',
  'ConfigMissingValueError',
  (d: { name: string }) => `environment variable ${d.name} is required but not set; check the deployment's env`,
);

export const ConfigDuplicateVarError = defineMeshError(
  'CONFIG_DUPLICATE_VAR',
  'ConfigDuplicateVarError',
  (d: { name: string }) => `environment variable ${d.name} is registered twice; each variable must be defined once`,
);

export const ConfigDefinitionError = defineMeshError(
  'CONFIG_BAD_DEFINITION',
  'ConfigDefinitionError',
  (d: { name: string; reason: string }) => `config definition for ${d.name} is wrong: ${d.reason}`,
);

export const HttpListenError = defineMeshError(
  'HTTP_LISTEN_FAILED',
  'HttpListenError',
  (d: { host: string; port: number }) =>
    `could not listen on ${d.host}:${d.port}; check that no other process uses the port and the address exists`,
);

export const InvalidLogLevelError = defineMeshError(
  'LOG_INVALID_LEVEL',
  'InvalidLogLevelError',
  (d: { level: string; allowed: readonly string[] }) => `log level ${JSON.stringify(d.level)} is not one of ${d.allowed.join(', ')}`,
);
