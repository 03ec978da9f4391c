import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalNetwork } from '../net';
import { alive, emptyClusterState } from './cluster-state';
import type { ComponentSpec } from './components';
import { ensureComponent, waitReady } from './control-plane';

// Real kernel: one node netns named with this test's prefix; the "component" is a real detached process.
const ID = `${process.pid % 100000}`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `mtest-${ID}-cp-`));

describe('ensureComponent', () => {
  const net = new LocalNetwork({ cluster: `c${ID}`, prefix: `mtest-${ID}-cp-`, stateDir: path.join(tmp, 'state') });
  const script = path.join(tmp, 'idle.mjs');
  let spec: ComponentSpec;

  beforeAll(async () => {
    // Stays alive and never becomes ready: like ztunnel while its node's CNI agent is down.
    fs.writeFileSync(script, 'setInterval(() => {}, 1000);\n');
    await net.up({ nodes: 1 });
    const node = net.state.nodes[0]!;
    spec = {
      name: 'ztunnel',
      node: node.name,
      bundle: script,
      argv: [process.execPath, script],
      env: {},
      readyUrl: `http://${node.ip}:1/healthz/ready`,
      log: path.join(tmp, 'logs', 'idle.log'),
    };
  }, 30_000);

  afterAll(async () => {
    await net.down();
    fs.rmSync(tmp, { recursive: true, force: true });
  }, 30_000);

  it('keeps a live but unready component instead of starting a second one beside it', async () => {
    const st = emptyClusterState(net.cluster);
    const first = await ensureComponent(net, st, spec);
    expect(first && alive(first)).toBe(true);
    const again = await ensureComponent(net, st, spec);
    expect(again?.pid).toBe(first?.pid);
    expect(st.components).toHaveLength(1);
    const running = net.reload().processes.filter((p) => p.argv.includes(script) && alive(p));
    expect(running).toHaveLength(1);
  });

  it('restarts a component that died, and waitReady reports an unready one by timeout, not as exited', async () => {
    const st = emptyClusterState(net.cluster);
    const first = (await ensureComponent(net, st, spec))!;
    process.kill(first.pid, 'SIGKILL');
    for (let i = 0; i < 100 && alive(first); i++) await new Promise((r) => setTimeout(r, 20));
    const second = (await ensureComponent(net, st, spec))!;
    expect(second.pid).not.toBe(first.pid);
    expect(alive(second)).toBe(true);
    await expect(waitReady(net, second, 500)).rejects.toMatchObject({ code: 'CLUSTER_TIMEOUT' });
  });
});
