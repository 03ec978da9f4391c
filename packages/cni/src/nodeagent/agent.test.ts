import { execFile } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { createLogger } from '@mesh/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canUseKernel, createNetns, deleteNetns, normalizedSave, sh } from '../iptables/netns.test-helper';
import { postAddEvent } from '../plugin/agent-client';
import { FakeZtunnel } from '../zds/fake-ztunnel.test-helper';
import { NodeAgent } from './agent';
import { agentConfig } from './config';
import { CNI_ADD_TIMING_CHANNEL, type CniAddTiming } from './dataplane';

const PKG_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const REPO_ROOT = join(PKG_DIR, '..', '..');
const logger = createLogger({ component: 'cni-agent-test', level: process.env['MESH_TEST_LOG'] === '1' ? 'debug' : 'silent' });

function nsYaml(name: string, ambient: boolean): string {
  const labels = ambient ? `\n  labels:\n    istio.io/dataplane-mode: ambient` : '';
  return `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}${labels}\n`;
}

function podYaml(name: string, ns: string, uid: string, netns: string, ip: string): string {
  return [
    'apiVersion: v1',
    'kind: Pod',
    'metadata:',
    `  name: ${name}`,
    `  namespace: ${ns}`,
    `  uid: ${uid}`,
    '  annotations:',
    `    mesh.local/netns: ${netns}`,
    'spec:',
    '  nodeName: node-1',
    `  serviceAccountName: ${name}-sa`,
    '  containers:',
    '    - name: app',
    '      image: echo',
    'status:',
    '  phase: Running',
    `  podIP: ${ip}`,
    '',
  ].join('\n');
}

