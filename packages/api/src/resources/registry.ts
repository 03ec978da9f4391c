import { objectMeta } from './kinds/common';
import {
  configMapFields,
  deploymentSpec,
  endpointSliceFields,
  namespaceStatus,
  nodeSpec,
  nodeStatus,
  podSpec,
  podStatus,
  secretFields,
  serviceAccountFields,
  serviceSpec,
  serviceStatus,
} from './kinds/core';
import { destinationRuleSpec } from './kinds/destination-rule';
import {
  gatewayClassSpec,
  gatewayClassStatus,
  gatewaySpec,
  gatewayStatus,
  grpcRouteSpec,
  httpRouteSpec,
  httpRouteStatus,
  referenceGrantSpec,
} from './kinds/gateway-api';
import { authorizationPolicySpec, peerAuthenticationSpec, requestAuthenticationSpec } from './kinds/istio-security';
import { istioGatewaySpec, serviceEntrySpec, workloadEntrySpec } from './kinds/service-entry';
import { telemetrySpec } from './kinds/telemetry';
import { virtualServiceSpec } from './kinds/virtual-service';
import { anyString, anyValue, type Check, type Fields, obj } from './validate/schema';

export interface KindDescriptor {
  readonly group: string;
  readonly kind: string;
  readonly versions: readonly string[];
  readonly namespaced: boolean;
  /** Validates the whole object (apiVersion, kind, metadata and the kind's own fields). */
  readonly check: Check;
}

const ISTIO_NETWORKING = ['v1', 'v1beta1', 'v1alpha3'];
const ISTIO_SECURITY = ['v1', 'v1beta1'];
const ISTIO_TELEMETRY = ['v1', 'v1alpha1'];
const GATEWAY_API = ['v1', 'v1beta1', 'v1alpha2'];
const ISTIO_STATUS: Check = anyValue;

function kind(group: string, k: string, versions: string[], fields: Fields, required: string[] = [], namespaced = true): KindDescriptor {
  const check = obj(
    { apiVersion: anyString, kind: anyString, metadata: objectMeta, ...fields },
    { required: ['metadata', ...required] },
  );
  return { group, kind: k, versions, namespaced, check };
}

const DESCRIPTORS: readonly KindDescriptor[] = [
  kind('networking.istio.io', 'VirtualService', ISTIO_NETWORKING, { spec: virtualServiceSpec, status: ISTIO_STATUS }, ['spec']),
  kind('networking.istio.io', 'DestinationRule', ISTIO_NETWORKING, { spec: destinationRuleSpec, status: ISTIO_STATUS }, ['spec']),
  kind('networking.istio.io', 'ServiceEntry', ISTIO_NETWORKING, { spec: serviceEntrySpec, status: ISTIO_STATUS }, ['spec']),
  kind('networking.istio.io', 'WorkloadEntry', ISTIO_NETWORKING, { spec: workloadEntrySpec, status: ISTIO_STATUS }, ['spec']),
  kind('networking.istio.io', 'Gateway', ISTIO_NETWORKING, { spec: istioGatewaySpec, status: ISTIO_STATUS }, ['spec']),
  kind('security.istio.io', 'AuthorizationPolicy', ISTIO_SECURITY, { spec: authorizationPolicySpec, status: ISTIO_STATUS }),
  kind('security.istio.io', 'PeerAuthentication', ISTIO_SECURITY, { spec: peerAuthenticationSpec, status: ISTIO_STATUS }),
  kind('security.istio.io', 'RequestAuthentication', ISTIO_SECURITY, { spec: requestAuthenticationSpec, status: ISTIO_STATUS }),
  kind('telemetry.istio.io', 'Telemetry', ISTIO_TELEMETRY, { spec: telemetrySpec, status: ISTIO_STATUS }),
  kind('gateway.networking.k8s.io', 'GatewayClass', GATEWAY_API, { spec: gatewayClassSpec, status: gatewayClassStatus }, ['spec'], false),
  kind('gateway.networking.k8s.io', 'Gateway', GATEWAY_API, { spec: gatewaySpec, status: gatewayStatus }, ['spec']),
  kind('gateway.networking.k8s.io', 'HTTPRoute', GATEWAY_API, { spec: httpRouteSpec, status: httpRouteStatus }, ['spec']),
  kind('gateway.networking.k8s.io', 'GRPCRoute', GATEWAY_API, { spec: grpcRouteSpec, status: httpRouteStatus }, ['spec']),
  kind('gateway.networking.k8s.io', 'ReferenceGrant', GATEWAY_API, { spec: referenceGrantSpec }, ['spec']),
  kind('', 'Namespace', ['v1'], { spec: anyValue, status: namespaceStatus }, [], false),
  kind('', 'Pod', ['v1'], { spec: podSpec, status: podStatus }, ['spec']),
  kind('', 'Service', ['v1'], { spec: serviceSpec, status: serviceStatus }),
  kind('discovery.k8s.io', 'EndpointSlice', ['v1'], endpointSliceFields, ['addressType', 'endpoints']),
  kind('', 'ServiceAccount', ['v1'], serviceAccountFields),
  kind('', 'Node', ['v1'], { spec: nodeSpec, status: nodeStatus }, [], false),
  kind('', 'Secret', ['v1'], secretFields),
  kind('', 'ConfigMap', ['v1'], configMapFields),
  kind('apps', 'Deployment', ['v1'], { spec: deploymentSpec, status: anyValue }, ['spec']),
];

/** `group/Kind`, or just `Kind` for the core group: the key of `ResourceTypes`. */
export function kindKey(group: string, k: string): string {
  return group === '' ? k : `${group}/${k}`;
}

const BY_KEY: ReadonlyMap<string, KindDescriptor> = new Map(DESCRIPTORS.map((d) => [kindKey(d.group, d.kind), d]));

export function lookupKind(group: string, k: string): KindDescriptor | undefined {
  return BY_KEY.get(kindKey(group, k));
}

export function supportedKinds(): readonly KindDescriptor[] {
  return DESCRIPTORS;
}

/** Splits "networking.istio.io/v1" into group and version; "v1" is the core group. */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}
