import type { Gateway } from '@mesh/api';

// What Istio's gateway deployment controller renders for a Gateway of class istio-waypoint
// (I:pilot/pkg/config/kube/gateway/deploymentcontroller.go + I:manifests/charts/istio-control/istio-discovery/
// files/waypoint.yaml): a ServiceAccount, a Deployment and a Service, all named after the Gateway (or its
// name-override annotation) and owned by it, so deleting the Gateway garbage-collects them. The pod runs our
// waypoint image instead of pilot-agent + Envoy; its env mirrors charts/gateway.

export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';
export const GATEWAY_CLASS_LABEL = 'gateway.networking.k8s.io/gateway-class-name';
export const MANAGED_LABEL = 'gateway.istio.io/managed';
/** constants.ManagedGatewayMeshControllerLabel: the value Istio puts on waypoint Deployments. */
export const MESH_CONTROLLER_LABEL = 'istio.io-mesh-controller';
export const NAME_OVERRIDE_ANNOTATION = 'gateway.istio.io/name-override';
export const SERVICE_ACCOUNT_ANNOTATION = 'gateway.istio.io/service-account';
/** Annotations of ours that never propagate to the generated objects (as Istio's template `omit`s them). */
const OMITTED_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration', NAME_OVERRIDE_ANNOTATION, SERVICE_ACCOUNT_ANNOTATION, 'gateway.istio.io/controller-version'];

export const WAYPOINT_STATUS_PORT = 15021;
export const WAYPOINT_METRICS_PORT = 15020;
export const WAYPOINT_HBONE_PORT = 15008;
/** Projected token lifetime and audience, as Istio's waypoint template (istio-ca, 12h). */
const TOKEN_AUDIENCE = 'istio-ca';
const TOKEN_EXPIRATION_S = 43_200;

export interface WaypointDeployOptions {
  /** Container image of the waypoint (`<hub>/waypoint:<tag>`). */
  image: string;
  imagePullPolicy: string;
  /** istiod's xDS + CA address for the waypoint: `istiod.<ns>.svc:15012`. */
  istiodAddress: string;
  clusterId: string;
  trustDomain: string;
  logLevel: string;
}

export type KubeManifest = Record<string, unknown> & { apiVersion: string; kind: string; metadata: Record<string, unknown> & { name: string; namespace: string } };

export interface WaypointObjects {
  serviceAccount: KubeManifest;
  deployment: KubeManifest;
  service: KubeManifest;
}

/** The Deployment/Service name: the Gateway's, unless gateway.istio.io/name-override says otherwise. */
export function waypointDeploymentName(gw: Gateway): string {
  return gw.metadata.annotations?.[NAME_OVERRIDE_ANNOTATION] ?? gw.metadata.name;
}

/** Kubernetes port names: lowercase alphanumerics and '-', at most 15 characters (sanitizeListenerNameForPort). */
function portName(listener: string, protocol: string, i: number): string {
  const name = listener.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 15).replace(/-+$/, '');
  return name !== '' ? name : `${protocol.toLowerCase()}-${i}`;
}

/** extractServicePorts: status-port first, then one port per distinct listener port. */
export function waypointServicePorts(gw: Gateway): Array<{ name: string; port: number; protocol: 'TCP'; appProtocol: string }> {
  const ports: Array<{ name: string; port: number; protocol: 'TCP'; appProtocol: string }> = [
    { name: 'status-port', port: WAYPOINT_STATUS_PORT, protocol: 'TCP', appProtocol: 'tcp' },
  ];
  const seen = new Set<number>();
  gw.spec.listeners.forEach((l, i) => {
    if (seen.has(l.port)) return;
    seen.add(l.port);
    ports.push({ name: portName(l.name, l.protocol, i), port: l.port, protocol: 'TCP', appProtocol: l.protocol.toLowerCase() });
  });
  return ports;
}

function annotationsOf(gw: Gateway): Record<string, string> {
  const out: Record<string, string> = { ...(gw.spec.infrastructure?.annotations ?? {}) };
  for (const k of OMITTED_ANNOTATIONS) delete out[k];
  return out;
}

function fieldEnv(name: string, fieldPath: string): Record<string, unknown> {
  return { name, valueFrom: { fieldRef: { fieldPath } } };
}

