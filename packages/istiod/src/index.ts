export {};
export * from './auth';
export * from './ca';
export * from './app';
export * from './waypoint';
