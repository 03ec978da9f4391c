import { LocalCluster } from '../local/cluster';
import { CliUsageError } from '../cli/errors';
import type { CommandSpec } from '../cli/spec';
import { runDemo } from './demo';

export const DEMO_COMMANDS: CommandSpec[] = [
  {
    path: ['demo'],
    summary: 'Guided tour: ambient traffic across nodes, the wire view, and an AuthorizationPolicy',
    usage: 'demo [--nodes N] [--keep]',
    description:
      'Brings up a local cluster, deploys sample apps in an ambient namespace and a legacy one, sends real requests, captures the node-to-node packets, applies an AuthorizationPolicy (deny, then allow) and cleans up on exit or Ctrl-C unless --keep.',
    flags: [
      { name: 'nodes', type: 'number', help: 'Number of nodes', default: 2 },
      { name: 'keep', type: 'boolean', help: 'Leave the cluster running at the end', default: false },
    ],
    run: async (cmd, io) => {
      const cluster = String(cmd.flags['cluster']);
      const nodes = cmd.flags['nodes'] as number;
      if (!Number.isInteger(nodes) || nodes < 1 || nodes > 16) throw new CliUsageError('--nodes must be an integer from 1 to 16');
      const keep = cmd.flags['keep'] === true;
      const down = () => new LocalCluster({ cluster }).down();
      const onSigint = () => {
        io.stderr('\ninterrupted: removing the demo cluster...\n');
        void down().finally(() => process.exit(130));
      };
      process.once('SIGINT', onSigint);
      try {
        const r = await runDemo({ cluster, nodes, keep, say: io.stdout });
        const failed = r.steps.filter((s) => s.result === 'failed');
        const skipped = r.steps.filter((s) => s.result === 'skipped');
        io.stdout(`\nDemo finished: ${r.steps.length - failed.length - skipped.length} ok, ${failed.length} failed, ${skipped.length} skipped.\n`);
        return failed.length > 0 ? 1 : 0;
      } finally {
        process.removeListener('SIGINT', onSigint);
        if (!keep) {
          io.stdout('Cleaning up (use --keep to leave the cluster running)...\n');
          await down();
        }
      }
    },
  },
];
