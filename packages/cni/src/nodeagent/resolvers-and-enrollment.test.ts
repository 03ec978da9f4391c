import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Namespace, Pod } from '@mesh/api';
import { afterAll, describe, expect, it } from 'vitest';
import { syntheticUid } from './directory-pod-source';
import { ambientEnabled } from './enrollment';
import { ProcCgroupNetnsResolver } from './netns-resolver';

const pod = (labels: Record<string, string> = {}, extra: Partial<Pod['metadata']> = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'app', uid: '1a2b-3c4d', labels, ...extra },
  spec: { containers: [{ name: 'c' }] },
});
const ns = (labels: Record<string, string> = {}): Namespace => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'app', labels } });
const AMBIENT = { 'istio.io/dataplane-mode': 'ambient' };

describe('ambientEnabled', () => {
  it('follows the namespace label, with pod label ambient/none taking precedence', () => {
    expect(ambientEnabled(pod(), ns(AMBIENT), [])).toBe(true);
    expect(ambientEnabled(pod(), ns(), [])).toBe(false);
    expect(ambientEnabled(pod(AMBIENT), ns(), [])).toBe(true);
    expect(ambientEnabled(pod({ 'istio.io/dataplane-mode': 'none' }), ns(AMBIENT), [])).toBe(false);
  });

  it('never enrolls excluded namespaces or sidecar-injected pods', () => {
    expect(ambientEnabled(pod(AMBIENT), ns(AMBIENT), ['app'])).toBe(false);
    expect(ambientEnabled(pod({}, { annotations: { 'sidecar.istio.io/status': '{}' } }), ns(AMBIENT), [])).toBe(false);
  });
});

describe('ProcCgroupNetnsResolver', () => {
  const root = mkdtempSync(join(tmpdir(), 'mesh-proc-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const proc = (pid: string, cgroup: string): void => {
    mkdirSync(join(root, pid, 'ns'), { recursive: true });
    writeFileSync(join(root, pid, 'cgroup'), cgroup);
    writeFileSync(join(root, pid, 'ns', 'net'), pid);
  };

  it('finds the process whose cgroup names the pod uid (systemd underscores too), skipping the host netns', async () => {
    mkdirSync(join(root, 'self', 'ns'), { recursive: true });
    writeFileSync(join(root, 'self', 'ns', 'net'), 'host');
    proc('10', '0::/kubepods/besteffort/podffff/abc\n');
    proc('20', '0::/kubepods.slice/kubepods-pod1a2b_3c4d.slice/cri-containerd-x.scope\n');
    const r = new ProcCgroupNetnsResolver(root);
    expect(await r.resolve(pod())).toBe(join(root, '20', 'ns', 'net'));
    expect(await r.resolve(pod({}, { uid: 'nope' }))).toBeUndefined();
  });
});

describe('syntheticUid', () => {
  it('is stable and UUID-shaped', () => {
    expect(syntheticUid('a', 'b')).toBe(syntheticUid('a', 'b'));
    expect(syntheticUid('a', 'b')).not.toBe(syntheticUid('a', 'c'));
    expect(syntheticUid('a', 'b')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });
});
