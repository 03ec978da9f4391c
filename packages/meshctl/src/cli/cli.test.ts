import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COMMANDS, runCli, parseLabelArgs, type CliIo } from './index';
import { parseCommand, findCommand } from './parse';

function io(): CliIo & { out: string; err: string } {
  const o = { out: '', err: '' } as CliIo & { out: string; err: string };
  o.stdout = (t) => (o.out += t);
  o.stderr = (t) => (o.err += t);
  o.readStdin = () => '';
  o.cwd = process.cwd();
  return o;
}

describe('meshctl CLI', () => {
  it('prints root help listing every command, exit 0', async () => {
    const x = io();
    expect(await runCli(COMMANDS, ['--help'], x)).toBe(0);
    for (const c of COMMANDS) expect(x.out).toContain(c.path.join(' '));
    expect(x.out).toContain('--output');
  });

  it('prints command help with its flags and global flags', async () => {
    const x = io();
    expect(await runCli(COMMANDS, ['local', 'up', '--help'], x)).toBe(0);
    expect(x.out).toContain('meshctl local up [--nodes N]');
    expect(x.out).toContain('--nodes int');
    expect(x.out).toContain('--cluster string');
  });

  it('prints group help for "local"', async () => {
    const x = io();
    expect(await runCli(COMMANDS, ['local'], x)).toBe(0);
    expect(x.out).toContain('local apply');
    expect(x.out).not.toContain('version');
  });

  it('rejects an unknown command with one line on stderr and exit 2', async () => {
    const x = io();
    expect(await runCli(COMMANDS, ['local', 'frobnicate'], x)).toBe(2);
    expect(x.err).toBe('Error: unknown command "local frobnicate" for "meshctl"; run meshctl --help\n');
  });

  it('rejects unknown flags, bad enum values and non-numbers', async () => {
    let x = io();
    expect(await runCli(COMMANDS, ['local', 'up', '--bogus'], x)).toBe(2);
    expect(x.err).toContain('unknown flag: --bogus');
    x = io();
    expect(await runCli(COMMANDS, ['local', 'status', '-o', 'xml'], x)).toBe(2);
    expect(x.err).toContain('must be one of text, json, yaml');
    x = io();
    expect(await runCli(COMMANDS, ['local', 'up', '--nodes', 'two'], x)).toBe(2);
    expect(x.err).toContain('not a number');
    x = io();
    expect(await runCli(COMMANDS, ['local', 'up', '--nodes', '0'], x)).toBe(2);
    expect(x.err.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('rejects missing arguments and stray positionals', async () => {
    let x = io();
    expect(await runCli(COMMANDS, ['local', 'exec', '-n', 'demo'], x)).toBe(2);
    expect(x.err).toContain('needs POD');
    x = io();
    expect(await runCli(COMMANDS, ['local', 'status', 'extra'], x)).toBe(2);
    expect(x.err).toContain('takes no arguments');
    x = io();
    expect(await runCli(COMMANDS, ['local', 'exec', 'pod'], x)).toBe(2);
    expect(x.err).toContain('after --');
  });

  it('reports runtime errors without a stack unless --debug', async () => {
    let x = io();
    expect(await runCli(COMMANDS, ['local', 'label', 'ns', 'x', 'a=b', '--cluster', 'Bad_Name'], x)).toBe(1);
    expect(x.err).toMatch(/^Error: cluster name "Bad_Name" must be/);
    expect(x.err).not.toContain('    at ');
    x = io();
    expect(await runCli(COMMANDS, ['local', 'label', 'ns', 'x', 'a=b', '--cluster', 'Bad_Name', '--debug'], x)).toBe(1);
    expect(x.err).toContain('    at ');
  });

  it('parses globals before the command, inline values, short flags and the rest after --', () => {
    const words = ['local', 'exec'];
    const { spec } = findCommand(COMMANDS, words);
    const p = parseCommand(spec, ['--cluster=dev', 'local', '-ndemo', 'exec', 'client', '-o', 'json', '--', 'curl', '-s', 'x'], words);
    expect(p.flags).toMatchObject({ cluster: 'dev', namespace: 'demo', output: 'json' });
    expect(p.positionals).toEqual(['client']);
    expect(p.rest).toEqual(['curl', '-s', 'x']);
  });

  it('collects repeated -f values', () => {
    const words = ['local', 'apply'];
    const { spec } = findCommand(COMMANDS, words);
    const p = parseCommand(spec, ['local', 'apply', '-f', 'a.yaml', '--filename=b/', '-f', '-'], words);
    expect(p.flags['filename']).toEqual(['a.yaml', 'b/', '-']);
  });

  it('parses label changes like kubectl', () => {
    expect(parseLabelArgs(['istio.io/dataplane-mode=ambient', 'old-'])).toEqual({
      set: { 'istio.io/dataplane-mode': 'ambient' },
      remove: ['old'],
    });
    expect(() => parseLabelArgs(['nope'])).toThrow(/key=value or key-/);
  });

  it('prints status of a cluster that is not up as JSON', async () => {
    const x = io();
    expect(await runCli(COMMANDS, ['local', 'status', '--cluster', `nx${process.pid}`, '-o', 'json'], x)).toBe(0);
    expect(JSON.parse(x.out)).toMatchObject({ up: false, nodes: [], pods: [] });
  });

  it('fails apply on a cluster that is not up, naming the command to run', async () => {
    const x = io();
    expect(await runCli(COMMANDS, ['local', 'apply', '-f', fileURLToPath(new URL('../../samples/echo.yaml', import.meta.url)), '--cluster', `nx${process.pid}`], x)).toBe(1);
    expect(x.err).toContain('meshctl local up');
  });
});
