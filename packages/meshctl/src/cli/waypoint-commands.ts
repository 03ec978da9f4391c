import { KubeClient, KubeWaypoints } from '../kube';
import { WAYPOINT_FOR_VALUES, type WaypointFor } from '../local/cluster';
import { clusterOf, formatOf } from './local-commands';
import { CliUsageError } from './errors';
import { render, table } from './output';
import type { CommandSpec, ParsedCommand } from './spec';

const NS_FLAG = { name: 'namespace', short: 'n', type: 'string', help: 'Namespace of the waypoint', default: 'default' } as const;
/** With either flag the command talks to a Kubernetes cluster (istiod deploys the proxy); without, to the local cluster. */
const KUBE_FLAGS = [
  { name: 'kubeconfig', type: 'string', help: 'Use this Kubernetes cluster (kubeconfig path) instead of the local cluster', default: '' },
  { name: 'context', type: 'string', help: 'Kubernetes context (implies Kubernetes; kubeconfig from $KUBECONFIG or ~/.kube/config)', default: '' },
] as const;

function kubeOf(cmd: ParsedCommand): KubeWaypoints | undefined {
  const kubeconfig = String(cmd.flags['kubeconfig'] ?? '');
  const context = String(cmd.flags['context'] ?? '');
  if (kubeconfig === '' && context === '') return undefined;
  return new KubeWaypoints(KubeClient.load({ kubeconfig, context }));
}

/**
 * `istioctl waypoint apply|list|delete` against the local cluster (the Gateway is the API; the cluster runs it), or
 * against Kubernetes with --kubeconfig/--context (istiod's deployment controller runs it).
 */
export const WAYPOINT_COMMANDS: CommandSpec[] = [
  {
    path: ['waypoint', 'apply'],
    summary: 'Create or update a waypoint Gateway (class istio-waypoint); the local cluster runs its proxy',
    usage: 'waypoint apply -n NAMESPACE [--name waypoint] [--for service|workload|all|none] [--enroll-namespace] [--wait]',
    examples: ['meshctl waypoint apply -n demo --enroll-namespace --wait', 'meshctl waypoint apply -n demo --name reviews-wp --for workload'],
    flags: [
      NS_FLAG,
      { name: 'name', type: 'string', help: 'Name of the waypoint Gateway', default: 'waypoint' },
      { name: 'for', type: 'string', help: 'Traffic the waypoint handles (istio.io/waypoint-for)', default: 'service', choices: WAYPOINT_FOR_VALUES },
      { name: 'enroll-namespace', type: 'boolean', help: 'Label the namespace istio.io/use-waypoint=NAME', default: false },
      { name: 'wait', type: 'boolean', help: 'Wait until the waypoint proxy is ready', default: false },
      ...KUBE_FLAGS,
    ],
    run: async (cmd, io) => {
      const ns = String(cmd.flags['namespace']);
      const name = String(cmd.flags['name']);
      const opts = {
        namespace: ns,
        name,
        for: cmd.flags['for'] as WaypointFor,
        enrollNamespace: cmd.flags['enroll-namespace'] === true,
        wait: cmd.flags['wait'] === true,
      };
      const kube = kubeOf(cmd);
      const r = kube ? await kube.apply(opts) : await clusterOf(cmd).applyWaypoint(opts);
      const lines = [`waypoint ${r.gateway} applied (${r.action})`];
      if (r.enrolledNamespace) lines.push(`namespace ${r.enrolledNamespace} labeled with "istio.io/use-waypoint: ${name}"`);
      if (cmd.flags['wait'] === true) lines.push(`waypoint ${r.gateway} is ready`);
      io.stdout(render(formatOf(cmd), r, () => lines.join('\n') + '\n'));
      return 0;
    },
  },
  {
    path: ['waypoint', 'list'],
    summary: 'List waypoint Gateways and whether their proxy runs',
    usage: 'waypoint list [-n NAMESPACE | -A]',
    flags: [NS_FLAG, { name: 'all-namespaces', short: 'A', type: 'boolean', help: 'List waypoints in every namespace', default: false }, ...KUBE_FLAGS],
    run: async (cmd, io) => {
      const all = cmd.flags['all-namespaces'] === true;
      const kube = kubeOf(cmd);
      if (kube) {
        const krows = await kube.list(all ? undefined : String(cmd.flags['namespace']));
        const ktext = () =>
          krows.length === 0
            ? 'No waypoints found.\n'
            : table([...(all ? ['NAMESPACE'] : []), 'NAME', 'FOR', 'PROGRAMMED'], krows.map((w) => [...(all ? [w.namespace] : []), w.name, w.for, w.programmed]));
        io.stdout(render(formatOf(cmd), krows, ktext));
        return 0;
      }
      const rows = clusterOf(cmd).listWaypoints(all ? undefined : String(cmd.flags['namespace']));
      const text = () =>
        rows.length === 0
          ? 'No waypoints found.\n'
          : table(
              [...(all ? ['NAMESPACE'] : []), 'NAME', 'FOR', 'POD', 'RUNNING'],
              rows.map((w) => [...(all ? [w.namespace] : []), w.name, w.for, w.pod ?? '-', String(w.running)]),
            );
      io.stdout(render(formatOf(cmd), rows, text));
      return 0;
    },
  },
  {
    path: ['waypoint', 'delete'],
    summary: 'Delete waypoint Gateways (their proxies stop)',
    usage: 'waypoint delete -n NAMESPACE NAME [NAME...]',
    flags: [NS_FLAG, ...KUBE_FLAGS],
    args: { min: 1, max: Infinity, names: 'NAME...' },
    run: async (cmd, io) => {
      const kube = kubeOf(cmd);
      const ns = String(cmd.flags['namespace']);
      const r = kube ? await kube.delete(ns, cmd.positionals) : await clusterOf(cmd).deleteWaypoints(ns, cmd.positionals);
      io.stdout(render(formatOf(cmd), r, () => r.map((x) => `waypoint ${x.gateway} ${x.action}`).join('\n') + '\n'));
      if (r.some((x) => x.action === 'not found')) throw new CliUsageError(`not found: ${r.filter((x) => x.action === 'not found').map((x) => x.gateway).join(', ')}`);
      return 0;
    },
  },
];
