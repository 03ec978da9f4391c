export { NodeAgent, type NodeAgentOptions } from './agent';
export { agentConfig, DEFAULT_READINESS_PORT, type AgentConfig } from './config';
export { CniEventServer, parseEvent, type CniAddHandler } from './cni-server';
export { PodController, DEFAULT_POD_WAIT_MS, type PodControllerOptions } from './controller';
export { CNI_ADD_TIMING_CHANNEL, MeshDataplane, podRedirectionConfig, type CniAddTiming, type MeshDataplaneOptions, type ZtunnelLink } from './dataplane';
export { DirectoryPodAnnotator, PodAnnotateError } from './directory-annotator';
export { DirectoryPodSource, DIRECTORY_RESCAN_INTERVAL_MS, syntheticUid, type DirectoryPodSourceOptions } from './directory-pod-source';
export { ambientEnabled, podIps, podTerminated, workloadInfo } from './enrollment';
export { PodNetnsError, PodRedirectionError, PodRemoveError, PodUnknownError, PodZtunnelError } from './errors';
export { HostProbe } from './host-probe';
export { DEFAULT_RETRY_POLICY, KeyedQueue, type RetryPolicy } from './keyed-queue';
export {
  AnnotationNetnsResolver,
  ChainNetnsResolver,
  NETNS_PATH_ANNOTATION,
  ProcCgroupNetnsResolver,
  type NetnsResolver,
} from './netns-resolver';
export { PodCache, type EnrolledPod, type EnrollmentStatus } from './pod-cache';
export type { NamespaceWatchEvent, PodAnnotator, PodSource, PodSourceHandlers, PodWatchEvent, WatchEventType } from './pod-source';
export { KubePodAnnotator, redirectionPatch } from './kube-annotator';
export { KubeRequestError, KUBE_REQUEST_TIMEOUT_MS, loadKubeConfig } from './kube-http';
export { KubernetesPodSource, KUBE_WATCH_BACKOFF_INITIAL_MS, KUBE_WATCH_BACKOFF_MAX_MS, type KubernetesPodSourceOptions } from './kube-pod-source';
