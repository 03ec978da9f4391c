import {
  anyString,
  arr,
  bool,
  type Check,
  int,
  intOrString,
  nonNegInt,
  obj,
  oneOf,
  port,
  stringList,
  stringMap,
  str,
} from '../validate/schema';
import { labels, labelSelector } from './common';

// Core Kubernetes schemas are huge; only the fields the mesh reads are modeled, and the big objects are
// "open" so a real API server dump does not produce thousands of unknown-field warnings.
const protocol = oneOf(['TCP', 'UDP', 'SCTP'], 'protocol');
const conditions = arr(obj({ type: anyString, status: oneOf(['True', 'False', 'Unknown'], 'condition status') }, { open: true, required: ['type', 'status'] }));

const containerPort = obj(
  { name: anyString, containerPort: port, protocol, hostPort: int(0, 65535), hostIP: anyString },
  { required: ['containerPort'] },
);
const container = obj({ name: str({ nonEmpty: true }), image: anyString, ports: arr(containerPort) }, { open: true, required: ['name'] });

export const podSpec: Check = obj(
  {
    nodeName: anyString,
    serviceAccountName: anyString,
    serviceAccount: anyString,
    hostNetwork: bool,
    hostname: anyString,
    subdomain: anyString,
    containers: arr(container),
    initContainers: arr(container),
  },
  { open: true, required: ['containers'] },
);

const ipList = arr(obj({ ip: anyString }, { required: ['ip'] }));

export const podStatus: Check = obj(
  {
    phase: oneOf(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'], 'pod phase'),
    podIP: anyString,
    podIPs: ipList,
    hostIP: anyString,
    hostIPs: ipList,
    conditions,
  },
  { open: true },
);

const servicePort = obj(
  { name: anyString, port, targetPort: intOrString, protocol, appProtocol: anyString, nodePort: int(0, 65535) },
  { required: ['port'] },
);

export const serviceSpec: Check = obj(
  {
    type: oneOf(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'], 'service type'),
    selector: stringMap,
    ports: arr(servicePort),
    clusterIP: anyString,
    clusterIPs: stringList,
    externalName: anyString,
    externalIPs: stringList,
    ipFamilies: arr(oneOf(['IPv4', 'IPv6'], 'IP family')),
    ipFamilyPolicy: oneOf(['SingleStack', 'PreferDualStack', 'RequireDualStack'], 'ipFamilyPolicy'),
    publishNotReadyAddresses: bool,
    internalTrafficPolicy: oneOf(['Cluster', 'Local'], 'internalTrafficPolicy'),
    externalTrafficPolicy: oneOf(['Cluster', 'Local'], 'externalTrafficPolicy'),
    trafficDistribution: anyString,
    sessionAffinity: oneOf(['ClientIP', 'None'], 'sessionAffinity'),
    loadBalancerIP: anyString,
  },
  { open: true },
);

export const serviceStatus: Check = obj(
  { loadBalancer: obj({ ingress: arr(obj({ ip: anyString, hostname: anyString }, { open: true })) }) },
  { open: true },
);

const objectRef = obj({ kind: anyString, name: anyString, namespace: anyString, uid: anyString }, { open: true });

const endpoint = obj(
  {
    addresses: arr(anyString, { minItems: 1 }),
    conditions: obj({ ready: bool, serving: bool, terminating: bool }),
    hostname: anyString,
    nodeName: anyString,
    zone: anyString,
    targetRef: objectRef,
    hints: () => {},
    deprecatedTopology: stringMap,
  },
  { required: ['addresses'] },
);

/** Top-level fields of an EndpointSlice (it has no spec). */
export const endpointSliceFields = {
  addressType: oneOf(['IPv4', 'IPv6', 'FQDN'], 'addressType'),
  endpoints: arr(endpoint),
  ports: arr(obj({ name: anyString, port: int(0, 65535), protocol, appProtocol: anyString })),
};

export const serviceAccountFields = {
  secrets: arr(objectRef),
  imagePullSecrets: arr(obj({ name: anyString })),
  automountServiceAccountToken: bool,
};

export const nodeSpec: Check = obj({ podCIDR: anyString, podCIDRs: stringList, providerID: anyString, unschedulable: bool }, { open: true });
export const nodeStatus: Check = obj(
  { addresses: arr(obj({ type: anyString, address: anyString }, { required: ['type', 'address'] })), conditions },
  { open: true },
);

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
export const base64Map: Check = (v, ctx) => {
  stringMap(v, ctx);
  if (typeof v !== 'object' || v === null) return;
  for (const [k, s] of Object.entries(v)) {
    if (typeof s === 'string' && !BASE64_RE.test(s.replace(/\s+/g, ''))) ctx.errorAt(k, 'INVALID_FORMAT', 'must be base64-encoded');
  }
};

export const secretFields = { type: anyString, data: base64Map, stringData: stringMap, immutable: bool };

export const configMapFields = { data: stringMap, binaryData: base64Map, immutable: bool };

export const namespaceStatus: Check = obj({ phase: oneOf(['Active', 'Terminating'], 'namespace phase') }, { open: true });

const podTemplate = obj(
  { metadata: obj({ labels, annotations: stringMap, name: anyString, namespace: anyString }, { open: true }), spec: podSpec },
  { required: ['spec'] },
);

export const deploymentSpec: Check = obj(
  { replicas: nonNegInt, selector: labelSelector, template: podTemplate },
  { open: true, required: ['selector', 'template'] },
);

