export type * from './types';
export { compileWaypointState, type WaypointState, type ServiceEntryState } from './state';
export { chooseHttpVersion, type HttpVersion } from './h2-upgrade';
