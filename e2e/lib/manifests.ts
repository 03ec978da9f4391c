/**
 * Kubernetes objects the scenarios apply, identical for both drivers. Echo pods run image `mesh/echo`
 * (the local cluster maps it to the bundled echo app; on kind it is the image kind/ loads); clients run a
 * shell image with curl and OpenBSD nc (on the local cluster commands run from the host filesystem).
 */
export const ECHO_IMAGE = 'mesh/echo';
export const CLIENT_IMAGE = process.env['E2E_CLIENT_IMAGE'] ?? 'nicolaka/netshoot:v0.13';
export const ECHO_HTTP_PORT = 8080;
export const ECHO_TCP_PORT = 9000;
export const HBONE_PORT = 15008;
export const AMBIENT_LABEL = 'istio.io/dataplane-mode';
export const TRUST_DOMAIN = 'cluster.local';

export type K8sObject = Record<string, unknown>;

export function namespace(name: string, ambient: boolean): K8sObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: ambient ? { [AMBIENT_LABEL]: 'ambient' } : {} } };
}

export function serviceAccount(ns: string, name: string): K8sObject {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns } };
}

export interface PodSpecInput {
  ns: string;
  name: string;
  node: string;
  sa?: string;
  labels?: Record<string, string>;
}

export function echoPod(p: PodSpecInput): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: p.name, namespace: p.ns, labels: { app: p.name, ...(p.labels ?? {}) } },
    spec: {
      nodeName: p.node,
      serviceAccountName: p.sa ?? p.name,
      containers: [
        {
          name: 'echo',
          image: ECHO_IMAGE,
          imagePullPolicy: 'IfNotPresent',
          args: ['--port', String(ECHO_HTTP_PORT), '--tcp-port', String(ECHO_TCP_PORT)],
          ports: [
            { name: 'http', containerPort: ECHO_HTTP_PORT },
            { name: 'tcp', containerPort: ECHO_TCP_PORT },
          ],
        },
      ],
    },
  };
}

export function clientPod(p: PodSpecInput): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: p.name, namespace: p.ns, labels: { app: p.name, ...(p.labels ?? {}) } },
    spec: {
      nodeName: p.node,
      serviceAccountName: p.sa ?? p.name,
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'client', image: CLIENT_IMAGE, command: ['sleep', 'infinity'] }],
    },
  };
}

export function service(ns: string, name: string, selector: Record<string, string>): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns },
    spec: {
      selector,
      ports: [
        { name: 'http', port: ECHO_HTTP_PORT, targetPort: ECHO_HTTP_PORT },
        { name: 'tcp', port: ECHO_TCP_PORT, targetPort: ECHO_TCP_PORT },
      ],
    },
  };
}

export function principal(ns: string, sa: string): string {
  return `${TRUST_DOMAIN}/ns/${ns}/sa/${sa}`;
}

export function spiffe(ns: string, sa: string): string {
  return `spiffe://${principal(ns, sa)}`;
}

export interface AuthzRule {
  from?: Array<{ source: Record<string, string[]> }>;
  to?: Array<{ operation: Record<string, string[]> }>;
}

export function authorizationPolicy(ns: string, name: string, action: 'ALLOW' | 'DENY', selector: Record<string, string>, rules: AuthzRule[]): K8sObject {
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name, namespace: ns },
    spec: { selector: { matchLabels: selector }, action, rules },
  };
}

export function peerAuthentication(ns: string, name: string, mode: 'STRICT' | 'PERMISSIVE' | 'DISABLE'): K8sObject {
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'PeerAuthentication',
    metadata: { name, namespace: ns },
    spec: { mtls: { mode } },
  };
}
