import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'testdata');

/** True when this process can create network namespaces and iptables is installed. */
export function canUseKernel(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('iptables', ['--version'], { stdio: 'ignore' });
    execFileSync('nsenter', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let counter = 0;

/** Creates netns named mtest-<pid>-<n>-<tag>; the caller must pass it to deleteNetns in afterAll. */
export function createNetns(tag: string): string {
  const name = `mtest-${process.pid}-${++counter}-${tag}`;
  execFileSync('ip', ['netns', 'add', name]);
  sh(name, ['ip', 'link', 'set', 'lo', 'up']);
  return name;
}

export function deleteNetns(name: string): void {
  try {
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  } catch {
    // already gone
  }
}

/** Runs argv inside netns `name` and returns stdout. */
export function sh(name: string, argv: string[], input?: string): string {
  return execFileSync('ip', ['netns', 'exec', name, ...argv], { encoding: 'utf8', ...(input === undefined ? {} : { input }) });
}

/** iptables-save without comment lines or counters, for exact before/after comparison. */
export function normalizedSave(name: string, family: 'v4' | 'v6'): string {
  const text = sh(name, [family === 'v4' ? 'iptables-save' : 'ip6tables-save']);
  return text
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.replace(/\s\[\d+:\d+\]$/, ''))
    .join('\n');
}

/** Starts a long-running fixture process in a netns and resolves once it prints "ready". */
export function startInNetns(name: string, argv: string[]): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', name, ...argv], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${argv.join(' ')} not ready in 5 s`)), 5000);
    child.stdout?.on('data', (b: Buffer) => {
      if (b.toString().includes('ready')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('exit', (code) => reject(new Error(`${argv.join(' ')} exited ${code}`)));
  });
}
