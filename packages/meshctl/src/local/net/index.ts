export { LocalNetwork } from './local-network';
export { fileLogger } from './file-logger';
export { kindNodeNames, podEnv } from './types';
export type {
  AddPodOptions,
  DownReport,
  ExecOptions,
  LocalNetworkOptions,
  NodeSpawnOptions,
  NetLogger,
  PodRef,
  ServiceSpec,
  SpawnOptions,
  UpOptions,
} from './types';
export { CommandError, LocalNetError, type LocalNetErrorCode } from './errors';
export type { RunResult } from './run';
export type { NetworkState, NodeState, PodState, ProcessState, ServicePort, ServiceState } from './state';
export { DEFAULT_STATE_ROOT } from './state';
export { CLUSTER_DOMAIN } from './hosts';
export { SERVICE_CIDR } from './names';
