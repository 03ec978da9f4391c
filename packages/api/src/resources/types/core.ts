import type { KubeObject, LabelSelector, ObjectMeta } from './meta';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface Namespace extends KubeObject<'Namespace', 'v1'> {
  status?: { phase?: 'Active' | 'Terminating' };
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: Protocol;
  hostPort?: number;
}

/** Only the container fields the mesh reads are modeled; the rest pass through unchecked. */
export interface Container {
  name: string;
  image?: string;
  ports?: ContainerPort[];
  [field: string]: unknown;
}

export interface PodSpec {
  nodeName?: string;
  serviceAccountName?: string;
  /** Deprecated alias of serviceAccountName, still set by the API server. */
  serviceAccount?: string;
  hostNetwork?: boolean;
  hostname?: string;
  subdomain?: string;
  containers: Container[];
  initContainers?: Container[];
  [field: string]: unknown;
}

export interface PodCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  [field: string]: unknown;
}

export interface PodStatus {
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  podIP?: string;
  podIPs?: { ip: string }[];
  hostIP?: string;
  hostIPs?: { ip: string }[];
  conditions?: PodCondition[];
  [field: string]: unknown;
}

export interface Pod extends KubeObject<'Pod', 'v1'> {
  spec: PodSpec;
  status?: PodStatus;
}

export interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: Protocol;
  appProtocol?: string;
  nodePort?: number;
}

export interface ServiceSpec {
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  selector?: Record<string, string>;
  ports?: ServicePort[];
  clusterIP?: string;
  clusterIPs?: string[];
  externalName?: string;
  externalIPs?: string[];
  ipFamilies?: ('IPv4' | 'IPv6')[];
  ipFamilyPolicy?: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
  publishNotReadyAddresses?: boolean;
  internalTrafficPolicy?: 'Cluster' | 'Local';
  externalTrafficPolicy?: 'Cluster' | 'Local';
  trafficDistribution?: string;
  sessionAffinity?: 'ClientIP' | 'None';
  loadBalancerIP?: string;
  [field: string]: unknown;
}

export interface Service extends KubeObject<'Service', 'v1'> {
  spec?: ServiceSpec;
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] }; [field: string]: unknown };
}

export interface EndpointConditions {
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

export interface ObjectReference {
  kind?: string;
  name?: string;
  namespace?: string;
  uid?: string;
  [field: string]: unknown;
}

export interface Endpoint {
  addresses: string[];
  conditions?: EndpointConditions;
  hostname?: string;
  nodeName?: string;
  zone?: string;
  targetRef?: ObjectReference;
  [field: string]: unknown;
}

export interface EndpointPort {
  name?: string;
  port?: number;
  protocol?: Protocol;
  appProtocol?: string;
}

export interface EndpointSlice extends KubeObject<'EndpointSlice', 'discovery.k8s.io/v1'> {
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints: Endpoint[];
  ports?: EndpointPort[];
}

export interface ServiceAccount extends KubeObject<'ServiceAccount', 'v1'> {
  secrets?: ObjectReference[];
  automountServiceAccountToken?: boolean;
}

export interface NodeAddress {
  type: string;
  address: string;
}

export interface Node extends KubeObject<'Node', 'v1'> {
  spec?: { podCIDR?: string; podCIDRs?: string[]; providerID?: string; unschedulable?: boolean; [field: string]: unknown };
  status?: { addresses?: NodeAddress[]; [field: string]: unknown };
}

export interface Secret extends KubeObject<'Secret', 'v1'> {
  type?: string;
  /** Base64-encoded values. */
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  immutable?: boolean;
}

export interface ConfigMap extends KubeObject<'ConfigMap', 'v1'> {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
  immutable?: boolean;
}

export interface PodTemplateSpec {
  metadata?: Partial<ObjectMeta>;
  spec: PodSpec;
}

export interface Deployment extends KubeObject<'Deployment', 'apps/v1'> {
  spec: {
    replicas?: number;
    selector: LabelSelector;
    template: PodTemplateSpec;
    [field: string]: unknown;
  };
  status?: { replicas?: number; readyReplicas?: number; [field: string]: unknown };
}
