// The waypoint's pure L7 engines; the listener/HTTP layers import these.
export * from './route';
export * from './policy';
export * from './config';
