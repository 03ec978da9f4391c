// Synthetic mesh state for the control-plane benchmark, written as manifests for istiod's directory config
// source: namespaces enrolled in ambient, services with selectors and cluster IPs, pods spread over nodes and
// services, one L4 AuthorizationPolicy per service, a mesh-wide PeerAuthentication, and a tokens file. One pod
// (the "churn" pod) lives in its own file so a change to it is a single small file edit.
import fs from 'node:fs';
import path from 'node:path';

export const CHURN_NAMESPACE = 'ns-0';
export const CHURN_POD = 'churn-pod';
const PODS_PER_FILE = 100;

const ip = (base, i) => `${base}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const nsOf = (svc, sizes) => `ns-${svc % sizes.namespaces}`;

function podYaml({ name, namespace, svc, node, podIP }) {
  return [
    'apiVersion: v1', 'kind: Pod',
    `metadata: {name: ${name}, namespace: ${namespace}, labels: {app: svc-${svc}, version: v1}}`,
    `spec: {nodeName: ${node}, serviceAccountName: sa-${svc}, containers: [{name: app, ports: [{name: http, containerPort: 8080}]}]}`,
    `status: {phase: Running, podIP: ${podIP}, conditions: [{type: Ready, status: "True"}]}`,
  ].join('\n');
}

export function churnPodYaml(sizes, generation) {
  // The churn pod is the last pod of service 0; each generation moves it to a new IP.
  return podYaml({ name: CHURN_POD, namespace: CHURN_NAMESPACE, svc: 0, node: 'node-0', podIP: ip('10', (200 << 16) + generation) });
}

function serviceDocs(sizes) {
  const docs = [];
  for (let n = 0; n < sizes.namespaces; n++) {
    docs.push(`apiVersion: v1\nkind: Namespace\nmetadata: {name: ns-${n}, labels: {istio.io/dataplane-mode: ambient}}`);
  }
  for (let s = 0; s < sizes.services; s++) {
    const ns = nsOf(s, sizes);
    docs.push([
      'apiVersion: v1', 'kind: Service', `metadata: {name: svc-${s}, namespace: ${ns}}`,
      `spec: {clusterIP: ${ip('10', (96 << 16) + s)}, selector: {app: svc-${s}}, ports: [{name: http, port: 80, targetPort: 8080}]}`,
    ].join('\n'));
    if (s < sizes.policies) {
      docs.push([
        'apiVersion: security.istio.io/v1', 'kind: AuthorizationPolicy', `metadata: {name: allow-svc-${s}, namespace: ${ns}}`,
        'spec:', `  selector: {matchLabels: {app: svc-${s}}}`,
        `  rules: [{from: [{source: {principals: ["cluster.local/ns/${nsOf(s + 1, sizes)}/sa/sa-${s + 1}"]}}], to: [{operation: {ports: ["8080"]}}]}]`,
      ].join('\n'));
    }
  }
  docs.push('apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: istio-system}\nspec: {mtls: {mode: STRICT}}');
  return docs;
}

/** Writes <dir>/config/*.yaml and <dir>/tokens.yaml; returns paths and the CA identities hosted on node-0. */
export function writeSyntheticState(dir, sizes) {
  const configDir = path.join(dir, 'config');
  fs.mkdirSync(configDir, { recursive: true });
  fs.writeFileSync(path.join(configDir, 'services.yaml'), `${serviceDocs(sizes).join('\n---\n')}\n`);
  const perSvc = Math.max(1, Math.floor(sizes.pods / sizes.services));
  let batch = [];
  let fileNo = 0;
  const flush = () => {
    if (batch.length === 0) return;
    fs.writeFileSync(path.join(configDir, `pods-${String(fileNo++).padStart(4, '0')}.yaml`), `${batch.join('\n---\n')}\n`);
    batch = [];
  };
  for (let i = 0; i < sizes.pods - 1; i++) {
    const svc = i % sizes.services;
    const name = `svc-${svc}-p${Math.floor(i / sizes.services)}`;
    batch.push(podYaml({ name, namespace: nsOf(svc, sizes), svc, node: `node-${i % sizes.nodes}`, podIP: ip('10', (64 << 16) + i) }));
    if (batch.length >= PODS_PER_FILE) flush();
  }
  flush();
  const churnFile = path.join(configDir, 'churn-pod.yaml');
  fs.writeFileSync(churnFile, `${churnPodYaml(sizes, 0)}\n`);
  const tokensFile = path.join(dir, 'tokens.yaml');
  const tokens = [];
  for (let n = 0; n < sizes.nodes; n++) {
    tokens.push(`- {token: zt-node-${n}, namespace: istio-system, serviceAccount: ztunnel, podName: ztunnel-${n}, nodeName: node-${n}}`);
  }
  fs.writeFileSync(tokensFile, `${tokens.join('\n')}\n`);
  // Pods i with i % nodes == 0 run on node-0; their service accounts are what ztunnel-0 may request.
  const identities = [];
  for (let i = 0; i < sizes.pods - 1 && identities.length < 16; i += sizes.nodes) {
    const svc = i % sizes.services;
    if (!identities.some((x) => x.serviceAccount === `sa-${svc}`)) identities.push({ namespace: nsOf(svc, sizes), serviceAccount: `sa-${svc}` });
  }
  return { configDir, churnFile, tokensFile, token: 'zt-node-0', identities, podsPerService: perSvc };
}
