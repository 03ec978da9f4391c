import { isDeepStrictEqual } from 'node:util';
import { DEFAULT_WAYPOINT_NAME, waypointGateway, type WaypointApplyOptions, type WaypointApplyResult, type WaypointInfo } from '../local/cluster/waypoint-objects';
import { KubeApiError, type KubeClient } from './client';

/** How long `--wait` waits for the Gateway to be Programmed (istioctl waits on the same condition). */
export const WAYPOINT_WAIT_TIMEOUT_MS = 90_000;
const WAIT_POLL_MS = 500;
/** Server-side apply field manager, as istioctl's. */
const FIELD_MANAGER = 'istioctl';
const WAYPOINT_CLASS = 'istio-waypoint';

const gatewaysPath = (ns?: string): string =>
  ns === undefined ? '/apis/gateway.networking.k8s.io/v1/gateways' : `/apis/gateway.networking.k8s.io/v1/namespaces/${encodeURIComponent(ns)}/gateways`;
const gatewayPath = (ns: string, name: string): string => `${gatewaysPath(ns)}/${encodeURIComponent(name)}`;
const namespacePath = (ns: string): string => `/api/v1/namespaces/${encodeURIComponent(ns)}`;

interface GatewayJson {
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: { gatewayClassName?: string; listeners?: unknown[] };
  status?: { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> };
}

export interface KubeWaypointInfo extends WaypointInfo {
  /** The Gateway's Programmed condition ("True" once istiod deployed it and its Service has an address). */
  programmed: string;
}

/** `istioctl waypoint apply|list|delete` against a Kubernetes cluster: istiod deploys what the Gateway asks. */
export class KubeWaypoints {
  constructor(private readonly kube: KubeClient, private readonly waitTimeoutMs = WAYPOINT_WAIT_TIMEOUT_MS) {}

  async apply(o: WaypointApplyOptions & { wait?: boolean }): Promise<WaypointApplyResult> {
    const name = o.name ?? DEFAULT_WAYPOINT_NAME;
    const ns = await this.kube.call('GET', namespacePath(o.namespace));
    if (ns.status === 404) throw new KubeApiError(404, `namespace "${o.namespace}" not found; create it first (kubectl create namespace ${o.namespace})`);
    if (ns.status !== 200) await this.kube.ok('GET', namespacePath(o.namespace));
    const want = waypointGateway(o.namespace, name, o.for ?? 'service');
    const old = await this.kube.call('GET', gatewayPath(o.namespace, name));
    const action = old.status === 404 ? 'created' : sameGateway(old.body as unknown as GatewayJson, want as unknown as GatewayJson) ? 'unchanged' : 'configured';
    if (old.status === 404 && (await this.kube.call('GET', gatewaysPath(o.namespace))).status === 404) {
      throw new KubeApiError(404, 'the Gateway API CRDs are not installed; install them first (kubectl apply -k "github.com/kubernetes-sigs/gateway-api/config/crd?ref=v1.2.0")');
    }
    const applyPath = `${gatewayPath(o.namespace, name)}?fieldManager=${FIELD_MANAGER}&force=true`;
    await this.kube.ok('PATCH', applyPath, want, 'application/apply-patch+yaml');
    const result: WaypointApplyResult = { gateway: `${o.namespace}/${name}`, action };
    if (o.enrollNamespace) {
      await this.kube.ok('PATCH', namespacePath(o.namespace), { metadata: { labels: { 'istio.io/use-waypoint': name } } }, 'application/merge-patch+json');
      result.enrolledNamespace = o.namespace;
    }
    if (o.wait) await this.waitProgrammed(o.namespace, name);
    return result;
  }

  async list(namespace?: string): Promise<KubeWaypointInfo[]> {
    const body = await this.kube.ok('GET', gatewaysPath(namespace));
    const items = (body['items'] as GatewayJson[] | undefined) ?? [];
    return items
      .filter((g) => g.spec?.gatewayClassName === WAYPOINT_CLASS)
      .map((g) => ({
        namespace: g.metadata.namespace ?? 'default',
        name: g.metadata.name,
        for: g.metadata.labels?.['istio.io/waypoint-for'] ?? 'service',
        programmed: g.status?.conditions?.find((c) => c.type === 'Programmed')?.status ?? 'Unknown',
      }));
  }

  /** Like istioctl, a namespace still labelled with a deleted waypoint keeps its label; istiod reports it. */
  async delete(namespace: string, names: readonly string[]): Promise<Array<{ gateway: string; action: 'deleted' | 'not found' }>> {
    const out: Array<{ gateway: string; action: 'deleted' | 'not found' }> = [];
    for (const name of names) {
      const got = await this.kube.call('GET', gatewayPath(namespace, name));
      const isWaypoint = got.status === 200 && (got.body as unknown as GatewayJson).spec?.gatewayClassName === WAYPOINT_CLASS;
      if (!isWaypoint) {
        if (got.status !== 200 && got.status !== 404) await this.kube.ok('GET', gatewayPath(namespace, name));
        out.push({ gateway: `${namespace}/${name}`, action: 'not found' });
        continue;
      }
      const del = await this.kube.call('DELETE', gatewayPath(namespace, name));
      if (del.status !== 404) await checkOk(del, 'DELETE', gatewayPath(namespace, name));
      out.push({ gateway: `${namespace}/${name}`, action: del.status === 404 ? 'not found' : 'deleted' });
    }
    return out;
  }

  private async waitProgrammed(namespace: string, name: string): Promise<void> {
    const deadline = Date.now() + this.waitTimeoutMs;
    let last: { reason?: string; message?: string } | undefined;
    while (Date.now() < deadline) {
      const gw = (await this.kube.ok('GET', gatewayPath(namespace, name))) as unknown as GatewayJson;
      const c = gw.status?.conditions?.find((x) => x.type === 'Programmed');
      if (c?.status === 'True') return;
      last = c;
      await new Promise((r) => setTimeout(r, WAIT_POLL_MS));
    }
    const why = last ? `${last.reason ?? ''}: ${last.message ?? ''}` : 'no Programmed condition yet (is istiod running and leading?)';
    throw new KubeApiError(0, `waypoint ${namespace}/${name} not programmed after ${this.waitTimeoutMs / 1000}s (${why}); check istiod's log and the waypoint Deployment`);
  }
}

function sameGateway(a: GatewayJson, b: GatewayJson): boolean {
  return isDeepStrictEqual(a.spec?.gatewayClassName, b.spec?.gatewayClassName)
    && isDeepStrictEqual(a.spec?.listeners, b.spec?.listeners)
    && a.metadata.labels?.['istio.io/waypoint-for'] === b.metadata.labels?.['istio.io/waypoint-for'];
}

async function checkOk(r: { status: number; body: Record<string, unknown> }, method: string, path: string): Promise<void> {
  if (r.status >= 200 && r.status < 300) return;
  const why = typeof r.body['message'] === 'string' ? r.body['message'] : `HTTP ${r.status}`;
  throw new KubeApiError(r.status, `${method} ${path}: ${why}`);
}
