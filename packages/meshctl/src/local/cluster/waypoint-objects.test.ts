import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseManifests } from '@mesh/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { COMMANDS, runCli, type CliIo } from '../../cli';
import { ConfigDir, type KubeObjectLike } from './config-dir';
import { applyWaypointObjects, deleteWaypointObjects, listWaypointObjects } from './waypoint-objects';

let dir: string;
let config: ConfigDir;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshctl-wp-'));
  config = new ConfigDir(dir);
  config.write({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo', labels: { 'istio.io/dataplane-mode': 'ambient' } } });
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function gatewayFile(ns: string, name: string): string {
  const file = fs.readdirSync(dir).find((f) => f.startsWith(`${ns}__`) && f.includes('__Gateway__') && f.endsWith(`__${name}.yaml`));
  expect(file).toBeDefined();
  return fs.readFileSync(path.join(dir, file!), 'utf8');
}

describe('waypoint objects', () => {
  it('apply writes the istioctl waypoint Gateway, valid for istiod', () => {
    expect(applyWaypointObjects(config, { namespace: 'demo' })).toEqual({ gateway: 'demo/waypoint', action: 'created' });
    const parsed = parseManifests(gatewayFile('demo', 'waypoint'));
    expect(parsed.errors).toEqual([]);
    expect(parsed.objects).toEqual([
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'Gateway',
        metadata: { name: 'waypoint', namespace: 'demo', labels: { 'istio.io/waypoint-for': 'service' } },
        spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
      },
    ]);
    expect(applyWaypointObjects(config, { namespace: 'demo' }).action).toBe('unchanged');
  });

  it('apply --for and --enroll-namespace set the waypoint-for label and the namespace use-waypoint label', () => {
    const r = applyWaypointObjects(config, { namespace: 'demo', name: 'wp2', for: 'all', enrollNamespace: true });
    expect(r).toEqual({ gateway: 'demo/wp2', action: 'created', enrolledNamespace: 'demo' });
    expect(gatewayFile('demo', 'wp2')).toContain('istio.io/waypoint-for: all');
    const ns = config.read<KubeObjectLike>({ apiVersion: 'v1', kind: 'Namespace', name: 'demo' });
    expect(ns?.metadata['labels']).toEqual({ 'istio.io/dataplane-mode': 'ambient', 'istio.io/use-waypoint': 'wp2' });
  });

  it('apply into a missing namespace fails and writes nothing', () => {
    expect(() => applyWaypointObjects(config, { namespace: 'nope' })).toThrow(/namespace "nope" not found/);
    expect(listWaypointObjects(config)).toEqual([]);
  });

  it('list shows only istio-waypoint Gateways; delete removes them', () => {
    applyWaypointObjects(config, { namespace: 'demo' });
    applyWaypointObjects(config, { namespace: 'demo', name: 'wl', for: 'workload' });
    config.write({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'ingress', namespace: 'demo' }, spec: { gatewayClassName: 'istio', listeners: [] } });
    expect(listWaypointObjects(config, 'demo')).toEqual([
      { namespace: 'demo', name: 'waypoint', for: 'service' },
      { namespace: 'demo', name: 'wl', for: 'workload' },
    ]);
    expect(listWaypointObjects(config, 'other')).toEqual([]);
    expect(deleteWaypointObjects(config, 'demo', ['waypoint', 'ingress'])).toEqual([
      { gateway: 'demo/waypoint', action: 'deleted' },
      { gateway: 'demo/ingress', action: 'not found' },
    ]);
    expect(listWaypointObjects(config).map((w) => w.name)).toEqual(['wl']);
    expect(fs.readdirSync(dir).some((f) => f.endsWith('__ingress.yaml'))).toBe(true);
  });
});

describe('meshctl waypoint CLI', () => {
  function io(): CliIo & { out: string; err: string } {
    const o = { out: '', err: '', readStdin: () => '', cwd: process.cwd() } as CliIo & { out: string; err: string };
    o.stdout = (t) => (o.out += t);
    o.stderr = (t) => (o.err += t);
    return o;
  }

  it('validates --for and requires names for delete', async () => {
    let x = io();
    expect(await runCli(COMMANDS, ['waypoint', 'apply', '-n', 'demo', '--for', 'pods'], x)).toBe(2);
    expect(x.err).toContain('must be one of service, workload, all, none');
    x = io();
    expect(await runCli(COMMANDS, ['waypoint', 'delete', '-n', 'demo'], x)).toBe(2);
  });

  it('needs an up cluster', async () => {
    const x = io();
    expect(await runCli(COMMANDS, ['waypoint', 'list', '-A', '--cluster', `wp-none-${process.pid}`], x)).not.toBe(0);
    expect(x.err).toContain('is not up');
  });
});
