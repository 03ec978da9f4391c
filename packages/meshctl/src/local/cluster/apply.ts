import type { Deployment, MeshResource, Namespace, Pod, Service } from '@mesh/api';
import type { ServicePort as NetServicePort } from '../net';
import { keyOf, type KubeObjectLike } from './config-dir';
import { ClusterError } from './errors';
import { applyPod, deletePod, type ApplyAction, type PodContext } from './pods';
import { deploymentPods, ownedByDeployment, templateHash } from './workloads';

export interface ApplyResult {
  /** `Kind namespace/name` or `Kind name`. */
  resource: string;
  action: ApplyAction;
}

/**
 * Apply order: what others refer to first (kubectl applies in file order; a fresh cluster needs this order).
 * Services come after the pods so a named targetPort resolves through their container ports.
 */
const KIND_ORDER = ['Namespace', 'ServiceAccount', 'ConfigMap', 'Secret', 'Deployment', 'Pod', 'Service'];

function rank(kind: string): number {
  const i = KIND_ORDER.indexOf(kind);
  // Istio and Gateway API config sits between Secrets and Services: policy before traffic.
  return i < 0 ? 3.5 : i;
}

export function describe(o: { kind: string; metadata: { name: string; namespace?: string } }): string {
  return o.metadata.namespace ? `${o.kind} ${o.metadata.namespace}/${o.metadata.name}` : `${o.kind} ${o.metadata.name}`;
}

function asKube(o: MeshResource): KubeObjectLike {
  return o as unknown as KubeObjectLike;
}

/** Namespaced objects default to `default` and need their Namespace to exist (as the API server insists). */
function checkNamespaces(ctx: PodContext, objs: readonly KubeObjectLike[]): void {
  const known = new Set(ctx.config.list('Namespace').map((n) => n.metadata.name));
  for (const o of objs) if (o.kind === 'Namespace') known.add(o.metadata.name);
  for (const o of objs) {
    const ns = o.metadata.namespace;
    if (ns !== undefined && !known.has(ns)) {
      throw new ClusterError('CLUSTER_UNKNOWN_OBJECT', `${describe(o)}: namespace "${ns}" not found; apply a Namespace named ${ns} first`);
    }
  }
}

const CLUSTER_SCOPED = new Set(['Namespace', 'Node', 'GatewayClass']);

export async function applyAll(ctx: PodContext, input: readonly MeshResource[]): Promise<ApplyResult[]> {
  const objs = input.map(asKube).map((o) =>
    CLUSTER_SCOPED.has(o.kind) || o.metadata.namespace ? o : { ...o, metadata: { ...o.metadata, namespace: 'default' } },
  );
  checkNamespaces(ctx, objs);
  const sorted = [...objs].sort((a, b) => rank(a.kind) - rank(b.kind));
  const out: ApplyResult[] = [];
  for (const o of sorted) out.push({ resource: describe(o), action: await applyOne(ctx, o) });
  return out;
}

async function applyOne(ctx: PodContext, o: KubeObjectLike): Promise<ApplyAction> {
  switch (o.kind) {
    case 'Pod':
      return applyPod(ctx, o as unknown as Pod);
    case 'Deployment':
      return applyDeployment(ctx, o as unknown as Deployment);
    case 'Service':
      return applyService(ctx, o as unknown as Service);
    default:
      return writeObject(ctx, o);
  }
}

function writeObject(ctx: PodContext, o: KubeObjectLike): ApplyAction {
  const old = ctx.config.read(keyOf(o));
  if (old && JSON.stringify(old) === JSON.stringify(o)) return 'unchanged';
  ctx.config.write(o);
  return old ? 'configured' : 'created';
}

/** Ports as the node DNAT needs them; a named targetPort resolves through the selected pods' container ports. */
function servicePorts(ctx: PodContext, svc: Service): NetServicePort[] {
  const ns = svc.metadata.namespace ?? 'default';
  const selector = svc.spec?.selector ?? {};
  const pods = ctx.config
    .list<Pod & KubeObjectLike>('Pod', ns)
    .filter((p) => Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v));
  return (svc.spec?.ports ?? []).map((p) => {
    let target = typeof p.targetPort === 'number' ? p.targetPort : p.port;
    if (typeof p.targetPort === 'string') {
      for (const pod of pods) {
        const cp = pod.spec.containers.flatMap((c) => c.ports ?? []).find((x) => x.name === p.targetPort);
        if (cp) target = cp.containerPort;
      }
    }
    const proto = p.protocol === 'UDP' ? 'UDP' : 'TCP';
    return { ...(p.name ? { name: p.name } : {}), port: p.port, targetPort: target, protocol: proto };
  });
}

