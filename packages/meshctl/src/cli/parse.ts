import { CliUsageError } from './errors';
import { GLOBAL_FLAGS, type CommandSpec, type FlagSpec, type FlagValue, type ParsedCommand } from './spec';

/** Longest command path matching the leading words; words that name a group but no command stay in `path`. */
export function findCommand(commands: readonly CommandSpec[], words: readonly string[]): { spec?: CommandSpec; consumed: number } {
  let best: CommandSpec | undefined;
  for (const c of commands) {
    if (c.path.length <= words.length && c.path.every((w, i) => words[i] === w)) {
      if (!best || c.path.length > best.path.length) best = c;
    }
  }
  return best ? { spec: best, consumed: best.path.length } : { consumed: 0 };
}

/** Leading non-flag words (the command path candidates), skipping global flags with their values. */
export function leadingWords(argv: readonly string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a.startsWith('-')) {
      const g = lookup(GLOBAL_FLAGS, a);
      if (g && g.type !== 'boolean' && !a.includes('=')) i++;
      continue;
    }
    words.push(a);
  }
  return words;
}

function lookup(specs: readonly FlagSpec[], arg: string): FlagSpec | undefined {
  const name = arg.startsWith('--') ? arg.slice(2).split('=')[0] : arg.slice(1, 2);
  return specs.find((f) => (arg.startsWith('--') ? f.name === name : f.short === name));
}

function convert(spec: FlagSpec, raw: string): FlagValue {
  if (spec.type === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new CliUsageError(`invalid value "${raw}" for --${spec.name}: not a number`);
    return n;
  }
  if (spec.choices && !spec.choices.includes(raw)) {
    throw new CliUsageError(`invalid value "${raw}" for --${spec.name}: must be one of ${spec.choices.join(', ')}`);
  }
  return raw;
}

function defaults(specs: readonly FlagSpec[]): Record<string, FlagValue> {
  const out: Record<string, FlagValue> = {};
  for (const f of specs) {
    if (f.type === 'list') out[f.name] = [];
    else if (f.default !== undefined) out[f.name] = f.default;
  }
  return out;
}

/**
 * Parses argv for a known command: `--flag v`, `--flag=v`, `-f v`, `-fv`, boolean `--flag`/`--flag=false`,
 * repeatable list flags, positionals anywhere, and `--` ending flag parsing.
 */
export function parseCommand(spec: CommandSpec | undefined, argv: readonly string[], path: string[]): ParsedCommand {
  const specs = [...GLOBAL_FLAGS, ...(spec?.flags ?? [])];
  const flags = defaults(specs);
  const positionals: string[] = [];
  let rest: string[] = [];
  let skip = path.length;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest = argv.slice(i + 1);
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      if (skip > 0 && a === path[path.length - skip]) skip--;
      else positionals.push(a);
      continue;
    }
    const f = lookup(specs, a);
    if (!f) throw new CliUsageError(`unknown flag: ${a.split('=')[0]}`);
    let inline: string | undefined;
    if (a.startsWith('--') && a.includes('=')) inline = a.slice(a.indexOf('=') + 1);
    else if (!a.startsWith('--') && a.length > 2) inline = a.slice(2);
    if (f.type === 'boolean') {
      flags[f.name] = inline === undefined ? true : inline !== 'false';
      continue;
    }
    const raw = inline ?? argv[++i];
    if (raw === undefined) throw new CliUsageError(`flag needs an argument: --${f.name}`);
    const v = convert(f, raw);
    flags[f.name] = f.type === 'list' ? [...(flags[f.name] as string[]), String(v)] : v;
  }
  return { path, flags, positionals, rest };
}