function container(gw: Gateway, deploymentName: string, o: WaypointDeployOptions): Record<string, unknown> {
  const httpProbe = { httpGet: { path: '/healthz/ready', port: WAYPOINT_STATUS_PORT, scheme: 'HTTP' }, timeoutSeconds: 1 };
  return {
    name: 'istio-proxy',
    image: o.image,
    imagePullPolicy: o.imagePullPolicy,
    ports: [
      { name: 'hbone', containerPort: WAYPOINT_HBONE_PORT, protocol: 'TCP' },
      { name: 'metrics', containerPort: WAYPOINT_METRICS_PORT, protocol: 'TCP' },
      { name: 'status-port', containerPort: WAYPOINT_STATUS_PORT, protocol: 'TCP' },
    ],
    env: [
      { name: 'XDS_ADDRESS', value: o.istiodAddress },
      { name: 'CA_ADDRESS', value: o.istiodAddress },
      { name: 'ISTIO_META_CLUSTER_ID', value: o.clusterId },
      { name: 'TRUST_DOMAIN', value: o.trustDomain },
      { name: 'WAYPOINT_NAME', value: gw.metadata.name },
      { name: 'LOG_LEVEL', value: o.logLevel },
      { name: 'ISTIO_META_WORKLOAD_NAME', value: deploymentName },
      fieldEnv('POD_NAME', 'metadata.name'),
      fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
      fieldEnv('INSTANCE_IP', 'status.podIP'),
      fieldEnv('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
      fieldEnv('ISTIO_META_NODE_NAME', 'spec.nodeName'),
    ],
    startupProbe: { ...httpProbe, failureThreshold: 30, initialDelaySeconds: 1, periodSeconds: 1 },
    readinessProbe: { ...httpProbe, failureThreshold: 4, periodSeconds: 15 },
    securityContext: {
      privileged: false, runAsUser: 1337, runAsGroup: 1337, runAsNonRoot: true,
      allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] },
    },
    volumeMounts: [
      { name: 'istio-token', mountPath: '/var/run/secrets/tokens', readOnly: true },
      { name: 'istiod-ca-cert', mountPath: '/var/run/secrets/istio', readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
    ],
  };
}

function podSpec(gw: Gateway, deploymentName: string, serviceAccount: string, o: WaypointDeployOptions): Record<string, unknown> {
  return {
    serviceAccountName: serviceAccount,
    containers: [container(gw, deploymentName, o)],
    volumes: [
      { name: 'istio-token', projected: { sources: [{ serviceAccountToken: { audience: TOKEN_AUDIENCE, expirationSeconds: TOKEN_EXPIRATION_S, path: 'istio-token' } }] } },
      { name: 'istiod-ca-cert', configMap: { name: 'istio-ca-root-cert' } },
      { name: 'tmp', emptyDir: {} },
    ],
  };
}

/** The three objects for one waypoint Gateway, ready for server-side apply. */
export function renderWaypoint(gw: Gateway, o: WaypointDeployOptions): WaypointObjects {
  const namespace = gw.metadata.namespace ?? 'default';
  const name = waypointDeploymentName(gw);
  // Both default to the Gateway's own name (waypoints have no name suffix); each annotation overrides one.
  const serviceAccount = gw.metadata.annotations?.[SERVICE_ACCOUNT_ANNOTATION] ?? gw.metadata.name;
  const ownerReferences = [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', name: gw.metadata.name, uid: gw.metadata.uid ?? '' }];
  const infra = gw.spec.infrastructure?.labels ?? {};
  const labels = { ...infra, [GATEWAY_NAME_LABEL]: gw.metadata.name, [GATEWAY_CLASS_LABEL]: gw.spec.gatewayClassName };
  const managed = { ...labels, [MANAGED_LABEL]: MESH_CONTROLLER_LABEL };
  const annotations = annotationsOf(gw);
  const meta = (n: string, l: Record<string, string>) => ({ name: n, namespace, labels: l, annotations, ownerReferences });
  const podLabels = {
    'sidecar.istio.io/inject': 'false',
    'istio.io/dataplane-mode': 'none',
    'service.istio.io/canonical-name': name,
    'service.istio.io/canonical-revision': 'latest',
    ...managed,
  };
  const podAnnotations = { ...annotations, 'istio.io/rev': 'default', 'prometheus.io/path': '/stats/prometheus', 'prometheus.io/port': String(WAYPOINT_METRICS_PORT), 'prometheus.io/scrape': 'true' };
  return {
    serviceAccount: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(serviceAccount, labels) },
    deployment: {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta(name, managed),
      spec: {
        selector: { matchLabels: { [GATEWAY_NAME_LABEL]: gw.metadata.name } },
        template: { metadata: { labels: podLabels, annotations: podAnnotations }, spec: podSpec(gw, name, serviceAccount, o) },
      },
    },
    service: {
      apiVersion: 'v1', kind: 'Service',
      metadata: { ...meta(name, labels), annotations: { 'networking.istio.io/traffic-distribution': 'PreferClose', ...annotations } },
      spec: { ipFamilyPolicy: 'PreferDualStack', ports: waypointServicePorts(gw), selector: { [GATEWAY_NAME_LABEL]: gw.metadata.name }, type: 'ClusterIP' },
    },
  };
}
