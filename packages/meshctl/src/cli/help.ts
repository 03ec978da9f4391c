import { GLOBAL_FLAGS, type CommandSpec, type FlagSpec } from './spec';

function flagLines(flags: readonly FlagSpec[]): string[] {
  const rows = flags.map((f) => {
    const left = `${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.type === 'boolean' ? '' : f.type === 'number' ? ' int' : ' string'}`;
    const dflt = f.default !== undefined && f.default !== false && f.default !== '' ? ` (default ${JSON.stringify(f.default)})` : '';
    return [left, `${f.help}${dflt}`] as const;
  });
  const width = Math.max(0, ...rows.map(([l]) => l.length)) + 3;
  return rows.map(([l, r]) => `  ${l.padEnd(width)}${r}`);
}

export function commandHelp(c: CommandSpec): string {
  const lines = [c.description ?? c.summary, '', 'Usage:', `  meshctl ${c.usage}`];
  if (c.examples?.length) lines.push('', 'Examples:', ...c.examples.map((e) => `  ${e}`));
  if (c.flags.length) lines.push('', 'Flags:', ...flagLines(c.flags));
  lines.push('', 'Global Flags:', ...flagLines(GLOBAL_FLAGS));
  return lines.join('\n') + '\n';
}

/** Root or group help: the commands below `prefix`. */
export function groupHelp(commands: readonly CommandSpec[], prefix: readonly string[]): string {
  const below = commands.filter((c) => prefix.every((w, i) => c.path[i] === w));
  const width = Math.max(...below.map((c) => c.path.join(' ').length)) + 3;
  const title =
    prefix.length === 0
      ? 'meshctl controls the local ambient mesh: a cluster of network namespaces running istiod, ztunnel and istio-cni.'
      : `meshctl ${prefix.join(' ')}: ${below.length} commands.`;
  return [
    title,
    '',
    'Usage:',
    `  meshctl ${prefix.length ? prefix.join(' ') + ' ' : ''}[command] [flags]`,
    '',
    'Available Commands:',
    ...below.map((c) => `  ${c.path.join(' ').padEnd(width)}${c.summary}`),
    '',
    'Global Flags:',
    ...flagLines(GLOBAL_FLAGS),
    '',
    `Use "meshctl ${prefix.length ? prefix.join(' ') + ' ' : ''}[command] --help" for more information about a command.`,
    '',
  ].join('\n');
}
