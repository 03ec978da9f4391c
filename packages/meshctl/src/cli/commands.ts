import { DEMO_COMMANDS } from '../demo/command';
import { LOCAL_COMMANDS } from './local-commands';
import { WAYPOINT_COMMANDS } from './waypoint-commands';
import type { CommandSpec } from './spec';

export const MESHCTL_VERSION = '0.1.0';

export const COMMANDS: CommandSpec[] = [
  ...LOCAL_COMMANDS,
  ...DEMO_COMMANDS,
  ...WAYPOINT_COMMANDS,
  {
    path: ['version'],
    summary: 'Print the meshctl version',
    usage: 'version',
    flags: [],
    run: async (_cmd, io) => {
      io.stdout(`meshctl ${MESHCTL_VERSION} (node ${process.versions.node})\n`);
      return 0;
    },
  },
];
