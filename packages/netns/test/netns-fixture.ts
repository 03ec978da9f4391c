// Test-only helpers: throwaway network namespaces named mtest-<pid>-<suffix>, always removed afterwards.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';

export const IP_BIN = '/usr/sbin/ip';
const IPTABLES_CANDIDATES = ['/usr/sbin/iptables', '/sbin/iptables', '/usr/bin/iptables'];
const IP6TABLES_CANDIDATES = ['/usr/sbin/ip6tables', '/sbin/ip6tables', '/usr/bin/ip6tables'];

export const isRoot = process.getuid?.() === 0;
export const canUseNetns = isRoot && fs.existsSync(IP_BIN);
export const iptablesBin = IPTABLES_CANDIDATES.find((p) => fs.existsSync(p));
export const ip6tablesBin = IP6TABLES_CANDIDATES.find((p) => fs.existsSync(p));

export interface TestNetns {
  name: string;
  path: string;
  /** Runs a command inside the namespace and returns stdout. */
  exec(cmd: string, args: string[]): string;
  /** Runs `node -e script` inside the namespace; resolves stdout, rejects on non-zero exit. */
  node(script: string, args?: string[]): Promise<string>;
  destroy(): void;
}

export function createTestNetns(suffix: string): TestNetns {
  const name = `mtest-${process.pid}-${suffix}`;
  execFileSync(IP_BIN, ['netns', 'add', name]);
  const ns: TestNetns = {
    name,
    path: `/var/run/netns/${name}`,
    exec: (cmd, args) => execFileSync(IP_BIN, ['netns', 'exec', name, cmd, ...args], { encoding: 'utf8' }),
    node: (script, args = []) => runNodeIn(name, script, args),
    destroy: () => {
      try {
        execFileSync(IP_BIN, ['netns', 'del', name], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    },
  };
  try {
    ns.exec(IP_BIN, ['link', 'set', 'lo', 'up']);
  } catch (err) {
    ns.destroy();
    throw err;
  }
  return ns;
}

function runNodeIn(name: string, script: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(IP_BIN, ['netns', 'exec', name, process.execPath, '-e', script, ...args]);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`node in ${name} exited ${code}: ${err}`))));
  });
}

/** Inode of the calling thread's and the process's network namespace. */
export function currentNetnsInodes(): { process: number; thread: number } {
  return { process: fs.statSync('/proc/self/ns/net').ino, thread: fs.statSync('/proc/thread-self/ns/net').ino };
}

/** Open fds of this process (for leak checks). */
export function openFdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}
