import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifests, toJson, workload, type MeshResource } from '@mesh/api';
import { describe, expect, it } from 'vitest';
import { ConfigStore } from '../config/store';
import { DirectorySource } from '../config/directory-source';
import { captureLogger } from '../testing/log-capture';
import type { AnyConfigEvent } from '../config/types';
import { AmbientIndex } from './ambient-index';

const MESH_YAML = new URL('./testdata/mesh.yaml', import.meta.url);

function addEvent(o: MeshResource): AnyConfigEvent {
  const kind = o.apiVersion.includes('/') ? `${o.apiVersion.split('/')[0]}/${o.kind}` : o.kind;
  return { type: 'add', kind, namespace: o.metadata.namespace ?? '', name: o.metadata.name, object: o } as AnyConfigEvent;
}

async function meshIndex(): Promise<AmbientIndex> {
  const parsed = parseManifests(await readFile(MESH_YAML, 'utf8'));
  expect(parsed.errors).toEqual([]);
  const index = new AmbientIndex();
  index.batch(parsed.objects.map(addEvent));
  return index;
}

function addressJson(index: AmbientIndex, name: string): unknown {
  const a = index.addresses().get(name);
  return a ? toJson(workload.AddressSchema, a) : undefined;
}

describe('AmbientIndex', () => {
  it('publishes a store batch (a directory rescan) once, at its end', () => {
    const store = new ConfigStore({ logger: captureLogger().logger });
    const index = new AmbientIndex();
    index.attach(store);
    const published: number[] = [];
    index.onChange((_type, changed) => published.push(changed.length));
    const pods = Array.from({ length: 5 }, (_, i) => ({
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: `p${i}`, namespace: 'ns1', labels: { app: 'a' } },
      spec: { nodeName: 'n1', containers: [{ name: 'c' }] },
      status: { phase: 'Running', podIP: `10.0.0.${i + 1}`, conditions: [{ type: 'Ready', status: 'True' }] },
    }));
    store.applyAll(pods.map((object) => ({ op: 'upsert' as const, object })));
    expect(published).toEqual([5]);
  });

  it('converts a pod into the Workload Istio would send', async () => {
    const index = await meshIndex();
    expect(addressJson(index, 'Kubernetes//Pod/app/web-7d9f-abcde')).toEqual({
      workload: {
        uid: 'Kubernetes//Pod/app/web-7d9f-abcde',
        name: 'web-7d9f-abcde',
        namespace: 'app',
        addresses: ['CgEABQ=='],
        tunnelProtocol: 'HBONE',
        serviceAccount: 'web-sa',
        waypoint: { hostname: { namespace: 'app', hostname: 'wp.app.svc.cluster.local' }, hboneMtlsPort: 15008 },
        node: 'node1',
        canonicalName: 'web',
        canonicalRevision: 'v2',
        workloadName: 'web',
        workloadType: 'POD',
        services: { 'app/web.app.svc.cluster.local': { ports: [{ servicePort: 80, targetPort: 8080 }, { servicePort: 9090, targetPort: 9090 }] } },
        authorizationPolicies: ['app/allow-web', 'istio-system/istio_converted_static_strict'],
        clusterId: 'Kubernetes',
        locality: { region: 'r1', zone: 'z1' },
      },
    });
  });

  it('converts a Service with VIPs, named target ports as 0, app protocols and the waypoint', async () => {
    const index = await meshIndex();
    expect(addressJson(index, 'app/web.app.svc.cluster.local')).toEqual({
      service: {
        name: 'web',
        namespace: 'app',
        hostname: 'web.app.svc.cluster.local',
        addresses: [{ address: 'CmAACg==' }],
        ports: [
          { servicePort: 80, appProtocol: 'HTTP11' },
          { servicePort: 9090, targetPort: 9090, appProtocol: 'GRPC' },
        ],
        waypoint: { hostname: { namespace: 'app', hostname: 'wp.app.svc.cluster.local' }, hboneMtlsPort: 15008 },
        canonical: true,
      },
    });
  });

  it('emits the converted AuthorizationPolicy and the static STRICT policy', async () => {
    const index = await meshIndex();
    const authz = [...index.authorizations().keys()].sort();
    expect(authz).toEqual(['app/allow-web', 'istio-system/istio_converted_static_strict']);
  });

  it('produces no change for an identical event and only the affected resources for a real one', async () => {
    const index = await meshIndex();
    const changes: string[] = [];
    index.onChange((_t, changed, removed) => changes.push(...changed, ...removed.map((r) => `-${r}`)));
    const parsed = parseManifests(await readFile(MESH_YAML, 'utf8'));
    const svc = parsed.objects.find((o) => o.kind === 'Service')!;
    index.handle({ ...(addEvent(svc) as AnyConfigEvent), type: 'update' } as AnyConfigEvent);
    expect(changes).toEqual([]);
    const node = parsed.objects.find((o) => o.kind === 'Node')!;
    index.handle({ type: 'update', kind: 'Node', namespace: '', name: 'node1', object: { ...node, metadata: { ...node.metadata, labels: { 'topology.kubernetes.io/region': 'r2' } } } } as AnyConfigEvent);
    expect(changes).toEqual(['Kubernetes//Pod/app/web-7d9f-abcde']);
    index.handle({ type: 'delete', kind: 'Service', namespace: 'app', name: 'web', object: svc } as AnyConfigEvent);
    expect(changes.slice(1).sort()).toEqual(['-app/web.app.svc.cluster.local', 'Kubernetes//Pod/app/web-7d9f-abcde']);
  });

  it('gives identical output for the directory source and a replayed Kubernetes event stream', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'istiod-idx-'));
    try {
      await writeFile(join(dir, 'mesh.yaml'), await readFile(MESH_YAML, 'utf8'));
      const dirStore = new ConfigStore({ logger: captureLogger().logger });
      const source = new DirectorySource({ dir, store: dirStore, logger: captureLogger().logger, pollIntervalMs: 0 });
      await source.start();
      source.stop();
      const fromDir = new AmbientIndex();
      fromDir.attach(dirStore);

      // Kubernetes delivers objects one at a time, in its own order (pods before policies here), with
      // server-set fields, each as a separate event after attach.
      const kubeStore = new ConfigStore({ logger: captureLogger().logger });
      const fromKube = new AmbientIndex();
      fromKube.attach(kubeStore);
      const objects = parseManifests(await readFile(MESH_YAML, 'utf8')).objects.reverse();
      for (const o of objects) kubeStore.apply({ op: 'upsert', object: { ...o, metadata: { ...o.metadata, resourceVersion: '42', uid: `uid-${o.metadata.name}` } } });

      const dump = (i: AmbientIndex): unknown => ({
        a: [...i.addresses()].map(([k, v]) => [k, toJson(workload.AddressSchema, v)]).sort(),
        z: [...i.authorizations().keys()].sort(),
        v: [...i.snapshot('type.googleapis.com/istio.workload.Address')!.values()].map((r) => `${r.name}@${r.version}`).sort(),
      });
      expect(dump(fromKube)).toEqual(dump(fromDir));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('builds a 10,000-pod, 1,000-service mesh', () => {
    const events: AnyConfigEvent[] = [];
    for (let n = 0; n < 10; n++) {
      events.push(addEvent({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns${n}` } } as MeshResource));
      for (let s = 0; s < 100; s++) {
        events.push(
          addEvent({ apiVersion: 'v1', kind: 'Service', metadata: { name: `svc${s}`, namespace: `ns${n}` }, spec: { clusterIP: `10.96.${n}.${s}`, selector: { app: `a${s}` }, ports: [{ port: 80 }] } } as MeshResource),
        );
      }
      for (let p = 0; p < 1000; p++) {
        events.push(
          addEvent({
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: `p${p}`, namespace: `ns${n}`, labels: { app: `a${p % 100}` } },
            spec: { containers: [{ name: 'c' }], nodeName: `node${p % 50}` },
            status: { podIP: `10.${n}.${p >> 8}.${p & 255}`, conditions: [{ type: 'Ready', status: 'True' }] },
          } as MeshResource),
        );
      }
    }
    const index = new AmbientIndex();
    index.batch(events);
    expect(index.addresses().size).toBe(11_000);
    const w = index.addresses().get('Kubernetes//Pod/ns3/p7')!.type.value as workload.Workload;
    expect(Object.keys(w.services)).toEqual(['ns3/svc7.ns3.svc.cluster.local']);
  });
});
