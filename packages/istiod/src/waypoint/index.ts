export { compileWaypointConfig } from './compile';
export type { BoundService, BoundServicePort, CompileWaypointInput, CompileWaypointResult, MeshH2UpgradePolicy, WaypointWarning, WaypointWarningCode } from './types';
