import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { canUseKernel, createNetns, deleteNetns } from '../iptables/netns.test-helper';

const PKG_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const REPO_ROOT = join(PKG_DIR, '..', '..');
const BUNDLE = join(PKG_DIR, 'dist', 'istio-cni.mjs');
const NATIVE = join(PKG_DIR, 'native-plugin', 'build', 'istio-cni');

// The same cases against the Node plugin (the reference) and the native build (native-plugin/istio-cni.c).
const IMPLEMENTATIONS = [
  { name: 'node', argv: [process.execPath, BUNDLE], build: [join(REPO_ROOT, 'tools', 'bundle.mjs'), 'cni'] },
  { name: 'native', argv: [NATIVE], build: [join(PKG_DIR, 'scripts', 'build-native-plugin.mjs')] },
] as const;

const PREV_RESULT = {
  cniVersion: '1.0.0',
  interfaces: [{ name: 'eth0', mac: 'aa:bb:cc:dd:ee:ff', sandbox: '/var/run/netns/x' }],
  ips: [{ address: '10.244.1.7/24', gateway: '10.244.1.1', interface: 0 }],
  routes: [{ dst: '0.0.0.0/0' }],
  dns: {},
};

interface Received {
  url: string | undefined;
  method: string | undefined;
  body: unknown;
}

interface Run {
  code: number | null;
  stdout: string;
  json: Record<string, unknown> | undefined;
}

/** Execs the plugin the way a container runtime does: env + stdin in, stdout + exit code out. */
function execPlugin(argv: readonly string[], env: Record<string, string>, stdin: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const [file = '', ...args] = argv;
    const child = spawn(file, args, { env: { PATH: process.env['PATH'] ?? '', ...env } });
    let stdout = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      let json: Record<string, unknown> | undefined;
      try {
        json = stdout ? (JSON.parse(stdout) as Record<string, unknown>) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, json });
    });
    // A plugin may exit before reading stdin (e.g. the env check fails first, as the native plugin does):
    // the runtime sees EPIPE on its write and only the exit code and stdout matter.
    child.stdin.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') reject(err);
    });
    child.stdin.end(stdin);
  });
}

