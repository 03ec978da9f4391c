export { runCli } from './run';
export { COMMANDS, MESHCTL_VERSION } from './commands';
export { CliUsageError } from './errors';
export { parseCommand, findCommand } from './parse';
export { parseLabelArgs } from './local-commands';
export type { CliIo, CommandSpec, ParsedCommand } from './spec';
