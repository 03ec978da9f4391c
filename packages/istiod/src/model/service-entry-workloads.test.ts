// ServiceEntry endpoints as WDS workloads (I:pilot/pkg/serviceregistry/ambient/workloads.go
// serviceEntryWorkloadBuilder): inline endpoints, implicit per-host endpoints of DNS ServiceEntries, and the
// egress pattern (a ServiceEntry bound to a waypoint whose endpoints are reached without HBONE).
import { ADDRESS_TYPE_URL, AddressSchema, fromBinary, parseManifests, toJson, workload, type MeshResource } from '@mesh/api';
import { describe, expect, it } from 'vitest';
import type { AnyConfigEvent } from '../config/types';
import { AmbientIndex } from './ambient-index';

const UID = 'Kubernetes/networking.istio.io/ServiceEntry';

function event(type: 'add' | 'update' | 'delete', o: MeshResource): AnyConfigEvent {
  const kind = o.apiVersion.includes('/') ? `${o.apiVersion.split('/')[0]}/${o.kind}` : o.kind;
  return { type, kind, namespace: o.metadata.namespace ?? '', name: o.metadata.name, object: o } as AnyConfigEvent;
}

function objects(yaml: string): MeshResource[] {
  const parsed = parseManifests(yaml);
  expect(parsed.errors).toEqual([]);
  return parsed.objects;
}

function indexOf(yaml: string): AmbientIndex {
  const index = new AmbientIndex();
  index.batch(objects(yaml).map((o) => event('add', o)));
  return index;
}

function json(index: AmbientIndex, name: string): Record<string, unknown> | undefined {
  const a = index.addresses().get(name);
  return a ? (toJson(workload.AddressSchema, a) as Record<string, unknown>) : undefined;
}

function seWorkloadNames(index: AmbientIndex): string[] {
  return [...index.addresses().keys()].filter((k) => k.startsWith(UID)).sort();
}

const WAYPOINT = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: egress-wp, namespace: egress}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
`;

const STATIC_SE = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: db, namespace: egress, labels: {istio.io/use-waypoint: egress-wp, app: db}}
spec:
  hosts: [db.example.com]
  addresses: [240.240.1.1]
  ports:
  - {number: 5432, name: tcp-pg, protocol: TCP}
  - {number: 80, name: http, protocol: HTTP, targetPort: 8080}
  resolution: STATIC
  endpoints:
  - address: 192.0.2.10
    ports: {tcp-pg: 15432}
    labels: {zone: a}
    serviceAccount: db-sa
    network: net-b
    locality: us-east1/us-east1-b
    weight: 3
  - address: 192.0.2.11
  - address: db-replica.example.net
    ports: {http: 9080}
`;

