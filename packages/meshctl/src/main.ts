import fs from 'node:fs';
import { COMMANDS, runCli } from './cli';

const code = await runCli(COMMANDS, process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readStdin: () => fs.readFileSync(0, 'utf8'),
  cwd: process.cwd(),
});
// Let stdout drain (piped output) before exiting; detached children were unref'd and survive.
process.stdout.write('', () => process.exit(code));
