import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadManifests, readManifestArgs } from './manifests';
import { ConfigDir } from './config-dir';
import { containerCommand, deploymentPods, ownedByDeployment, runningPod, scheduleNode, templateHash } from './workloads';
import type { Deployment, Pod } from '@mesh/api';

const POD = `apiVersion: v1
kind: Pod
metadata: {name: p, namespace: ns}
spec: {containers: [{name: c, image: mesh/echo:1.0, args: [--port, "9090"]}]}
`;

describe('manifests', () => {
  it('names file#doc, resource and field path on a schema error', () => {
    expect(() =>
      loadManifests([{ name: 'bad.yaml', text: `${POD}---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 99999}]}\n` }]),
    ).toThrow(/bad\.yaml#1: Service s: spec\.ports\[0\]\.port: /);
  });

  it('rejects unsupported kinds and YAML syntax errors', () => {
    expect(() => loadManifests([{ name: 'x.yaml', text: 'apiVersion: v1\nkind: Frobnicator\nmetadata: {name: a}\n' }])).toThrow(/unsupported kind Frobnicator/);
    expect(() => loadManifests([{ name: 'y.yaml', text: 'a: [1,\n' }])).toThrow(/y\.yaml#0/);
  });

  it('reads a directory of manifests in name order', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshctl-m-'));
    try {
      fs.writeFileSync(path.join(dir, 'b.yaml'), POD);
      fs.writeFileSync(path.join(dir, 'a.yml'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: ns}\n');
      fs.writeFileSync(path.join(dir, 'notes.txt'), 'ignored');
      expect(readManifestArgs([dir], () => '').map((o) => o.kind)).toEqual(['Namespace', 'Pod']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('workloads', () => {
  const pod = loadManifests([{ name: 'p', text: POD }])[0] as Pod;
  const nodes = [
    { name: 'a', ip: '172.18.0.2' },
    { name: 'b', ip: '172.18.0.3' },
  ];

  it('maps the echo image to the bundle and keeps args; other images need a command', () => {
    expect(containerCommand(pod, '/x/echo.mjs').argv).toEqual([process.execPath, '/x/echo.mjs', '--port', '9090']);
    const sleeper = { ...pod, spec: { containers: [{ name: 'c', image: 'busybox', command: ['sleep', 'infinity'] }] } } as Pod;
    expect(containerCommand(sleeper, '/x').argv).toEqual(['sleep', 'infinity']);
    const bare = { ...pod, spec: { containers: [{ name: 'c', image: 'busybox' }] } } as Pod;
    expect(() => containerCommand(bare, '/x')).toThrow(/set spec\.containers\[0\]\.command/);
  });

  it('schedules by nodeName, hostname nodeSelector, else the emptiest node', () => {
    expect(scheduleNode({ ...pod, spec: { ...pod.spec, nodeName: 'b' } }, nodes, new Map()).name).toBe('b');
    expect(scheduleNode({ ...pod, spec: { ...pod.spec, nodeSelector: { 'kubernetes.io/hostname': 'b' } } }, nodes, new Map()).name).toBe('b');
    expect(scheduleNode(pod, nodes, new Map([['a', 2], ['b', 1]])).name).toBe('b');
    expect(() => scheduleNode({ ...pod, spec: { ...pod.spec, nodeName: 'zz' } }, nodes, new Map())).toThrow(/nodes are a, b/);
  });

  it('materializes a running pod as the API server would hold it', () => {
    const r = runningPod(pod, { node: nodes[1]!, ip: '10.244.1.2', netns: 'mesh-x-p-1' });
    expect(r.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.spec).toMatchObject({ nodeName: 'b', serviceAccountName: 'default' });
    expect(r.status).toMatchObject({ phase: 'Running', podIP: '10.244.1.2', podIPs: [{ ip: '10.244.1.2' }], hostIP: '172.18.0.3' });
    expect(r.status?.conditions).toContainEqual({ type: 'Ready', status: 'True' });
    expect(r.metadata.annotations?.['mesh.local/netns']).toBe('mesh-x-p-1');
  });

  it('expands a Deployment into ReplicaSet-owned pods with kube naming', () => {
    const d = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'echo', namespace: 'demo' },
      spec: { replicas: 2, selector: { matchLabels: { app: 'echo' } }, template: { metadata: { labels: { app: 'echo' } }, spec: pod.spec } },
    } as Deployment;
    const pods = deploymentPods(d, 2);
    const hash = templateHash(d);
    expect(pods).toHaveLength(2);
    for (const p of pods) {
      expect(p.metadata.name).toMatch(new RegExp(`^echo-${hash}-[a-z0-9]{5}$`));
      expect(p.metadata.labels).toEqual({ app: 'echo', 'pod-template-hash': hash });
      expect(p.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'ReplicaSet', name: `echo-${hash}`, controller: true });
      expect(ownedByDeployment(p, 'echo')).toBe(true);
      expect(ownedByDeployment(p, 'ech')).toBe(false);
    }
    expect(pods[0]!.metadata.name).not.toBe(pods[1]!.metadata.name);
  });
});

describe('ConfigDir', () => {
  it('files one object per file, keeps the CNI agent annotation on rewrite, lists and deletes', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshctl-c-'));
    try {
      const c = new ConfigDir(dir);
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', annotations: { a: '1' } }, spec: {} };
      const file = c.write(pod);
      expect(path.basename(file)).toBe('ns__core__Pod__p.yaml');
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('a: "1"', 'a: "1"\n    ambient.istio.io/redirection: enabled'));
      c.write({ ...pod, metadata: { ...pod.metadata, labels: { x: 'y' } } });
      expect(c.read({ apiVersion: 'v1', kind: 'Pod', namespace: 'ns', name: 'p' })?.metadata.annotations).toEqual({
        a: '1',
        'ambient.istio.io/redirection': 'enabled',
      });
      c.write({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } });
      expect(c.list('Pod').map((o) => o.metadata.name)).toEqual(['p']);
      expect(c.list('Namespace')).toHaveLength(1);
      expect(c.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'ns', name: 'p' })).toBe(true);
      expect(c.list('Pod')).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
