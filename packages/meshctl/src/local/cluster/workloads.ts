import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Deployment, Pod } from '@mesh/api';
import { ClusterError } from './errors';

/** The local cluster's stand-in for a container image holding the echo test app. */
export const ECHO_IMAGES: readonly string[] = ['mesh/echo', 'echo'];
/** Where a running pod's netns is named, for the CNI agent's netns resolver (cni/nodeagent). */
export const NETNS_ANNOTATION = 'mesh.local/netns';
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';
/** Hash of the applied spec and labels, so re-applying an unchanged pod is a no-op. */
export const SPEC_HASH_ANNOTATION = 'mesh.local/spec-hash';
const RAND_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export interface NodeInfo {
  name: string;
  ip: string;
}

/** kubectl-like scheduling: spec.nodeName, else nodeSelector on the hostname label, else the emptiest node. */
export function scheduleNode(pod: Pod, nodes: readonly NodeInfo[], podsPerNode: ReadonlyMap<string, number>): NodeInfo {
  const want = pod.spec.nodeName ?? (pod.spec['nodeSelector'] as Record<string, string> | undefined)?.[HOSTNAME_LABEL];
  if (want !== undefined) {
    const n = nodes.find((x) => x.name === want);
    if (!n) {
      throw new ClusterError(
        'CLUSTER_UNKNOWN_NODE',
        `pod ${pod.metadata.namespace}/${pod.metadata.name} asks for node "${want}"; nodes are ${nodes.map((x) => x.name).join(', ')}`,
      );
    }
    return n;
  }
  let best: NodeInfo | undefined;
  for (const n of nodes) if (!best || (podsPerNode.get(n.name) ?? 0) < (podsPerNode.get(best.name) ?? 0)) best = n;
  if (!best) throw new ClusterError('CLUSTER_NOT_UP', 'the cluster has no nodes; run `meshctl local up` first');
  return best;
}

export interface ScheduledPod {
  node: NodeInfo;
  ip: string;
  netns: string;
  uid?: string;
}

/**
 * The pod as the API server would hold it once kubelet runs it: what istiod's Kubernetes source reads to
 * build a Workload (uid, node, service account, IP, Running + Ready) and what the CNI agent needs to find
 * the sandbox (netns annotation).
 */
export function runningPod(pod: Pod, at: ScheduledPod, now = new Date()): Pod {
  const ts = now.toISOString();
  return {
    ...pod,
    metadata: {
      ...pod.metadata,
      namespace: pod.metadata.namespace ?? 'default',
      uid: at.uid ?? pod.metadata.uid ?? randomUUID(),
      creationTimestamp: pod.metadata.creationTimestamp ?? ts,
      annotations: { ...(pod.metadata.annotations ?? {}), [NETNS_ANNOTATION]: at.netns, [SPEC_HASH_ANNOTATION]: podFingerprint(pod) },
    },
    spec: {
      ...pod.spec,
      nodeName: at.node.name,
      serviceAccountName: pod.spec.serviceAccountName ?? pod.spec.serviceAccount ?? 'default',
    },
    status: {
      phase: 'Running',
      podIP: at.ip,
      podIPs: [{ ip: at.ip }],
      hostIP: at.node.ip,
      hostIPs: [{ ip: at.node.ip }],
      startTime: ts,
      conditions: [
        { type: 'PodScheduled', status: 'True' },
        { type: 'Initialized', status: 'True' },
        { type: 'ContainersReady', status: 'True' },
        { type: 'Ready', status: 'True' },
      ],
    },
  };
}