async function until(what: string, fn: () => boolean, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.skipIf(!canUseKernel())('CNI node agent (real netns, fake ztunnel)', () => {
  let dir = '';
  let manifests = '';
  let runDir = '';
  let zdsPath = '';
  const netns: Record<string, string> = {};
  const pristine: Record<string, string> = {};
  let agent: NodeAgent | undefined;
  const ztunnels: FakeZtunnel[] = [];

  const nsPath = (pod: string): string => `/var/run/netns/${netns[pod]}`;
  const inodeOf = (pod: string): number => statSync(nsPath(pod)).ino;
  const podFile = (pod: string): string => join(manifests, `pod-${pod}.yaml`);
  const annotation = (pod: string): unknown =>
    (parse(readFileSync(podFile(pod), 'utf8')) as { metadata: { annotations?: Record<string, string> } }).metadata.annotations?.[
      'ambient.istio.io/redirection'
    ];
  // Rules, non-builtin chains and policy routing; empty builtin tables that iptables-save may list
  // after a removal (the kernel keeps them once loaded) are not state we own.
  const rules = (pod: string): string =>
    [
      ...[normalizedSave(netns[pod]!, 'v4'), normalizedSave(netns[pod]!, 'v6')].flatMap((t) =>
        t.split('\n').filter((l) => l.startsWith('-') || /^:ISTIO/.test(l)),
      ),
      sh(netns[pod]!, ['ip', 'rule', 'show']),
      sh(netns[pod]!, ['ip', 'route', 'show', 'table', 'all']),
    ].join('\n');

  async function startAgent(): Promise<NodeAgent> {
    const config = agentConfig.parse({
      NODE_NAME: 'node-1',
      ZTUNNEL_UDS_ADDRESS: zdsPath,
      CNI_AGENT_RUN_DIR: runDir,
      POD_SOURCE_DIR: manifests,
      NETNS_RESOLVER: 'annotation',
      AMBIENT_HOST_PROBE_ENABLED: 'false',
      ZDS_ACK_TIMEOUT: '1s',
      CNI_POD_WAIT: '1s',
      READINESS_PORT: '0',
    });
    agent = await NodeAgent.start({ config, logger, retry: { initialBackoffMs: 50, maxBackoffMs: 200, maxAttempts: 40 } });
    return agent;
  }
  async function connectZtunnel(): Promise<FakeZtunnel> {
    const z = FakeZtunnel.connect(zdsPath);
    ztunnels.push(z);
    await z.waitForSnapshot();
    return z;
  }
  const addEvent = (pod: string, ns: string, ip: string) => ({
    Netns: nsPath(pod),
    PodName: pod,
    PodNamespace: ns,
    PodUID: '',
    IPs: [{ Address: `${ip}/24` }],
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mesh-cni-agent-'));
    manifests = join(dir, 'manifests');
    runDir = join(dir, 'run');
    zdsPath = join(dir, 'ztunnel.sock');
    mkdirSync(manifests);
    for (const pod of ['web-a', 'web-b', 'web-c']) {
      netns[pod] = createNetns(pod);
      // Listing a table loads it, so "pristine" shows the same empty tables the removal leaves.
      pristine[pod] = rules(pod);
    }
    writeFileSync(join(manifests, 'ns-amb.yaml'), nsYaml('amb', true));
    writeFileSync(join(manifests, 'ns-plain.yaml'), nsYaml('plain', false));
    writeFileSync(podFile('web-a'), podYaml('web-a', 'amb', 'uid-a', nsPath('web-a'), '10.9.0.1'));
    writeFileSync(podFile('web-b'), podYaml('web-b', 'plain', 'uid-b', nsPath('web-b'), '10.9.0.2'));
    writeFileSync(podFile('web-c'), podYaml('web-c', 'amb', 'uid-c', nsPath('web-c'), '10.9.0.3'));
    // Pods already "running" before the agent: enrolled only through /cmdadd in these tests, so
    // mark them as not running yet for the informer path.
    for (const pod of ['web-a', 'web-c']) writeFileSync(podFile(pod), readFileSync(podFile(pod), 'utf8').replace('phase: Running', 'phase: Pending'));
    await startAgent();
  });

  afterAll(async () => {
    for (const z of ztunnels) z.close();
    await agent?.stop().catch(() => undefined);
    for (const name of Object.values(netns)) deleteNetns(name);
    rmSync(dir, { recursive: true, force: true });
  });

  it('enrolls a pod of an ambient namespace on /cmdadd: rules, ZDS Add with its netns fd, annotation', async () => {
    const z = await connectZtunnel();
    const res = await postAddEvent(join(runDir, 'pluginevent.sock'), addEvent('web-a', 'amb', '10.9.0.1'));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ enrolled: true });
    expect(rules('web-a')).toContain('-A ISTIO_PRERT');
    const add = z.received.find((r) => r.kind === 'add' && r.uid === 'uid-a');
    expect(add?.fdCount).toBe(1);
    expect(add?.inode).toBe(inodeOf('web-a'));
    const p = add?.req.payload;
    expect(p?.case === 'add' && p.value.workloadInfo).toMatchObject({ name: 'web-a', namespace: 'amb', serviceAccount: 'web-a-sa' });
    expect(annotation('web-a')).toBe('enabled');
  });

  it('publishes where an enrollment spent its time on CNI_ADD_TIMING_CHANNEL', async () => {
    // Re-adds web-a (idempotent) through the ztunnel an earlier test connected, if any: another
    // connection would become the newest and take the later tests' Adds.
    if (ztunnels.every((z) => z.closed)) await connectZtunnel();
    const seen: CniAddTiming[] = [];
    const onTiming = (t: unknown): void => void seen.push(t as CniAddTiming);
    subscribe(CNI_ADD_TIMING_CHANNEL, onTiming);
    try {
      expect((await postAddEvent(join(runDir, 'pluginevent.sock'), addEvent('web-a', 'amb', '10.9.0.1'))).status).toBe(200);
    } finally {
      unsubscribe(CNI_ADD_TIMING_CHANNEL, onTiming);
    }
    const mine = seen.find((t) => t.pod === 'amb/web-a');
    const steps = Object.keys(mine?.stepsMs ?? {});
    expect(steps).toEqual(expect.arrayContaining(['openNetns', 'rules', 'ztunnelAck', 'annotate']));
    expect(steps.some((s) => s.startsWith('rules.'))).toBe(true);
    expect(mine?.totalMs).toBeGreaterThan(0);
  });

  it('answers enrolled=false for a pod outside the mesh, touching nothing', async () => {
    const res = await postAddEvent(join(runDir, 'pluginevent.sock'), addEvent('web-b', 'plain', '10.9.0.2'));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ enrolled: false });
    expect(rules('web-b')).toBe(pristine['web-b']);
  });

  it('a ztunnel NACK fails ADD with 500 and annotates the pod pending; the retry then enrolls it', async () => {
    const z = ztunnels[0]!;
    z.answer = (r) => (r.kind === 'add' && r.uid === 'uid-c' ? 'cannot create listeners' : '');
    const res = await postAddEvent(join(runDir, 'pluginevent.sock'), addEvent('web-c', 'amb', '10.9.0.3'));
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'CNI_POD_ZTUNNEL' });
    expect(annotation('web-c')).toBe('pending');
    expect(rules('web-c')).toContain('-A ISTIO_OUTPUT');
    z.answer = () => '';
    await until('web-c enabled by the retry', () => annotation('web-c') === 'enabled');
  });

  it('enrolls a running pod when its namespace gains the ambient label', async () => {
    const z = ztunnels[0]!;
    writeFileSync(join(manifests, 'ns-plain.yaml'), nsYaml('plain', true));
    await z.waitFor((all) => all.some((r) => r.kind === 'add' && r.uid === 'uid-b'));
    expect(z.received.find((r) => r.uid === 'uid-b')?.inode).toBe(inodeOf('web-b'));
    expect(rules('web-b')).toContain('-A ISTIO_PRERT');
    await until('web-b annotated', () => annotation('web-b') === 'enabled');
  });

  it('un-enrolls it when the label goes: rules exactly as before, ZDS Del, annotation removed', async () => {
    const z = ztunnels[0]!;
    writeFileSync(join(manifests, 'ns-plain.yaml'), nsYaml('plain', false));
    await z.waitFor((all) => all.some((r) => r.kind === 'del' && r.uid === 'uid-b'));
    await until('web-b unannotated', () => annotation('web-b') === undefined);
    expect(rules('web-b')).toBe(pristine['web-b']);
  });

  it('sends ZDS Del when a pod is deleted', async () => {
    const z = ztunnels[0]!;
    rmSync(podFile('web-c'));
    await z.waitFor((all) => all.some((r) => r.kind === 'del' && r.uid === 'uid-c'));
  });

  it('closes a ztunnel connection that sends garbage and stays alive', async () => {
    const bad = FakeZtunnel.connect(zdsPath, false);
    ztunnels.push(bad);
    bad.socket.send(Buffer.from('not a protobuf at all'));
    await bad.waitClosed();
    const z = await connectZtunnel();
    expect(z.received.map((r) => `${r.kind}:${r.uid}`)).toEqual(['add:uid-a', 'snapshotSent:']);
  });

  it('after a restart, sends enrolled pods in the snapshot and keeps rules without duplicates', async () => {
    const before = rules('web-a');
    await agent!.stop();
    for (const z of ztunnels.splice(0)) z.close();
    await startAgent();
    const z = await connectZtunnel();
    expect(z.received.map((r) => `${r.kind}:${r.uid}:${r.fdCount}`)).toEqual(['add:uid-a:1', 'snapshotSent::0']);
    expect(z.received[0]?.inode).toBe(inodeOf('web-a'));
    expect(rules('web-a')).toBe(before);
  });

  it('the bundled plugin succeeds against the live agent and fails once it is down', async () => {
    await promisify(execFile)(process.execPath, [join(REPO_ROOT, 'tools', 'bundle.mjs'), 'cni'], { cwd: REPO_ROOT });
    const conf = JSON.stringify({
      cniVersion: '1.0.0',
      name: 'net',
      type: 'istio-cni',
      ambient_enabled: true,
      cni_agent_run_dir: runDir,
      prevResult: { cniVersion: '1.0.0', ips: [{ address: '10.9.0.1/24' }] },
    });
    const env = {
      PATH: process.env['PATH'] ?? '',
      CNI_COMMAND: 'ADD',
      CNI_CONTAINERID: 'c1',
      CNI_NETNS: nsPath('web-a'),
      CNI_IFNAME: 'eth0',
      CNI_PATH: '/opt/cni/bin',
      CNI_ARGS: 'K8S_POD_NAMESPACE=amb;K8S_POD_NAME=web-a;K8S_POD_UID=uid-a',
    };
    const run = () => runPlugin(join(PKG_DIR, 'dist', 'istio-cni.mjs'), env, conf);
    const ok = await run();
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ips: [{ address: '10.9.0.1/24' }] });
    await agent!.stop();
    const down = await run();
    expect(down.code).toBe(1);
  }, 60_000);
});

function runPlugin(bundle: string, env: Record<string, string>, stdin: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [bundle], { env }, (err, stdout) => {
      if (err && typeof err.code !== 'number') reject(err);
      else resolve({ code: err ? (err.code as number) : 0, stdout });
    });
    child.stdin?.end(stdin);
  });
}
