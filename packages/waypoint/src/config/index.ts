export type * from './types';
export { compileWaypointState, type WaypointState, type ServiceEntryState } from './state';
