import { spawn } from 'node:child_process';
import { parseAllDocuments, stringify } from 'yaml';
import { CLIENT_IMAGE } from '../lib/manifests';
import { run, runOk } from '../lib/proc';
import { spawnStream } from '../lib/stream';
import { sleep, waitFor } from '../lib/wait';
import type {
  CaptureOptions,
  CaptureResult,
  ClusterDriver,
  ExecOptions,
  ExecResult,
  LogTarget,
  MeshComponent,
  NodeInfo,
  PodInfo,
  PodStream,
} from './types';

const ISTIO_NS = process.env['ISTIO_NAMESPACE'] ?? 'istio-system';
/** Labels of Istio's charts (istiod Deployment, ztunnel and istio-cni DaemonSets). */
const COMPONENT_SELECTOR: Record<MeshComponent, string> = {
  istiod: 'app=istiod',
  ztunnel: 'app=ztunnel',
  'cni-agent': 'k8s-app=istio-cni-node',
};
const COMPONENT_WORKLOAD: Record<MeshComponent, string> = {
  istiod: 'deployment/istiod',
  ztunnel: 'daemonset/ztunnel',
  'cni-agent': 'daemonset/istio-cni-node',
};
const ZTUNNEL_STATS_PORT = 15020;
const ZTUNNEL_ADMIN_PORT = 15000;
const ISTIOD_MONITORING_PORT = 15014;
const KUBECTL_TIMEOUT_MS = 120_000;
/** `istioctl waypoint apply`'s default Gateway name. */
const WAYPOINT_NAME = 'waypoint';
const POD_READY_TIMEOUT_S = 90;
const DEBUG_POD_START_TIMEOUT_MS = 90_000;
const CAPTURE_FLUSH_MS = 500;
const PORT_FORWARD_TIMEOUT_MS = 20_000;

export interface KindDriverOptions {
  /** The kind cluster name; kubectl context `kind-<cluster>` unless KUBECTL_CONTEXT says otherwise. */
  cluster: string;
}

interface PodJson {
  metadata: { name: string; namespace: string };
  spec: { nodeName?: string };
  status: {
    podIP?: string;
    containerStatuses?: Array<{ containerID?: string; restartCount: number; state?: { running?: { startedAt?: string } } }>;
  };
}

function objectsOf(manifest: string | readonly object[]): Array<Record<string, unknown>> {
  if (typeof manifest !== 'string') return manifest as Array<Record<string, unknown>>;
  return parseAllDocuments(manifest)
    .map((d) => d.toJS() as Record<string, unknown> | null)
    .filter((o): o is Record<string, unknown> => o !== null);
}

function toYaml(manifest: string | readonly object[]): string {
  return typeof manifest === 'string' ? manifest : manifest.map((o) => stringify(o)).join('---\n');
}

/** A kind cluster through kubectl only; packet captures run tcpdump in a `kubectl debug node` pod (host netns). */
export class KindDriver implements ClusterDriver {
  readonly kind = 'kind' as const;
  readonly cluster: string;
  private readonly context: string;

  constructor(opts: KindDriverOptions) {
    this.cluster = opts.cluster;
    this.context = process.env['KUBECTL_CONTEXT'] ?? `kind-${opts.cluster}`;
  }

  private argv(args: readonly string[]): string[] {
    return ['kubectl', '--context', this.context, ...args];
  }

  private kubectl(args: readonly string[], input?: string, timeoutMs = KUBECTL_TIMEOUT_MS): Promise<ExecResult> {
    return run(this.argv(args), { timeoutMs, ...(input !== undefined ? { input } : {}) });
  }

  private kubectlOk(args: readonly string[], input?: string): Promise<string> {
    return runOk(this.argv(args), { timeoutMs: KUBECTL_TIMEOUT_MS, ...(input !== undefined ? { input } : {}) });
  }

  async nodes(): Promise<NodeInfo[]> {
    const list = JSON.parse(await this.kubectlOk(['get', 'nodes', '-o', 'json'])) as {
      items: Array<{ metadata: { name: string }; status: { addresses: Array<{ type: string; address: string }> } }>;
    };
    return list.items.map((n) => ({ name: n.metadata.name, ip: n.status.addresses.find((a) => a.type === 'InternalIP')?.address ?? '' }));
  }

  async apply(manifest: string | readonly object[]): Promise<void> {
    await this.kubectlOk(['apply', '-f', '-'], toYaml(manifest));
    const pods = objectsOf(manifest).filter((o) => o['kind'] === 'Pod');
    for (const p of pods) {
      const md = p['metadata'] as { name: string; namespace?: string };
      await this.kubectlOk(['wait', '-n', md.namespace ?? 'default', '--for=condition=Ready', `pod/${md.name}`, `--timeout=${POD_READY_TIMEOUT_S}s`]);
    }
  }

