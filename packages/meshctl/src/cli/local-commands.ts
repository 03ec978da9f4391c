import fs from 'node:fs';
import path from 'node:path';
import { LocalCluster, readManifestArgs, type ApplyResult, type ClusterStatus, type UpReport } from '../local/cluster';
import { CliUsageError } from './errors';
import { render, table, type OutputFormat } from './output';
import type { CliIo, CommandSpec, ParsedCommand } from './spec';

export function clusterOf(cmd: ParsedCommand): LocalCluster {
  return new LocalCluster({ cluster: String(cmd.flags['cluster']) });
}

export function formatOf(cmd: ParsedCommand): OutputFormat {
  return cmd.flags['output'] as OutputFormat;
}

export function upText(r: UpReport): string {
  const lines = [`Local cluster "${r.cluster}" is up (state in ${r.stateDir}).`, '', 'Nodes:'];
  lines.push(table(['NAME', 'IP', 'POD CIDR', 'NETNS'], r.nodes.map((n) => [n.name, n.ip, n.podCidr, n.netns])).trimEnd());
  lines.push('', r.istiod ? `istiod: ${r.istiod} (gRPC xDS + CA, TLS), reachable from every node` : 'istiod: not running');
  if (r.components.length) {
    lines.push('', 'Components:');
    lines.push(table(['NAME', 'NODE', 'PID', 'LOG'], r.components.map((c) => [c.name, c.node, String(c.pid), c.log])).trimEnd());
  }
  for (const s of r.skipped) lines.push(`skipped ${s.name}${s.node ? ` on ${s.node}` : ''}: ${s.reason}`);
  const c = r.cluster === 'mesh' ? '' : ` --cluster ${r.cluster}`;
  lines.push(
    '',
    'Next:',
    `  meshctl local apply${c} -f samples/      # Namespaces, Deployments (image mesh/echo), Services, policies`,
    `  meshctl local label${c} ns default istio.io/dataplane-mode=ambient`,
    `  meshctl local exec${c} -n default POD -- curl -s http://echo:8080/`,
    `  meshctl local status${c}`,
    `  meshctl local down${c}`,
    `  (a node's shell: ip netns exec ${r.nodes[0]?.netns ?? '<node netns>'} bash)`,
  );
  return lines.join('\n') + '\n';
}

export function statusText(s: ClusterStatus): string {
  if (!s.up) return `Local cluster "${s.cluster}" is not up.\n`;
  const out = [`Cluster "${s.cluster}" (state ${s.stateDir})${s.istiod ? `, istiod at ${s.istiod}` : ''}`, ''];
  out.push(table(['NODE', 'IP', 'POD CIDR'], s.nodes.map((n) => [n.name, n.ip, n.podCidr])));
  out.push(table(['COMPONENT', 'NODE', 'PID', 'ALIVE', 'READY'], s.components.map((c) => [c.name, c.node, String(c.pid), String(c.alive), String(c.ready)])));
  for (const k of s.skipped) out.push(`skipped ${k.name}${k.node ? ` on ${k.node}` : ''}: ${k.reason}\n`);
  if (s.skipped.length) out.push('');
  out.push(
    table(
      ['NAMESPACE', 'POD', 'IP', 'NODE', 'RUNNING', 'REDIRECTION'],
      s.pods.map((p) => [p.namespace, p.name, p.ip, p.node, String(p.running), p.redirection || '-']),
    ),
  );
  out.push(table(['NAMESPACE', 'SERVICE', 'CLUSTER-IP', 'PORTS', 'ENDPOINTS'], s.services.map((v) => [v.namespace, v.name, v.vip, v.ports, v.endpoints.join(',') || '<none>'])));
  return out.join('\n');
}

function applyText(results: readonly ApplyResult[]): string {
  // kubectl's `kind/name verb` (the namespace is implied by the manifest).
  return results.map((r) => `${r.resource.split(' ')[0]!.toLowerCase()}/${r.resource.split('/').pop()!.split(' ').pop()!} ${r.action}`).join('\n') + '\n';
}

function manifests(cmd: ParsedCommand, io: CliIo) {
  const files = (cmd.flags['filename'] as string[]).map((f) => (f === '-' ? f : path.resolve(io.cwd, f)));
  if (files.length === 0) throw new CliUsageError('must specify -f FILE|DIR|-');
  return readManifestArgs(files, io.readStdin);
}

/** `key=value` sets, `key-` removes (kubectl label syntax). */
export function parseLabelArgs(args: readonly string[]): { set: Record<string, string>; remove: string[] } {
  const set: Record<string, string> = {};
  const remove: string[] = [];
  for (const a of args) {
    if (a.endsWith('-') && !a.includes('=')) remove.push(a.slice(0, -1));
    else if (a.indexOf('=') > 0) set[a.slice(0, a.indexOf('='))] = a.slice(a.indexOf('=') + 1);
    else throw new CliUsageError(`label "${a}" must be key=value or key- (to remove)`);
  }
  if (!Object.keys(set).length && !remove.length) throw new CliUsageError('give at least one label: key=value or key-');
  return { set, remove };
}

const FILE_FLAG = { name: 'filename', short: 'f', type: 'list', help: 'Manifest file, directory or - for stdin (repeatable)' } as const;