/** Spec, labels and user annotations decide whether a re-applied pod must be recreated (status and uid are ours). */
export function podFingerprint(pod: Pod): string {
  const annotations = { ...(pod.metadata.annotations ?? {}) };
  for (const k of [NETNS_ANNOTATION, SPEC_HASH_ANNOTATION, 'ambient.istio.io/redirection']) delete annotations[k];
  const text = JSON.stringify({ labels: pod.metadata.labels ?? {}, annotations, spec: pod.spec });
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

export interface ContainerCommand {
  argv: string[];
  env: Record<string, string>;
}

/**
 * containers[0] as a process: `command` replaces the image entrypoint and `args` its default arguments, as
 * in Kubernetes. The echo image's entrypoint is the bundled echo app; any other image needs a command
 * (there is no image store: commands run from the host filesystem).
 */
export function containerCommand(pod: Pod, echoBundle: string): ContainerCommand {
  const c = pod.spec.containers[0];
  const where = `pod ${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`;
  if (!c) throw new ClusterError('CLUSTER_INVALID_MANIFEST', `${where}: spec.containers is empty`);
  const command = stringList(c['command'], `${where}: spec.containers[0].command`);
  const args = stringList(c['args'], `${where}: spec.containers[0].args`);
  const image = (c.image ?? '').replace(/:[^/]*$/, '');
  let argv: string[];
  if (command.length > 0) argv = [...command, ...args];
  else if (ECHO_IMAGES.includes(image)) argv = [process.execPath, echoBundle, ...args];
  else {
    throw new ClusterError(
      'CLUSTER_UNSUPPORTED',
      `${where}: image "${c.image ?? ''}" has no known entrypoint; set spec.containers[0].command (e.g. ["sleep", "infinity"]) or use image mesh/echo`,
    );
  }
  const env: Record<string, string> = {};
  for (const e of (c['env'] as Array<{ name?: unknown; value?: unknown }> | undefined) ?? []) {
    if (typeof e.name === 'string' && typeof e.value === 'string') env[e.name] = e.value;
  }
  return { argv, env };
}

function stringList(v: unknown, what: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    throw new ClusterError('CLUSTER_INVALID_MANIFEST', `${what} must be a list of strings`);
  }
  return v;
}

function randSuffix(n: number): string {
  const bytes = randomBytes(n);
  return Array.from(bytes, (b) => RAND_ALPHABET[b % RAND_ALPHABET.length]).join('');
}

/** The pod-template-hash label value: stable for a template, so re-applying an unchanged Deployment is a no-op. */
export function templateHash(d: Deployment): string {
  return createHash('sha256').update(JSON.stringify(d.spec.template)).digest('hex').slice(0, 10);
}

/**
 * A Deployment's pods as its ReplicaSet would create them: `<name>-<hash>-<rand5>`, labels plus
 * pod-template-hash, and an ownerReference to ReplicaSet `<name>-<hash>` (istiod derives workload_name from
 * that chain, like the Deployment controller's naming).
 */
export function deploymentPods(d: Deployment, count: number): Pod[] {
  const ns = d.metadata.namespace ?? 'default';
  const hash = templateHash(d);
  const rsName = `${d.metadata.name}-${hash}`;
  const rsUid = createHash('sha256').update(`${ns}/${rsName}`).digest('hex');
  const tpl = d.spec.template;
  const out: Pod[] = [];
  for (let i = 0; i < count; i++) {
    out.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        ...(tpl.metadata ?? {}),
        name: `${rsName}-${randSuffix(5)}`,
        namespace: ns,
        labels: { ...(tpl.metadata?.labels ?? {}), 'pod-template-hash': hash },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'ReplicaSet',
            name: rsName,
            uid: `${rsUid.slice(0, 8)}-${rsUid.slice(8, 12)}-${rsUid.slice(12, 16)}-${rsUid.slice(16, 20)}-${rsUid.slice(20, 32)}`,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: { ...tpl.spec },
    } as Pod);
  }
  return out;
}

/** Pods that belong to a Deployment (through its ReplicaSets' names). */
export function ownedByDeployment(pod: Pod, deployment: string): boolean {
  return (pod.metadata.ownerReferences ?? []).some(
    (r) => r.kind === 'ReplicaSet' && r.name.startsWith(`${deployment}-`) && /^[0-9a-f]{10}$/.test(r.name.slice(deployment.length + 1)),
  );
}