describe('ServiceEntry endpoints as workloads', () => {
  it('makes one workload per inline endpoint: IP addresses, a DNS name as hostname, ports by name', () => {
    const index = indexOf(`${WAYPOINT}---${STATIC_SE}`);
    expect(seWorkloadNames(index)).toEqual([
      `${UID}/egress/db/192.0.2.10`,
      `${UID}/egress/db/192.0.2.11`,
      `${UID}/egress/db/db-replica.example.net`,
    ]);
    expect(json(index, `${UID}/egress/db/192.0.2.10`)).toEqual({
      workload: {
        uid: `${UID}/egress/db/192.0.2.10`,
        name: 'db',
        namespace: 'egress',
        addresses: ['wAACCg=='],
        network: 'net-b',
        serviceAccount: 'db-sa',
        workloadName: 'db',
        workloadType: 'POD',
        canonicalName: 'db',
        canonicalRevision: 'latest',
        clusterId: 'Kubernetes',
        locality: { region: 'us-east1', zone: 'us-east1-b' },
        capacity: 3,
        services: { 'egress/db.example.com': { ports: [{ servicePort: 5432, targetPort: 15432 }, { servicePort: 80, targetPort: 8080 }] } },
      },
    });
    const dns = json(index, `${UID}/egress/db/db-replica.example.net`)!['workload'] as Record<string, unknown>;
    expect(dns['hostname']).toBe('db-replica.example.net');
    expect(dns['addresses']).toBeUndefined();
    expect(dns['tunnelProtocol']).toBeUndefined(); // NONE: reached directly, not over HBONE
    expect(dns['services']).toEqual({ 'egress/db.example.com': { ports: [{ servicePort: 5432, targetPort: 5432 }, { servicePort: 80, targetPort: 9080 }] } });
    // The ServiceEntry's use-waypoint label binds its Service, not its endpoints' workloads.
    const svc = json(index, 'egress/db.example.com')!['service'] as Record<string, unknown>;
    expect(svc['waypoint']).toEqual({ hostname: { namespace: 'egress', hostname: 'egress-wp.egress.svc.cluster.local' }, hboneMtlsPort: 15008 });
    expect(dns['waypoint']).toBeUndefined();
    expect(index.servicesBoundTo('egress/egress-wp').map((si) => si.key)).toEqual(['egress/db.example.com']);
  });

  it('binds an endpoint to a workload waypoint by its own labels, and HBONE comes from the ServiceEntry annotation', () => {
    const wlWaypoint = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: wl-wp, namespace: egress, labels: {istio.io/waypoint-for: workload}}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
`;
    const index = indexOf(`${WAYPOINT}---${wlWaypoint}---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: vm, namespace: egress, annotations: {ambient.istio.io/redirection: enabled}}
spec:
  hosts: [vm.internal]
  ports: [{number: 80, name: http}]
  resolution: STATIC
  endpoints:
  - {address: 10.1.0.1, labels: {istio.io/use-waypoint: wl-wp}}
  - {address: 10.1.0.2}
`);
    const bound = json(index, `${UID}/egress/vm/10.1.0.1`)!['workload'] as Record<string, unknown>;
    expect(bound['waypoint']).toEqual({ hostname: { namespace: 'egress', hostname: 'wl-wp.egress.svc.cluster.local' }, hboneMtlsPort: 15008 });
    expect(bound['tunnelProtocol']).toBe('HBONE');
    expect((json(index, `${UID}/egress/vm/10.1.0.2`)!['workload'] as Record<string, unknown>)['waypoint']).toBeUndefined();
    // The waypoint going away unbinds the endpoint.
    index.handle(event('delete', objects(wlWaypoint)[0]!));
    expect((json(index, `${UID}/egress/vm/10.1.0.1`)!['workload'] as Record<string, unknown>)['waypoint']).toBeUndefined();
  });

  it('gives a DNS ServiceEntry without endpoints one implicit workload per host, skipping wildcards with a warning', () => {
    const index = indexOf(`${WAYPOINT}---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: api, namespace: egress, labels: {istio.io/use-waypoint: egress-wp}}
spec:
  hosts: [api.example.com, "*.wild.example.com", api2.example.com]
  ports: [{number: 443, name: https, protocol: HTTPS}, {number: 80, name: http, protocol: HTTP}]
  resolution: DNS
`);
    expect(seWorkloadNames(index)).toEqual([`${UID}/egress/api/api.example.com`, `${UID}/egress/api/api2.example.com`]);
    const w = json(index, `${UID}/egress/api/api.example.com`)!['workload'] as Record<string, unknown>;
    expect(w).toMatchObject({ name: 'api', namespace: 'egress', hostname: 'api.example.com' });
    expect(w['addresses']).toBeUndefined();
    expect(w['waypoint']).toBeUndefined();
    // Each implicit endpoint serves only the host it came from.
    expect(w['services']).toEqual({ 'egress/api.example.com': { ports: [{ servicePort: 443, targetPort: 443 }, { servicePort: 80, targetPort: 80 }] } });
    expect(Object.keys((json(index, `${UID}/egress/api/api2.example.com`)!['workload'] as { services: object }).services)).toEqual(['egress/api2.example.com']);
    expect(index.warnings().get('ServiceEntry egress/api')).toEqual([
      'spec.hosts[1]: wildcard host "*.wild.example.com" gets no endpoint; resolution DNS without endpoints needs FQDN hosts',
    ]);
  });

  it('tells onWarnings once per new or changed warning set, not on every recompute', () => {
    const told: [string, readonly string[]][] = [];
    const index = new AmbientIndex({}, { onWarnings: (resource, warnings) => told.push([resource, warnings]) });
    const se = (hosts: string) => objects(`apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: api, namespace: egress}
