import { CliUsageError } from './errors';
import { commandHelp, groupHelp } from './help';
import { findCommand, leadingWords, parseCommand } from './parse';
import type { CliIo, CommandSpec } from './spec';

function errorLine(e: unknown, debug: boolean): string {
  if (debug && e instanceof Error && e.stack) return `Error: ${e.stack}\n`;
  const msg = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: unknown }).code;
  return `Error: ${msg}${debug && typeof code === 'string' ? ` [${code}]` : ''}\n`;
}

/**
 * One CLI invocation: finds the command, parses flags, prints help or runs it; resolves with the exit
 * code. Errors become one `Error: ...` line on stderr (stack only with --debug), exit 2 for usage, else 1.
 */
export async function runCli(commands: readonly CommandSpec[], argv: readonly string[], io: CliIo): Promise<number> {
  const debug = argv.includes('--debug');
  const words = leadingWords(argv);
  const { spec } = findCommand(commands, words);
  try {
    const parsed = parseCommand(spec, argv, spec ? spec.path : []);
    if (!spec) {
      const isGroup = words.length > 0 && commands.some((c) => words.every((w, i) => c.path[i] === w));
      if (words.length === 0 || isGroup) {
        io.stdout(groupHelp(commands, words));
        return 0;
      }
      throw new CliUsageError(`unknown command "${words.join(' ')}" for "meshctl"; run meshctl --help`);
    }
    if (parsed.flags['help']) {
      io.stdout(commandHelp(spec));
      return 0;
    }
    const n = parsed.positionals.length;
    const args = spec.args ?? { min: 0, max: 0, names: '' };
    if (n < args.min || n > args.max) {
      throw new CliUsageError(
        args.max === 0 ? `"meshctl ${spec.path.join(' ')}" takes no arguments, got "${parsed.positionals.join(' ')}"` : `"meshctl ${spec.path.join(' ')}" needs ${args.names}; usage: meshctl ${spec.usage}`,
      );
    }
    if (parsed.rest.length > 0 && !spec.takesRest) throw new CliUsageError(`"meshctl ${spec.path.join(' ')}" takes nothing after --`);
    return await spec.run(parsed, io);
  } catch (e) {
    io.stderr(errorLine(e, debug));
    return e instanceof CliUsageError ? e.exitCode : 1;
  }
}
