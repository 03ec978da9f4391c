import { spawn } from 'node:child_process';

export interface CaptureSummary {
  lines: string[];
  /** Destination or source TCP ports seen on inter-node traffic, with packet counts. */
  ports: Record<string, number>;
}

/**
 * tcpdump on the switch's bridge (every node-to-node packet crosses it): started, given time to attach,
 * then stopped after `during` resolves. Returns the first lines and a per-port packet count.
 */
export async function captureOnSwitch(switchNetns: string, during: () => Promise<void>, watchPorts: readonly number[]): Promise<CaptureSummary> {
  const filter = ['tcp', 'and', '(', watchPorts.map((p) => `port ${p}`).join(' or '), ')'].join(' ');
  const child = spawn('ip', ['netns', 'exec', switchNetns, 'tcpdump', '-l', '-nn', '-q', '-i', 'br0', ...filter.split(' ')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  const attached = new Promise<void>((resolve) => {
    child.stderr.on('data', (b: Buffer) => {
      if (b.toString().includes('listening on')) resolve();
    });
    setTimeout(resolve, 3_000);
  });
  await attached;
  try {
    await during();
  } finally {
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGINT');
    await new Promise((r) => child.once('close', r));
  }
  const lines = out.split('\n').filter((l) => l.trim() !== '');
  const ports: Record<string, number> = {};
  for (const l of lines) {
    const m = /\.(\d+) > [\d.]+\.(\d+):/.exec(l);
    if (!m) continue;
    const port = watchPorts.map(String).find((p) => p === m[1] || p === m[2]);
    if (port) ports[port] = (ports[port] ?? 0) + 1;
  }
  return { lines, ports };
}
