export { compileWaypointConfig } from './compile';
export type { BoundService, BoundServicePort, CompileWaypointInput, CompileWaypointResult, WaypointWarning, WaypointWarningCode } from './types';
