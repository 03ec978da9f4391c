import type { Pod } from '@mesh/api';
import type { LocalNetwork } from '../net';
import { alive, type ClusterState } from './cluster-state';
import { istiodAddress } from './components';
import type { ConfigDir, KubeObjectLike } from './config-dir';
import { containerAlive } from './pods';

export interface ClusterStatus {
  cluster: string;
  up: boolean;
  stateDir: string;
  istiod?: string;
  nodes: Array<{ name: string; ip: string; podCidr: string; netns: string }>;
  pods: Array<{
    namespace: string;
    name: string;
    ip: string;
    node: string;
    serviceAccount: string;
    running: boolean;
    /** Istio's `ambient.istio.io/redirection` annotation as the CNI agent set it (`enabled`, `pending`, or none). */
    redirection: string;
  }>;
  services: Array<{ namespace: string; name: string; vip: string; ports: string; endpoints: string[] }>;
  components: Array<{ name: string; node: string; pid: number; alive: boolean; ready: boolean; log: string }>;
  skipped: Array<{ name: string; node?: string; reason: string }>;
}

export async function statusOf(
  net: LocalNetwork,
  config: ConfigDir,
  st: ClusterState,
  stateDir: string,
  probe: (node: string, url: string) => Promise<boolean>,
): Promise<ClusterStatus> {
  const ns = net.state;
  const pods = config.list<Pod & KubeObjectLike>('Pod').map((p) => ({
    namespace: p.metadata.namespace ?? 'default',
    name: p.metadata.name,
    ip: p.status?.podIP ?? '',
    node: p.spec.nodeName ?? '',
    serviceAccount: p.spec.serviceAccountName ?? 'default',
    running: containerAlive(net, p.metadata.namespace ?? 'default', p.metadata.name),
    redirection: p.metadata.annotations?.['ambient.istio.io/redirection'] ?? '',
  }));
  const components = await Promise.all(
    st.components.map(async (c) => {
      const isAlive = alive(c);
      return { name: c.name, node: c.node, pid: c.pid, alive: isAlive, ready: isAlive && (await probe(c.node, c.readyUrl)), log: c.log };
    }),
  );
  const istiodUp = st.istiod && st.components.some((c) => c.name === 'istiod');
  return {
    cluster: net.cluster,
    up: ns.nodes.length > 0,
    stateDir,
    ...(istiodUp && st.istiod ? { istiod: istiodAddress(st.istiod) } : {}),
    nodes: ns.nodes.map((n) => ({ name: n.name, ip: n.ip, podCidr: n.podCidr, netns: n.netns })),
    pods,
    services: ns.services.map((s) => ({
      namespace: s.namespace,
      name: s.name,
      vip: s.vip,
      ports: s.ports.map((p) => `${p.port}${p.targetPort && p.targetPort !== p.port ? `:${p.targetPort}` : ''}/${p.protocol ?? 'TCP'}`).join(','),
      endpoints: net.serviceEndpoints(s.namespace, s.name),
    })),
    components,
    skipped: st.skipped,
  };
}
