export { startOpsServers, type OpsServers, type OpsHooks, type Endpoint } from './servers';