  async delete(manifest: string | readonly object[]): Promise<void> {
    await this.kubectlOk(['delete', '--ignore-not-found', '--wait=true', '--timeout=60s', '-f', '-'], toYaml(manifest));
  }

  exec(namespace: string, pod: string, argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return run(this.argv(['exec', '-i', '-n', namespace, pod, '--', ...argv]), {
      ...(opts.input !== undefined ? { input: opts.input } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    });
  }

  async stream(namespace: string, pod: string, argv: readonly string[]): Promise<PodStream> {
    return spawnStream(this.argv(['exec', '-i', '-n', namespace, pod, '--', ...argv]));
  }

  private async podJson(namespace: string, name: string): Promise<PodJson> {
    return JSON.parse(await this.kubectlOk(['get', 'pod', '-n', namespace, name, '-o', 'json'])) as PodJson;
  }

  async pod(namespace: string, name: string): Promise<PodInfo> {
    const p = await this.podJson(namespace, name);
    return { namespace, name, ip: p.status.podIP ?? '', node: p.spec.nodeName ?? '' };
  }

  /** Container id + restart count + start time: any restart of the container changes it. */
  async podProcessId(namespace: string, name: string): Promise<string> {
    const c = (await this.podJson(namespace, name)).status.containerStatuses?.[0];
    if (!c) throw new Error(`pod ${namespace}/${name} has no container status`);
    return `${c.containerID ?? ''}#${c.restartCount}@${c.state?.running?.startedAt ?? ''}`;
  }

  private async componentPod(component: MeshComponent, node?: string): Promise<string> {
    const args = ['get', 'pods', '-n', ISTIO_NS, '-l', COMPONENT_SELECTOR[component], '-o', 'json'];
    if (node) args.push('--field-selector', `spec.nodeName=${node},status.phase=Running`);
    const list = JSON.parse(await this.kubectlOk(args)) as { items: PodJson[] };
    const live = list.items.filter((p) => !(p.metadata as { deletionTimestamp?: string }).deletionTimestamp);
    if (live.length !== 1) throw new Error(`expected one ${component} pod${node ? ` on ${node}` : ''}, found ${live.length}`);
    return live[0]!.metadata.name;
  }

  async logs(target: LogTarget): Promise<string> {
    if (target.component) return this.kubectlOk(['logs', '-n', ISTIO_NS, await this.componentPod(target.component, target.node)]);
    if (!target.pod) throw new Error('logs needs a component or a pod');
    return this.kubectlOk(['logs', '-n', target.namespace ?? 'default', target.pod]);
  }

  /** What `istioctl waypoint apply --enroll-namespace` does, without istioctl: the Gateway, then the label. */
  async waypointApply(namespace: string): Promise<PodInfo> {
    const gateway = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: WAYPOINT_NAME, namespace, labels: { 'istio.io/waypoint-for': 'service' } },
      spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
    };
    await this.kubectlOk(['apply', '-f', '-'], stringify(gateway));
    await this.kubectlOk(['wait', '-n', namespace, '--for=condition=Programmed', `gateway/${WAYPOINT_NAME}`, `--timeout=${POD_READY_TIMEOUT_S}s`]);
    await this.label(namespace, { 'istio.io/use-waypoint': WAYPOINT_NAME });
    const sel = `gateway.networking.k8s.io/gateway-name=${WAYPOINT_NAME}`;
    await this.kubectlOk(['wait', '-n', namespace, '--for=condition=Ready', 'pod', '-l', sel, `--timeout=${POD_READY_TIMEOUT_S}s`]);
    const list = JSON.parse(await this.kubectlOk(['get', 'pods', '-n', namespace, '-l', sel, '-o', 'json'])) as { items: PodJson[] };
    const p = list.items[0];
    if (!p) throw new Error(`no waypoint pod for gateway ${namespace}/${WAYPOINT_NAME}`);
    return { namespace, name: p.metadata.name, ip: p.status.podIP ?? '', node: p.spec.nodeName ?? '' };
  }

  async label(namespace: string, labels: Record<string, string | null>): Promise<void> {
    const args = Object.entries(labels).map(([k, v]) => (v === null ? `${k}-` : `${k}=${v}`));
    await this.kubectlOk(['label', 'ns', namespace, '--overwrite', ...args]);
  }

  /**
   * `kubectl debug node/X --profile=sysadmin` runs a privileged pod in the node's network namespace; tcpdump
   * there sees the node's eth0 (the kind docker network link). -A prints payload bytes so markers are searchable.
   */
  async capture(opts: CaptureOptions, during: () => Promise<void>): Promise<CaptureResult> {
    const seconds = Math.ceil(opts.durationMs / 1000);
    const child = spawn(
      'kubectl',
      ['--context', this.context, 'debug', `node/${opts.node}`, '-i', '--quiet', '--profile=sysadmin', `--image=${CLIENT_IMAGE}`, '--',
        'timeout', String(seconds), 'tcpdump', '-i', 'eth0', '-nn', '--immediate-mode', '-l', '-U', '-s', '0', '-A', opts.filter],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString('latin1')));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const done = new Promise<void>((resolve) => child.on('close', () => resolve()));
    try {
      await waitFor(async () => err.includes('listening on') || child.exitCode !== null, {
        timeoutMs: DEBUG_POD_START_TIMEOUT_MS,
        what: `tcpdump in a debug pod on ${opts.node}`,
      });
      if (child.exitCode !== null) throw new Error(`kubectl debug node/${opts.node} failed: ${err.trim()}`);
      await during();
      await sleep(CAPTURE_FLUSH_MS);
    } finally {
      child.kill('SIGTERM');
      await done;
      await this.deleteDebugPods(opts.node);
    }
    const lines = out.split('\n').filter((l) => /^\d\d:\d\d:\d\d\.\d+ IP6? /.test(l));
    return { lines, raw: Buffer.from(out, 'latin1') };
  }

  private async deleteDebugPods(node: string): Promise<void> {
    const list = JSON.parse(await this.kubectlOk(['get', 'pods', '-n', 'default', '-o', 'json'])) as { items: PodJson[] };
    const names = list.items.filter((p) => p.metadata.name.startsWith(`node-debugger-${node}-`)).map((p) => p.metadata.name);
    if (names.length) await this.kubectl(['delete', 'pod', '-n', 'default', '--grace-period=0', '--force', ...names]);
  }

  /**
   * istiod (a Deployment) is scaled to 0 first so it stays down until `restart`, as in the local cluster;
   * DaemonSet pods (ztunnel, CNI) are deleted and the DaemonSet recreates them at once (kubelet semantics).
   */
  async kill(component: MeshComponent, signal: NodeJS.Signals, node?: string): Promise<void> {
    if (signal !== 'SIGKILL' && signal !== 'SIGTERM') throw new Error(`the kind driver can only send SIGKILL or SIGTERM, not ${signal}`);
    const pod = await this.componentPod(component, node);
    if (component === 'istiod') await this.kubectlOk(['scale', '-n', ISTIO_NS, COMPONENT_WORKLOAD.istiod, '--replicas=0']);
    const force = signal === 'SIGKILL' ? ['--grace-period=0', '--force'] : [];
    await this.kubectlOk(['delete', 'pod', '-n', ISTIO_NS, pod, ...force]);
  }

  async restart(component: MeshComponent, node?: string): Promise<void> {
    const workload = COMPONENT_WORKLOAD[component];
    if (component === 'istiod') {
      const replicas = (await this.kubectlOk(['get', '-n', ISTIO_NS, workload, '-o', 'jsonpath={.spec.replicas}'])).trim();
      if (replicas === '0') await this.kubectlOk(['scale', '-n', ISTIO_NS, workload, '--replicas=1']);
      else await this.kubectlOk(['rollout', 'restart', '-n', ISTIO_NS, workload]);
    } else {
      const pod = await this.componentPod(component, node).catch(() => undefined);
      if (pod) await this.kubectlOk(['delete', 'pod', '-n', ISTIO_NS, pod]);
    }
    await this.kubectlOk(['rollout', 'status', '-n', ISTIO_NS, workload, '--timeout=120s']);
    await waitFor(async () => this.componentPod(component, node), { timeoutMs: 60_000, what: `${component} running again` });
  }

  /** `kubectl port-forward` reaches ports bound to the pod's localhost too (ztunnel's admin port). */
  private async podGet(component: MeshComponent, node: string | undefined, port: number, urlPath: string): Promise<string> {
    const pod = await this.componentPod(component, node);
    const child = spawn('kubectl', ['--context', this.context, 'port-forward', '-n', ISTIO_NS, `pod/${pod}`, `:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    try {
      const local = await waitFor(async () => /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out)?.[1], {
        timeoutMs: PORT_FORWARD_TIMEOUT_MS,
        intervalMs: 100,
        what: `port-forward to ${pod}:${port}`,
      });
      const res = await fetch(`http://127.0.0.1:${local}${urlPath}`, { signal: AbortSignal.timeout(10_000) });
      return await res.text();
    } finally {
      child.kill('SIGTERM');
    }
  }

  metrics(component: MeshComponent, node: string): Promise<string> {
    const port = component === 'istiod' ? ISTIOD_MONITORING_PORT : ZTUNNEL_STATS_PORT;
    return this.podGet(component, component === 'istiod' ? undefined : node, port, '/metrics');
  }

  admin(component: MeshComponent, node: string, urlPath: string): Promise<string> {
    if (component !== 'ztunnel') throw new Error(`admin endpoint of ${component} is not mapped by the kind driver`);
    return this.podGet(component, node, ZTUNNEL_ADMIN_PORT, urlPath);
  }

  /** The kind cluster belongs to kind/ scripts; the suite only removes its own namespaces. */
  async destroy(): Promise<void> {}
}