/** Service: a VIP from the local network (kube-proxy DNAT + hosts DNS) and the object with spec.clusterIP set. */
async function applyService(ctx: PodContext, svc: Service): Promise<ApplyAction> {
  const ns = svc.metadata.namespace ?? 'default';
  const selector = svc.spec?.selector;
  const st = await ctx.net.setService({
    namespace: ns,
    name: svc.metadata.name,
    ports: servicePorts(ctx, svc),
    ...(selector ? { selector } : {}),
  });
  const obj: Service = {
    ...svc,
    metadata: { ...svc.metadata, namespace: ns },
    spec: {
      ...(svc.spec ?? {}),
      type: svc.spec?.type ?? 'ClusterIP',
      clusterIP: st.vip,
      clusterIPs: [st.vip],
      ports: (svc.spec?.ports ?? []).map((p) => ({ ...p, protocol: p.protocol ?? 'TCP' })),
    },
  };
  return writeObject(ctx, obj as unknown as KubeObjectLike);
}

/** The Deployment + ReplicaSet controllers in one step: keep pods of the current template, replace the rest. */
async function applyDeployment(ctx: PodContext, d: Deployment): Promise<ApplyAction> {
  const ns = d.metadata.namespace ?? 'default';
  const want = d.spec.replicas ?? 1;
  const hash = templateHash(d);
  const owned = ctx.config.list<Pod & KubeObjectLike>('Pod', ns).filter((p) => ownedByDeployment(p, d.metadata.name));
  const current = owned.filter((p) => p.metadata.labels?.['pod-template-hash'] === hash);
  const stale = owned.filter((p) => !current.includes(p));
  const surplus = current.slice(want);
  for (const p of [...stale, ...surplus]) await deletePod(ctx, ns, p.metadata.name);
  const missing = Math.max(0, want - current.length);
  for (const p of deploymentPods(d, missing)) await applyPod(ctx, p);
  const obj = { ...d, metadata: { ...d.metadata, namespace: ns }, status: { replicas: want, readyReplicas: want } };
  const action = writeObject(ctx, obj as unknown as KubeObjectLike);
  return action === 'unchanged' && (missing > 0 || stale.length + surplus.length > 0) ? 'configured' : action;
}

export async function deleteAll(ctx: PodContext, input: readonly MeshResource[]): Promise<ApplyResult[]> {
  const objs = input.map(asKube).map((o) =>
    CLUSTER_SCOPED.has(o.kind) || o.metadata.namespace ? o : { ...o, metadata: { ...o.metadata, namespace: 'default' } },
  );
  const sorted = [...objs].sort((a, b) => rank(b.kind) - rank(a.kind));
  const out: ApplyResult[] = [];
  for (const o of sorted) out.push({ resource: describe(o), action: await deleteOne(ctx, o) });
  return out;
}

async function deleteOne(ctx: PodContext, o: KubeObjectLike): Promise<ApplyAction> {
  const ns = o.metadata.namespace ?? 'default';
  switch (o.kind) {
    case 'Pod':
      return deletePod(ctx, ns, o.metadata.name);
    case 'Deployment': {
      for (const p of ctx.config.list<Pod & KubeObjectLike>('Pod', ns)) {
        if (ownedByDeployment(p, o.metadata.name)) await deletePod(ctx, ns, p.metadata.name);
      }
      return ctx.config.delete(keyOf(o)) ? 'deleted' : 'not found';
    }
    case 'Service':
      await ctx.net.removeService(ns, o.metadata.name);
      return ctx.config.delete(keyOf(o)) ? 'deleted' : 'not found';
    case 'Namespace':
      return deleteNamespace(ctx, o.metadata.name);
    default:
      return ctx.config.delete(keyOf(o)) ? 'deleted' : 'not found';
  }
}

/** Like the namespace controller: everything inside goes, then the Namespace itself. */
async function deleteNamespace(ctx: PodContext, name: string): Promise<ApplyAction> {
  for (const p of ctx.config.list('Pod', name)) await deletePod(ctx, name, p.metadata.name);
  for (const s of ctx.config.list('Service', name)) await ctx.net.removeService(name, s.metadata.name);
  const inNs = ctx.config.listNamespace(name);
  for (const o of inNs) ctx.config.delete(keyOf(o));
  return ctx.config.delete({ apiVersion: 'v1', kind: 'Namespace', name }) ? 'deleted' : 'not found';
}

export function labelNamespace(ctx: PodContext, name: string, set: Record<string, string>, remove: readonly string[]): Namespace {
  const ns = ctx.config.read<Namespace & KubeObjectLike>({ apiVersion: 'v1', kind: 'Namespace', name });
  if (!ns) throw new ClusterError('CLUSTER_UNKNOWN_OBJECT', `namespace "${name}" not found (meshctl local status lists them)`);
  const labels = { ...(ns.metadata.labels ?? {}), ...set };
  for (const k of remove) delete labels[k];
  const next = { ...ns, metadata: { ...ns.metadata, labels } };
  ctx.config.write(next);
  return next;
}
