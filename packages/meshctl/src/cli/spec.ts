export type FlagType = 'string' | 'boolean' | 'number' | 'list';

export interface FlagSpec {
  name: string;
  short?: string;
  type: FlagType;
  help: string;
  default?: string | number | boolean;
  /** Accepted values, for enum-like string flags. */
  choices?: readonly string[];
}

export type FlagValue = string | number | boolean | string[];

export interface ParsedCommand {
  path: string[];
  flags: Record<string, FlagValue>;
  positionals: string[];
  /** Everything after a bare `--`. */
  rest: string[];
}

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Text of stdin, for `-f -`. */
  readStdin: () => string;
  /** Where relative paths are resolved and the repo is found from (tests point it elsewhere). */
  cwd: string;
}

export interface CommandSpec {
  path: string[];
  summary: string;
  usage: string;
  description?: string;
  examples?: string[];
  flags: FlagSpec[];
  /** Positional arguments: minimum and maximum count (Infinity for any). */
  args?: { min: number; max: number; names: string };
  /** Takes `-- CMD...`. */
  takesRest?: boolean;
  run: (cmd: ParsedCommand, io: CliIo) => Promise<number>;
}

/** Flags every command understands (istioctl's persistent flags). */
export const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'output', short: 'o', type: 'string', help: 'Output format: text, json or yaml', default: 'text', choices: ['text', 'json', 'yaml'] },
  { name: 'cluster', type: 'string', help: 'Name of the local cluster', default: 'mesh' },
  { name: 'debug', type: 'boolean', help: 'Print stack traces and debug logs on errors', default: false },
  { name: 'help', short: 'h', type: 'boolean', help: 'Help for this command', default: false },
];
