import type { Gateway } from '@mesh/api';
import { describe, expect, it } from 'vitest';
import { renderWaypoint, waypointServicePorts, type WaypointDeployOptions } from './render';

const OPTS: WaypointDeployOptions = {
  image: 'mesh/waypoint:1.2.3', imagePullPolicy: 'IfNotPresent', istiodAddress: 'istiod.istio-system.svc:15012',
  clusterId: 'Kubernetes', trustDomain: 'cluster.local', logLevel: 'info',
};

function gateway(extra: Partial<Gateway['metadata']> = {}, spec: Partial<Gateway['spec']> = {}): Gateway {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway',
    metadata: { name: 'waypoint', namespace: 'shop', uid: 'uid-1', ...extra },
    spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }], ...spec },
  };
}

type Obj = Record<string, any>;

describe('renderWaypoint', () => {
  it('renders ServiceAccount, Deployment and Service named after the Gateway and owned by it', () => {
    const o = renderWaypoint(gateway(), OPTS);
    for (const m of [o.serviceAccount, o.deployment, o.service]) {
      expect(m.metadata).toMatchObject({ name: 'waypoint', namespace: 'shop' });
      expect(m.metadata['ownerReferences']).toEqual([{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', name: 'waypoint', uid: 'uid-1' }]);
      expect((m.metadata['labels'] as Record<string, string>)['gateway.networking.k8s.io/gateway-name']).toBe('waypoint');
    }
    expect((o.deployment.metadata['labels'] as Record<string, string>)['gateway.istio.io/managed']).toBe('istio.io-mesh-controller');
  });

  it('the pod opts out of the mesh, runs the waypoint image with its identity and mounts token and root', () => {
    const d = renderWaypoint(gateway(), OPTS).deployment as Obj;
    const tpl = d['spec']['template'];
    expect(d['spec']['selector']).toEqual({ matchLabels: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' } });
    expect(tpl.metadata.labels).toMatchObject({ 'istio.io/dataplane-mode': 'none', 'sidecar.istio.io/inject': 'false', 'service.istio.io/canonical-name': 'waypoint', 'gateway.networking.k8s.io/gateway-name': 'waypoint' });
    expect(tpl.spec.serviceAccountName).toBe('waypoint');
    const c = tpl.spec.containers[0];
    expect(c.image).toBe('mesh/waypoint:1.2.3');
    const env = Object.fromEntries(c.env.map((e: Obj) => [e['name'], e['value'] ?? e['valueFrom'].fieldRef.fieldPath]));
    expect(env).toMatchObject({ XDS_ADDRESS: 'istiod.istio-system.svc:15012', CA_ADDRESS: 'istiod.istio-system.svc:15012', WAYPOINT_NAME: 'waypoint', POD_NAMESPACE: 'metadata.namespace', INSTANCE_IP: 'status.podIP', SERVICE_ACCOUNT: 'spec.serviceAccountName', TRUST_DOMAIN: 'cluster.local' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/healthz/ready', port: 15021, scheme: 'HTTP' });
    const token = tpl.spec.volumes.find((v: Obj) => v['name'] === 'istio-token');
    expect(token.projected.sources[0].serviceAccountToken).toMatchObject({ audience: 'istio-ca', path: 'istio-token' });
    expect(tpl.spec.volumes.find((v: Obj) => v['name'] === 'istiod-ca-cert').configMap.name).toBe('istio-ca-root-cert');
  });

  it('Service: status-port first, then each distinct listener port with its protocol as appProtocol', () => {
    const gw = gateway({}, { listeners: [
      { name: 'mesh', port: 15008, protocol: 'HBONE' },
      { name: 'Mesh_Again', port: 15008, protocol: 'HBONE' },
      { name: '', port: 8080, protocol: 'HTTP' },
    ] });
    expect(waypointServicePorts(gw)).toEqual([
      { name: 'status-port', port: 15021, protocol: 'TCP', appProtocol: 'tcp' },
      { name: 'mesh', port: 15008, protocol: 'TCP', appProtocol: 'hbone' },
      { name: 'http-2', port: 8080, protocol: 'TCP', appProtocol: 'http' },
    ]);
    const svc = renderWaypoint(gw, OPTS).service as Obj;
    expect(svc['spec']).toMatchObject({ type: 'ClusterIP', selector: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' } });
  });

  it('honours name-override and service-account annotations and spec.infrastructure labels, dropping our own annotations', () => {
    const gw = gateway(
      { annotations: { 'gateway.istio.io/name-override': 'wp-deploy', 'gateway.istio.io/service-account': 'wp-sa' } },
      { infrastructure: { labels: { team: 'a' }, annotations: { note: 'x', 'gateway.istio.io/name-override': 'ignored' } } },
    );
    const o = renderWaypoint(gw, OPTS);
    expect(o.deployment.metadata.name).toBe('wp-deploy');
    expect(o.service.metadata.name).toBe('wp-deploy');
    expect(o.serviceAccount.metadata.name).toBe('wp-sa');
    expect((o.deployment as Obj)['spec']['template']['spec']['serviceAccountName']).toBe('wp-sa');
    expect(o.deployment.metadata['labels']).toMatchObject({ team: 'a' });
    expect(o.deployment.metadata['annotations']).toEqual({ note: 'x' });
    // Selector still keys on the Gateway's name, like Istio's template.
    expect((o.service as Obj)['spec']['selector']).toEqual({ 'gateway.networking.k8s.io/gateway-name': 'waypoint' });
  });
});
