import { loadManifests } from '../local/cluster';
import type { MeshResource } from '@mesh/api';

/** Sample apps: `demo` enrolled in ambient (echo server + client), `legacy` outside the mesh (client). */
export function demoApps(nodes: readonly string[]): MeshResource[] {
  const [first, second] = [nodes[0]!, nodes[1] ?? nodes[0]!];
  return loadManifests([
    {
      name: 'demo-apps.yaml',
      text: `
apiVersion: v1
kind: Namespace
metadata: {name: demo, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: v1
kind: Namespace
metadata: {name: legacy}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: client, namespace: demo}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: echo, namespace: demo}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: client, namespace: legacy}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo-v1, namespace: demo}
spec:
  replicas: 1
  selector: {matchLabels: {app: echo, version: v1}}
  template:
    metadata: {labels: {app: echo, version: v1}}
    spec:
      serviceAccountName: echo
      nodeSelector: {kubernetes.io/hostname: ${second}}
      containers:
      - name: echo
        image: mesh/echo
        args: [--port, "8080", --version, v1]
        ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: demo}
spec:
  selector: {app: echo}
  ports: [{name: http, port: 8080, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: demo, labels: {app: client}}
spec:
  serviceAccountName: client
  nodeName: ${first}
  containers: [{name: client, image: busybox, command: [sleep, infinity]}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: legacy, labels: {app: client}}
spec:
  serviceAccountName: client
  nodeName: ${first}
  containers: [{name: client, image: busybox, command: [sleep, infinity]}]
`,
    },
  ]);
}

/** ALLOW only the listed principals to reach echo (an L4 policy ztunnel enforces). */
export function allowPolicy(principals: readonly string[]): MeshResource[] {
  return loadManifests([
    {
      name: 'demo-policy.yaml',
      text: `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: echo-allow, namespace: demo}
spec:
  selector: {matchLabels: {app: echo}}
  action: ALLOW
  rules:
  - from:
    - source:
        principals: [${principals.map((p) => JSON.stringify(p)).join(', ')}]
`,
    },
  ]);
}