spec: {hosts: [${hosts}], ports: [{number: 80, name: http, protocol: HTTP}], resolution: DNS}
`)[0]!;
    index.batch([event('add', se('a.example.com, "*.w.example.com"'))]);
    index.batch([event('update', se('a.example.com, "*.w.example.com"'))]);
    expect(told).toEqual([['ServiceEntry egress/api', ['spec.hosts[1]: wildcard host "*.w.example.com" gets no endpoint; resolution DNS without endpoints needs FQDN hosts']]]);
    index.batch([event('update', se('"*.v.example.com"'))]);
    expect(told).toHaveLength(2);
    expect(told[1]![1][0]).toContain('spec.hosts[0]: wildcard host "*.v.example.com"');
  });

  it('makes no implicit workloads for NONE, STATIC or a workloadSelector, and DNS_ROUND_ROBIN counts as DNS', () => {
    const se = (name: string, extra: string): string => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}, namespace: egress}
spec:
  hosts: [${name}.example.com]
  ports: [{number: 80, name: http}]
${extra}`;
    const index = indexOf(
      [se('none', '  resolution: NONE'), se('static', '  resolution: STATIC'), se('sel', '  resolution: DNS\n  workloadSelector: {labels: {app: x}}'), se('rr', '  resolution: DNS_ROUND_ROBIN')].join('\n---'),
    );
    expect(seWorkloadNames(index)).toEqual([`${UID}/egress/rr/rr.example.com`]);
  });

  it('updates and removes the workloads with the ServiceEntry, in the xDS snapshot too', () => {
    const index = indexOf(`${WAYPOINT}---${STATIC_SE}`);
    const snapshotNames = (): string[] => [...index.snapshot(ADDRESS_TYPE_URL)!.keys()].filter((k) => k.startsWith(UID)).sort();
    expect(snapshotNames()).toEqual(seWorkloadNames(index));
    const stored = index.snapshot(ADDRESS_TYPE_URL)!.get(`${UID}/egress/db/db-replica.example.net`)!;
    const decoded = fromBinary(AddressSchema, stored.any.value);
    expect(decoded.type.case === 'workload' && decoded.type.value.hostname).toBe('db-replica.example.net');

    const changes: string[] = [];
    index.onChange((type, changed, removed) => {
      if (type === ADDRESS_TYPE_URL) changes.push(...changed, ...removed.map((r) => `-${r}`));
    });
    const se = objects(STATIC_SE)[0]!;
    const spec = (se as unknown as { spec: { endpoints: { address: string; ports?: Record<string, number> }[] } }).spec;
    const updated = { ...se, spec: { ...spec, endpoints: [{ ...spec.endpoints[0]!, ports: { 'tcp-pg': 25432 } }, spec.endpoints[2]!] } } as MeshResource;
    index.handle(event('update', updated));
    expect(changes.sort()).toEqual([`-${UID}/egress/db/192.0.2.11`, `${UID}/egress/db/192.0.2.10`]);
    const ports = (json(index, `${UID}/egress/db/192.0.2.10`)!['workload'] as { services: Record<string, { ports: unknown[] }> }).services['egress/db.example.com']!.ports;
    expect(ports[0]).toEqual({ servicePort: 5432, targetPort: 25432 });

    changes.length = 0;
    index.handle(event('delete', updated));
    expect(changes.sort()).toEqual([`-${UID}/egress/db/192.0.2.10`, `-${UID}/egress/db/db-replica.example.net`, '-egress/db.example.com']);
    expect(snapshotNames()).toEqual([]);
    expect(index.warnings().size).toBe(0);
  });

  it('gives a ServiceEntry that lost all its hosts to an older one no workloads, and warns on a repeated address', () => {
    const se = (name: string, created: string, endpoints: string): string => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}, namespace: egress, creationTimestamp: "${created}"}
spec:
  hosts: [shared.example.com]
  ports: [{number: 80, name: http}]
  resolution: STATIC
  endpoints: [${endpoints}]
`;
    const older = se('older', '2024-01-01T00:00:00Z', '{address: 10.2.0.1}, {address: 10.2.0.1}');
    const newer = se('newer', '2025-01-01T00:00:00Z', '{address: 10.2.0.2}');
    const index = indexOf(`${older}---${newer}`);
    expect(seWorkloadNames(index)).toEqual([`${UID}/egress/older/10.2.0.1`]);
    expect(index.warnings().get('ServiceEntry egress/older')).toEqual(['spec.endpoints[1].address: "10.2.0.1" repeats an earlier endpoint; only the first becomes a workload']);
    // The winner goes away: the other ServiceEntry's endpoints take over.
    index.handle(event('delete', objects(older)[0]!));
    expect(seWorkloadNames(index)).toEqual([`${UID}/egress/newer/10.2.0.2`]);
  });

  it('attaches selector AuthorizationPolicies matching the ServiceEntry labels', () => {
    const index = indexOf(`${STATIC_SE}---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-db, namespace: egress}
spec: {selector: {matchLabels: {app: db}}, action: DENY, rules: [{from: [{source: {namespaces: [evil]}}]}]}
`);
    const w = json(index, `${UID}/egress/db/192.0.2.11`)!['workload'] as Record<string, unknown>;
    expect(w['authorizationPolicies']).toEqual(['egress/deny-db']);
    index.handle(event('delete', objects(`apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-db, namespace: egress}
spec: {}
`)[0]!));
    expect((json(index, `${UID}/egress/db/192.0.2.11`)!['workload'] as Record<string, unknown>)['authorizationPolicies']).toBeUndefined();
  });
});
