import { parseManifests, unpackWaypointConfig, waypoint, WAYPOINT_CONFIG_TYPE_URL } from '@mesh/api';
import { describe, expect, it } from 'vitest';
import { ConfigStore } from '../config/store';
import { AmbientIndex } from './ambient-index';
import { WaypointConfigs } from './waypoint-configs';

const BASE = `
apiVersion: v1
kind: Namespace
metadata: { name: app, labels: { istio.io/dataplane-mode: ambient } }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: waypoint, namespace: app, labels: { istio.io/waypoint-for: service } }
spec:
  gatewayClassName: istio-waypoint
  listeners: [{ name: mesh, port: 15008, protocol: HBONE }]
---
apiVersion: v1
kind: Service
metadata: { name: echo, namespace: app, labels: { istio.io/use-waypoint: waypoint } }
spec:
  clusterIP: 10.96.0.20
  selector: { app: echo }
  ports: [{ name: http, port: 80, targetPort: 8080 }]
`;

function vs(prefix: string): string {
  return `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: echo-routes, namespace: app }
spec:
  hosts: [echo]
  http:
  - match: [{ uri: { prefix: ${prefix} } }]
    route: [{ destination: { host: echo } }]
`;
}

function upsertAll(store: ConfigStore, yaml: string): void {
  const parsed = parseManifests(yaml);
  expect(parsed.errors).toEqual([]);
  store.applyAll(parsed.objects.map((object) => ({ op: 'upsert' as const, object })));
}

function setup(mesh: ConstructorParameters<typeof AmbientIndex>[0] = {}): { store: ConfigStore; index: AmbientIndex; waypoints: WaypointConfigs; pushes: string[][] } {
  const store = new ConfigStore();
  const index = new AmbientIndex(mesh);
  index.attach(store);
  const waypoints = new WaypointConfigs(index, { debounceMs: 5 });
  waypoints.attach(store);
  const pushes: string[][] = [];
  index.onChange((typeUrl, changed) => {
    if (typeUrl === WAYPOINT_CONFIG_TYPE_URL && changed.length > 0) pushes.push([...changed]);
  });
  return { store, index, waypoints, pushes };
}

function config(index: AmbientIndex, name: string) {
  const r = index.snapshot(WAYPOINT_CONFIG_TYPE_URL)?.get(name);
  return r ? { version: r.version, config: unpackWaypointConfig(r.any) } : undefined;
}

describe('WaypointConfigs', () => {
  it('carries the mesh h2UpgradePolicy into every waypoint config', () => {
    const { store, index, waypoints } = setup({ h2UpgradePolicy: 'UPGRADE' });
    upsertAll(store, BASE);
    waypoints.recompile();
    expect(config(index, 'app/waypoint')?.config.meshH2UpgradePolicy).toBe(waypoint.H2UpgradePolicy.UPGRADE);
  });

  it('compiles a Gateway + bound Service + VirtualService into the waypoint resource, and an update pushes a new version', async () => {
    const { store, index, waypoints, pushes } = setup();
    upsertAll(store, BASE + '---' + vs('/v1'));
    waypoints.recompile();
    const first = config(index, 'app/waypoint');
    expect(first?.config.name).toBe('waypoint');
    expect(first?.config.services.map((s) => [s.hostname, s.vips, s.ports.map((p) => [p.port, p.targetPort, p.protocol])])).toEqual([
      ['echo.app.svc.cluster.local', ['10.96.0.20'], [[80, 8080, 'HTTP']]],
    ]);
    const routes = first?.config.services[0]?.routes ?? [];
    expect(routes.length).toBe(1);
    expect(JSON.stringify(routes[0]?.matches)).toContain('/v1');

    pushes.length = 0;
    upsertAll(store, vs('/v2'));
    await new Promise((r) => setTimeout(r, 50)); // the debounced recompile
    const second = config(index, 'app/waypoint');
    expect(second?.version).not.toBe(first?.version);
    expect(JSON.stringify(second?.config.services[0]?.routes[0]?.matches)).toContain('/v2');
    expect(pushes).toEqual([['app/waypoint']]);
  });

  it('pushes nothing when recompiling without a change, and removes the config with the Gateway', () => {
    const { store, index, waypoints, pushes } = setup();
    upsertAll(store, BASE);
    waypoints.recompile();
    expect(pushes.length).toBe(1);
    expect(waypoints.recompile().changed).toEqual([]);
    expect(pushes.length).toBe(1);
    store.apply({ op: 'delete', kind: 'gateway.networking.k8s.io/Gateway', namespace: 'app', name: 'waypoint' });
    expect(waypoints.recompile().removed).toEqual(['app/waypoint']);
    expect(config(index, 'app/waypoint')).toBeUndefined();
  });

  it('a service that stops using the waypoint leaves its config', () => {
    const { store, index, waypoints } = setup();
    upsertAll(store, BASE);
    waypoints.recompile();
    expect(config(index, 'app/waypoint')?.config.services.length).toBe(1);
    upsertAll(store, BASE.replace('labels: { istio.io/use-waypoint: waypoint }', 'labels: {}'));
    waypoints.recompile();
    expect(config(index, 'app/waypoint')?.config.services.length).toBe(0);
  });

  it('exposes compiler warnings per waypoint', () => {
    const { store, waypoints } = setup();
    upsertAll(store, BASE + '---' + vs('/v1').replace('{ uri: { prefix: /v1 } }', '{ uri: { prefix: /v1 }, sourceLabels: { app: client } }'));
    waypoints.recompile();
    const w = waypoints.warnings()['app/waypoint'] ?? [];
    expect(w.length).toBeGreaterThan(0);
    expect(w[0]?.resource).toBe('VirtualService app/echo-routes');
  });
});
