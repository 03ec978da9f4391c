// End to end on the real kernel: an app in a pod netns dials the VIP of a DNS ServiceEntry whose endpoint is a
// hostname-only workload (tunnel NONE). ztunnel resolves the hostname on demand (`localhost` -> 127.0.0.1, from
// /etc/hosts, no network) and connects plain TCP from the pod netns to <resolved IP>:<target port>, where an echo
// server in the same pod answers; an unresolvable hostname closes the connection and counts a CONNECT failure.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create, workload, WorkloadSchema, type Workload } from '@mesh/api';
import { createLogger } from '@mesh/core';
import { closeFd, listenInNetns, openNetns, serverFromFd } from '@mesh/netns';
import { meshAuthorizer, meshDecider, meshInboundResolver, ZtunnelApp } from '../src/app/index';
import { MeshState } from '../src/state/index';
import { createPods, deletePods, echoRoundTrip, FakeAgent, feedState, PREFIX, podWorkload, serviceOf, testCa, tmpSock, type Pod } from './fixtures';

const A: Pod = { ns: `${PREFIX}-dnsa`, ip: '10.77.0.2', name: 'client', namespace: 'ns-a', sa: 'sa-a' };
const B: Pod = { ns: `${PREFIX}-dnsb`, ip: '10.77.0.3', name: 'other', namespace: 'ns-b', sa: 'sa-b' };
const TARGET_PORT = 8090;
const API_SVC = serviceOf('api', 'ns-a', '10.96.78.10', [[80, TARGET_PORT]]);
const BAD_SVC = serviceOf('bad', 'ns-a', '10.96.78.20', [[80, TARGET_PORT]]);

function hostnameWorkload(name: string, hostname: string, svc: workload.Service): Workload {
  return create(WorkloadSchema, {
    uid: `Kubernetes/networking.istio.io/ServiceEntry/ns-a/${name}/${hostname}`, name, namespace: 'ns-a', hostname,
    tunnelProtocol: workload.TunnelProtocol.NONE, status: workload.WorkloadStatus.HEALTHY,
    services: { [`${svc.namespace}/${svc.hostname}`]: { ports: [{ servicePort: 80, targetPort: TARGET_PORT }] } },
  });
}

let app: ZtunnelApp;
let agent: FakeAgent;
let nsFd: number;
let echo: net.Server;

beforeAll(async () => {
  deletePods(A, B);
  createPods(A, B);
  const state = new MeshState();
  const c = testCa();
  feedState(state, [podWorkload(A, 'node-1'), hostnameWorkload('api', 'localhost', API_SVC), hostnameWorkload('bad', 'nonexistent.invalid', BAD_SVC)], [], [API_SVC, BAD_SVC]);
  agent = new FakeAgent(tmpSock('dns'));
  const ep = { host: '127.0.0.1', port: 0 };
  app = new ZtunnelApp({
    state, decide: meshDecider(state), authorize: meshAuthorizer(state), resolveInbound: meshInboundResolver(state), fetchCertificate: c.fetch,
    zdsPath: agent.path, trustDomain: 'cluster.local', nodeName: 'node-1', ipv6Enabled: false, drainDeadlineMs: 200,
    endpoints: { admin: ep, stats: ep, readiness: ep }, logger: createLogger({ component: 'ztunnel', level: 'silent' }),
  });
  await app.start();
  expect(await agent.addPod(A, 'uid-a')).toBe('');
  nsFd = openNetns(`/var/run/netns/${A.ns}`);
  echo = await serverFromFd(listenInNetns(nsFd, { host: '0.0.0.0', port: TARGET_PORT }), net.createServer((s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  }));
}, 30_000);

afterAll(async () => {
  await app.stop().catch(() => undefined);
  agent.close();
  echo.close();
  closeFd(nsFd);
  deletePods(A, B);
});

describe('in-pod ztunnel to a hostname workload (DNS ServiceEntry endpoint)', () => {
  it('resolves the hostname on demand and carries bytes over plain TCP to <resolved IP>:<target port>', async () => {
    const payload = 'to a dns endpoint '.repeat(100);
    expect(await echoRoundTrip(nsFd, '10.96.78.10', 80, payload)).toBe(payload);
    const opened = (await app.registry.metrics()).split('\n')
      .find((l) => l.startsWith('istio_tcp_connections_opened_total{') && l.includes(`destination_service="${API_SVC.hostname}"`));
    expect(opened).toContain('reporter="source"');
    expect(opened).toContain('destination_workload_namespace="ns-a"');
    expect(opened).toContain('response_flags="-"');
  });

  it('an unresolvable hostname closes the connection quickly and counts a CONNECT failure', async () => {
    const t0 = Date.now();
    expect(await echoRoundTrip(nsFd, '10.96.78.20', 80, 'x')).toBe('');
    expect(Date.now() - t0).toBeLessThan(6_000);
    expect(await app.registry.metrics()).toMatch(
      new RegExp(`istio_tcp_connections_failed_total\\{[^}]*reporter="source"[^}]*destination_service="${BAD_SVC.hostname}"[^}]*response_flags="CONNECT"[^}]*\\} 1`),
    );
  });
});
