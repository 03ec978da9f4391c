export { LocalNetwork, kindNodeNames } from './local-network';
export type {
  AddPodOptions,
  DownReport,
  ExecOptions,
  LocalNetworkOptions,
  NetLogger,
  PodRef,
  ServiceSpec,
  SpawnOptions,
  UpOptions,
} from './local-network';
export { CommandError, LocalNetError, type LocalNetErrorCode } from './errors';
export type { RunResult } from './run';
export type { NetworkState, NodeState, PodState, ProcessState, ServicePort, ServiceState } from './state';
export { DEFAULT_STATE_ROOT } from './state';
export { CLUSTER_DOMAIN } from './hosts';
export { SERVICE_CIDR } from './names';
