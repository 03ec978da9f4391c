export { MeshError, defineMeshError, isMeshError, toMeshError } from './mesh-error';
export type { MeshErrorOptions, MeshErrorClass } from './mesh-error';
export {
  ConfigInvalidValueError,
  ConfigMissingValueError,
  ConfigDuplicateVarError,
  ConfigDefinitionError,
  HttpListenError,
  InvalidLogLevelError,
} from './catalogue';