export const LOCAL_COMMANDS: CommandSpec[] = [
  {
    path: ['local', 'up'],
    summary: 'Create (or repair) a local ambient cluster on network namespaces',
    usage: 'local up [--nodes N]',
    description:
      'Creates a kind-like cluster of network namespaces (a switch, N nodes), starts istiod in the control-plane node and the CNI agent and ztunnel on every node. Idempotent: a healthy cluster is left unchanged.',
    examples: ['meshctl local up', 'meshctl local up --nodes 3 --cluster dev'],
    flags: [{ name: 'nodes', type: 'number', help: 'Number of nodes', default: 2 }],
    run: async (cmd, io) => {
      const n = cmd.flags['nodes'] as number;
      if (!Number.isInteger(n) || n < 1 || n > 16) throw new CliUsageError('--nodes must be an integer from 1 to 16');
      const r = await clusterOf(cmd).up(n);
      io.stdout(render(formatOf(cmd), r, () => upText(r)));
      return 0;
    },
  },
  {
    path: ['local', 'down'],
    summary: 'Remove the local cluster: processes, namespaces, config (also after a crash)',
    usage: 'local down',
    flags: [],
    run: async (cmd, io) => {
      const r = await clusterOf(cmd).down();
      io.stdout(render(formatOf(cmd), r, () => `Local cluster "${String(cmd.flags['cluster'])}" removed (${r.netns} netns, ${r.killedPids} processes).\n`));
      return 0;
    },
  },
  {
    path: ['local', 'status'],
    summary: 'Show nodes, pods, services and component health',
    usage: 'local status',
    flags: [],
    run: async (cmd, io) => {
      const s = await clusterOf(cmd).status();
      io.stdout(render(formatOf(cmd), s, () => statusText(s)));
      return 0;
    },
  },
  {
    path: ['local', 'apply'],
    summary: 'Apply manifests (Namespaces, Pods, Deployments, Services, Istio and Gateway API config)',
    usage: 'local apply -f FILE|DIR|- [-f ...]',
    examples: ['meshctl local apply -f samples/echo.yaml', 'cat policy.yaml | meshctl local apply -f -'],
    flags: [FILE_FLAG],
    run: async (cmd, io) => {
      const r = await clusterOf(cmd).apply(manifests(cmd, io));
      io.stdout(render(formatOf(cmd), r, () => applyText(r)));
      return 0;
    },
  },
  {
    path: ['local', 'delete'],
    summary: 'Delete the objects named in manifests',
    usage: 'local delete -f FILE|DIR|- [-f ...]',
    flags: [FILE_FLAG],
    run: async (cmd, io) => {
      const r = await clusterOf(cmd).delete(manifests(cmd, io));
      io.stdout(render(formatOf(cmd), r, () => applyText(r)));
      return 0;
    },
  },
  {
    path: ['local', 'label'],
    summary: 'Set (key=value) or remove (key-) labels on a Namespace',
    usage: 'local label ns NAME key=value|key- ...',
    description: 'Rewrites the Namespace object; istiod and the CNI agents watch it, so running pods enroll or leave ambient without a restart.',
    examples: ['meshctl local label ns demo istio.io/dataplane-mode=ambient', 'meshctl local label ns demo istio.io/dataplane-mode-'],
    flags: [],
    args: { min: 3, max: Infinity, names: 'ns NAME LABEL...' },
    run: async (cmd, io) => {
      const [kind, name, ...labels] = cmd.positionals;
      if (kind !== 'ns' && kind !== 'namespace' && kind !== 'namespaces') throw new CliUsageError(`only namespaces can be labelled, not "${kind ?? ''}"`);
      const { set, remove } = parseLabelArgs(labels);
      const ns = clusterOf(cmd).labelNamespace(name!, set, remove);
      io.stdout(render(formatOf(cmd), ns, () => `namespace/${name!} labeled\n`));
      return 0;
    },
  },
  {
    path: ['local', 'exec'],
    summary: 'Run a command inside a pod (its network namespace and environment)',
    usage: 'local exec [-n NAMESPACE] POD -- COMMAND [ARGS...]',
    examples: ['meshctl local exec -n demo client -- curl -s http://echo:8080/'],
    flags: [{ name: 'namespace', short: 'n', type: 'string', help: 'Namespace of the pod', default: 'default' }],
    args: { min: 1, max: 1, names: 'POD' },
    takesRest: true,
    run: async (cmd) => {
      if (cmd.rest.length === 0) throw new CliUsageError('give the command after --, e.g. meshctl local exec POD -- sh');
      const r = await clusterOf(cmd).exec(String(cmd.flags['namespace']), cmd.positionals[0]!, cmd.rest);
      return r.code;
    },
  },
  {
    path: ['local', 'logs'],
    summary: 'Print the log of a component (istiod, ztunnel[-NODE], cni-agent[-NODE], meshctl) or a pod',
    usage: 'local logs [-n NAMESPACE] COMPONENT|POD [--tail N]',
    flags: [
      { name: 'namespace', short: 'n', type: 'string', help: 'Namespace of the pod', default: 'default' },
      { name: 'tail', type: 'number', help: 'Only the last N lines (-1: all)', default: -1 },
    ],
    args: { min: 1, max: 1, names: 'COMPONENT|POD' },
    run: async (cmd, io) => {
      const file = clusterOf(cmd).logFile(cmd.positionals[0]!, String(cmd.flags['namespace']));
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch {
        throw new CliUsageError(`no log at ${file} yet`);
      }
      const tail = cmd.flags['tail'] as number;
      io.stdout(tail >= 0 ? text.trimEnd().split('\n').slice(-tail).join('\n') + '\n' : text);
      return 0;
    },
  },
];
