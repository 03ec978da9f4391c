// meshctl local up/apply/exec/status/down through the BUNDLED CLI on a real 2-node netns cluster, with the
// real istiod, istio-cni and ztunnel when their bundles exist (the status output says which were skipped).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = path.join(REPO, 'packages/meshctl/dist/meshctl.mjs');
const CLUSTER = `mt${process.pid % 100000}`;
const isRoot = process.getuid?.() === 0;

function meshctl(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, '--cluster', CLUSTER, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function ok(...args: string[]): string {
  const r = meshctl(...args);
  if (r.code !== 0) throw new Error(`meshctl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

interface Status {
  up: boolean;
  nodes: Array<{ name: string }>;
  pods: Array<{ namespace: string; name: string; ip: string; node: string; running: boolean; redirection: string }>;
  services: Array<{ name: string; vip: string; endpoints: string[] }>;
  components: Array<{ name: string; node: string; pid: number; alive: boolean; ready: boolean }>;
  skipped: Array<{ name: string; reason: string }>;
}

const MANIFEST = `
apiVersion: v1
kind: Namespace
metadata: {name: e2e}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo, namespace: e2e}
spec:
  replicas: 2
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      containers: [{name: echo, image: mesh/echo, args: [--port, "8080"]}]
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: e2e}
spec:
  selector: {app: echo}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: e2e}
spec:
  containers: [{name: c, image: busybox, command: [sleep, infinity]}]
`;

describe.skipIf(!isRoot)('meshctl local (bundled CLI, real netns cluster)', () => {
  let dir: string;

  beforeAll(() => {
    execFileSync(process.execPath, [path.join(REPO, 'tools/bundle.mjs'), 'meshctl'], { stdio: 'inherit' });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshctl-e2e-'));
    fs.writeFileSync(path.join(dir, 'app.yaml'), MANIFEST);
  }, 60_000);

  afterAll(() => {
    meshctl('local', 'down');
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('comes up with 2 nodes; a second up is a no-op', () => {
    const first = JSON.parse(ok('local', 'up', '--nodes', '2', '-o', 'json')) as { nodes: unknown[]; components: Array<{ pid: number }> };
    expect(first.nodes).toHaveLength(2);
    const again = JSON.parse(ok('local', 'up', '-o', 'json')) as { components: Array<{ pid: number }> };
    expect(again.components.map((c) => c.pid)).toEqual(first.components.map((c) => c.pid));
    const s = JSON.parse(ok('local', 'status', '-o', 'json')) as Status;
    for (const c of s.components) expect(c, c.name).toMatchObject({ alive: true, ready: true });
  }, 60_000);

  it('applies a Deployment across nodes, a Service with a VIP and a client pod; apply again is unchanged', () => {
    expect(ok('local', 'apply', '-f', dir)).toContain('deployment/echo created');
    expect(ok('local', 'apply', '-f', path.join(dir, 'app.yaml'))).toContain('pod/client unchanged');
    const s = JSON.parse(ok('local', 'status', '-o', 'json')) as Status;
    const echo = s.pods.filter((p) => p.name.startsWith('echo-'));
    expect(echo).toHaveLength(2);
    expect(new Set(echo.map((p) => p.node)).size).toBe(2);
    expect(s.pods.every((p) => p.running)).toBe(true);
    expect(s.services.find((v) => v.name === 'echo')?.endpoints.sort()).toEqual(echo.map((p) => p.ip).sort());
  }, 60_000);

  it('reaches both echo pods through the Service from the client (exec passes stdout and exit codes)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 12 && seen.size < 2; i++) {
      const body = ok('local', 'exec', '-n', 'e2e', 'client', '--', 'curl', '-sS', '-m', '5', 'http://echo/');
      seen.add((JSON.parse(body) as { pod: string }).pod);
    }
    expect(seen.size).toBe(2);
    expect(meshctl('local', 'exec', '-n', 'e2e', 'client', '--', 'sh', '-c', 'exit 7').code).toBe(7);
  }, 60_000);

  it('enrolls running pods when the namespace is labelled (CNI agent + ztunnel), traffic still flows', async () => {
    const before = JSON.parse(ok('local', 'status', '-o', 'json')) as Status;
    if (before.components.filter((c) => c.name === 'cni-agent').length === 0) return; // no CNI bundle: reported by status
    ok('local', 'label', 'ns', 'e2e', 'istio.io/dataplane-mode=ambient');
    let pods: Status['pods'] = [];
    for (let i = 0; i < 40; i++) {
      pods = (JSON.parse(ok('local', 'status', '-o', 'json')) as Status).pods.filter((p) => p.namespace === 'e2e');
      if (pods.every((p) => p.redirection === 'enabled')) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(pods.map((p) => p.redirection)).toEqual(pods.map(() => 'enabled'));
    const body = ok('local', 'exec', '-n', 'e2e', 'client', '--', 'curl', '-sS', '-m', '5', 'http://echo/');
    expect((JSON.parse(body) as { status: number }).status).toBe(200);
  }, 60_000);

  it('fails closed: with the CNI agent of a node down, a pod there does not start (no silent mesh bypass)', async () => {
    const before = JSON.parse(ok('local', 'status', '-o', 'json')) as Status;
    const agent = before.components.find((c) => c.name === 'cni-agent');
    if (!agent) return; // no CNI bundle: reported by status
    process.kill(agent.pid, 'SIGKILL');
    for (let i = 0; i < 40 && (JSON.parse(ok('local', 'status', '-o', 'json')) as Status).components.some((c) => c.pid === agent.pid && c.alive); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const pod = `apiVersion: v1\nkind: Pod\nmetadata: {name: nomesh, namespace: e2e}\nspec: {nodeName: ${agent.node}, containers: [{name: c, image: mesh/echo}]}\n`;
    fs.writeFileSync(path.join(dir, 'nomesh.yaml'), pod);
    try {
      const r = meshctl('local', 'apply', '-f', path.join(dir, 'nomesh.yaml'));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/CNI ADD for pod e2e\/nomesh failed/);
      const s = JSON.parse(ok('local', 'status', '-o', 'json')) as Status;
      expect(s.pods.filter((p) => p.name === 'nomesh')).toEqual([]);
    } finally {
      fs.rmSync(path.join(dir, 'nomesh.yaml'));
    }
  }, 90_000);

  it('rejects an invalid manifest naming file, resource and field', () => {
    fs.writeFileSync(path.join(dir, 'bad.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: e2e}\nspec: {ports: [{port: 0}]}\n');
    const r = meshctl('local', 'apply', '-f', path.join(dir, 'bad.yaml'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.yaml#0: Service e2e\/s: spec\.ports\[0\]\.port/);
    fs.rmSync(path.join(dir, 'bad.yaml'));
  });

  it('deletes the Deployment (its pods go) and down removes everything', () => {
    expect(ok('local', 'delete', '-f', dir)).toContain('deployment/echo deleted');
    const s = JSON.parse(ok('local', 'status', '-o', 'json')) as Status;
    expect(s.pods.filter((p) => p.namespace === 'e2e')).toEqual([]);
    ok('local', 'down');
    const after = JSON.parse(ok('local', 'status', '-o', 'json')) as Status;
    expect(after.up).toBe(false);
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(`mesh-${CLUSTER}-`);
    expect(fs.existsSync(`/run/mesh-local/${CLUSTER}`)).toBe(false);
  }, 60_000);
});