describe.each(IMPLEMENTATIONS)('istio-cni plugin executable ($name)', (impl) => {
  const runPluginBinary = (env: Record<string, string>, stdin: string) => execPlugin(impl.argv, env, stdin);
  let runDir = '';
  let netnsPath = '';
  let netnsName: string | undefined;
  let agent: Server;
  let received: Received[] = [];
  let agentStatus = 200;
  let agentBody = '{"enrolled":true}';

  const config = (extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      cniVersion: '1.0.0',
      name: 'k8s-pod-network',
      type: 'istio-cni',
      ambient_enabled: true,
      exclude_namespaces: ['istio-system', 'kube-system'],
      cni_agent_run_dir: runDir,
      pod_namespace: 'istio-system',
      plugin_log_level: 'debug',
      prevResult: PREV_RESULT,
      ...extra,
    });
  const env = (command: string, extra: Record<string, string> = {}) => ({
    CNI_COMMAND: command,
    CNI_CONTAINERID: 'c0ffee1234',
    CNI_NETNS: netnsPath,
    CNI_IFNAME: 'eth0',
    CNI_PATH: '/opt/cni/bin',
    CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=c0ffee1234;K8S_POD_UID=5f0c-uid',
    ...extra,
  });

  beforeAll(async () => {
    await promisify(execFile)(process.execPath, [...impl.build], { cwd: REPO_ROOT });
    runDir = mkdtempSync(join(tmpdir(), 'mesh-cni-plugin-'));
    if (canUseKernel()) {
      netnsName = createNetns('plugin');
      netnsPath = `/var/run/netns/${netnsName}`;
    } else {
      netnsPath = `/proc/${process.pid}/ns/net`;
    }
    agent = createServer((req, res) => {
      let body = '';
      req.on('data', (b: Buffer) => (body += b.toString()));
      req.on('end', () => {
        received.push({ url: req.url, method: req.method, body: JSON.parse(body) as unknown });
        res.writeHead(agentStatus, { 'content-type': 'application/json' }).end(agentBody);
      });
    });
    await new Promise<void>((resolve) => agent.listen(join(runDir, 'pluginevent.sock'), resolve));
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => (agent ? agent.close(() => resolve()) : resolve()));
    if (netnsName) deleteNetns(netnsName);
    rmSync(runDir, { recursive: true, force: true });
  });

  beforeEach(() => {
    received = [];
    agentStatus = 200;
    agentBody = '{"enrolled":true}';
  });

  it('VERSION lists the supported spec versions', async () => {
    const r = await runPluginBinary({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.0.0"}');
    expect(r.code).toBe(0);
    expect(r.json).toEqual({ cniVersion: '1.0.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  });

  it('ADD in an excluded namespace passes prevResult through without asking the agent', async () => {
    const r = await runPluginBinary(env('ADD', { CNI_ARGS: 'K8S_POD_NAMESPACE=kube-system;K8S_POD_NAME=coredns-1' }), config());
    expect(r.code).toBe(0);
    expect(r.json).toEqual(PREV_RESULT);
    expect(received).toEqual([]);
  });

  it('ADD asks the agent over its unix socket and echoes prevResult', async () => {
    const r = await runPluginBinary(env('ADD'), config());
    expect(r.code).toBe(0);
    expect(r.json).toEqual(PREV_RESULT);
    expect(received).toEqual([
      {
        url: '/cmdadd',
        method: 'POST',
        body: {
          Netns: netnsPath,
          PodName: 'web-0',
          PodNamespace: 'default',
          PodUID: '5f0c-uid',
          IPs: [{ Address: '10.244.1.7/24', Gateway: '10.244.1.1', Interface: 0 }],
        },
      },
    ]);
    expect(existsSync(join(runDir, 'plugin.log'))).toBe(true);
  });

  it('ADD sets cniVersion of the result to the config version', async () => {
    const r = await runPluginBinary(env('ADD'), config({ cniVersion: '1.1.0' }));
    expect(r.json).toEqual({ ...PREV_RESULT, cniVersion: '1.1.0' });
  });

  it('ADD fails with try-again-later when the agent answers 500', async () => {
    agentStatus = 500;
    agentBody = 'iptables-restore failed';
    const r = await runPluginBinary(env('ADD'), config());
    expect(r.code).not.toBe(0);
    expect(r.json).toMatchObject({ cniVersion: '1.0.0', code: 11, details: 'iptables-restore failed' });
    expect(r.json?.['msg']).toContain('status 500');
  });

  it('ADD fails with try-again-later when the agent socket is missing', async () => {
    const r = await runPluginBinary(env('ADD'), config({ cni_agent_run_dir: join(runDir, 'nowhere') }));
    expect(r.code).not.toBe(0);
    expect(r.json).toMatchObject({ code: 11 });
    expect(r.json?.['msg']).toContain('nowhere/pluginevent.sock');
  });

  it('ADD with ambient disabled passes through', async () => {
    const r = await runPluginBinary(env('ADD'), config({ ambient_enabled: false }));
    expect(r.json).toEqual(PREV_RESULT);
    expect(received).toEqual([]);
  });

  it('malformed stdin is a decode error (6)', async () => {
    const r = await runPluginBinary(env('ADD'), '{"cniVersion": ');
    expect(r.code).not.toBe(0);
    expect(r.json).toMatchObject({ code: 6 });
  });

  it('a config without name is an invalid network config (7)', async () => {
    const r = await runPluginBinary(env('ADD'), JSON.stringify({ cniVersion: '1.0.0', type: 'istio-cni' }));
    expect(r.json).toMatchObject({ code: 7 });
  });

  it('an unsupported cniVersion is incompatible (1)', async () => {
    const r = await runPluginBinary(env('ADD'), config({ cniVersion: '0.2.0' }));
    expect(r.json).toMatchObject({ code: 1 });
  });

  it('missing CNI_COMMAND or CNI_NETNS is an invalid environment (4)', async () => {
    const { CNI_COMMAND: _c, ...noCommand } = env('ADD');
    const a = await runPluginBinary(noCommand, config());
    expect(a.code).not.toBe(0);
    expect(a.json).toMatchObject({ code: 4 });
    const { CNI_NETNS: _n, ...noNetns } = env('ADD');
    const b = await runPluginBinary(noNetns, config());
    expect(b.json).toMatchObject({ code: 4 });
    expect(b.json?.['msg']).toContain('CNI_NETNS');
    expect(received).toEqual([]);
  });

  it('DEL and CHECK succeed without touching the agent', async () => {
    for (const command of ['DEL', 'CHECK']) {
      const r = await runPluginBinary(env(command), config());
      expect(r).toMatchObject({ code: 0, stdout: '' });
    }
    expect(received).toEqual([]);
  });

  it('GC and STATUS need spec 1.1.0', async () => {
    expect(await runPluginBinary(env('STATUS'), config({ cniVersion: '1.1.0' }))).toMatchObject({ code: 0 });
    expect((await runPluginBinary(env('GC'), config())).json).toMatchObject({ code: 1 });
  });
});
