export { startOpsServers } from './servers';
export type { AdminHooks, Endpoint, OpsServers } from './servers';
