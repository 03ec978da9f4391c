// Public entry of @mesh/ztunnel (the parts other modules of the app wire together).
export * from './state/index';
export * from './rbac/index';
export * from './proxy/decision/index';
