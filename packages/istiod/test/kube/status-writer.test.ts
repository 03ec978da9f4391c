// StatusWriter against a REAL kube-apiserver with Istio's CRDs: conditions land through the status
// subresource for ztunnel-unsupported policy fields, invalid objects and waypoint Gateways.
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigStore, KubernetesSource, WATCHED_RESOURCES } from '../../src/config';
import { KubeRest } from '../../src/leader';
import { AmbientIndex, INDEXED_KINDS } from '../../src/model';
import { StatusWriter } from '../../src/status';
import { captureLogger } from '../../src/testing/log-capture';
import { gatewayCrds, installCrds, istioCrds, kubeOk, loadHelper, skipReason, waitFor, type KubeCluster } from './harness';

const SUITE_TIMEOUT_MS = 120_000;
const reason = await skipReason();
if (reason) console.warn(`[status-writer.test] SKIPPED: ${reason}`);

interface Cond { type: string; status: string; reason: string; message: string; lastTransitionTime: string; observedGeneration?: number }
const AP = '/apis/security.istio.io/v1/namespaces/st-a/authorizationpolicies';
const GW = '/apis/gateway.networking.k8s.io/v1/namespaces/st-a/gateways';

describe.skipIf(reason !== undefined)('StatusWriter against a real kube-apiserver', () => {
  let cluster: KubeCluster;
  let source: KubernetesSource;
  let writer: StatusWriter;

  beforeAll(async () => {
    cluster = await (await loadHelper()).startApiServer();
    await installCrds(cluster, [...istioCrds(), ...gatewayCrds()]);
    await kubeOk(cluster, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'st-a' } });
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    const store = new ConfigStore({ logger: captureLogger().logger, onInvalid: () => writer?.trigger() });
    const index = new AmbientIndex();
    index.attach(store);
    source = new KubernetesSource({
      kubeConfig: kc, store, logger: captureLogger().logger, backoffInitialMs: 200, backoffMaxMs: 1_000,
      resources: WATCHED_RESOURCES.filter((r) => INDEXED_KINDS.includes(r.key)),
    });
    writer = new StatusWriter({ rest: new KubeRest(kc), store, conditions: () => index.conditions(), minWriteIntervalMs: 0, logger: captureLogger().logger });
    source.start();
    await source.waitForSync();
    writer.start();
  }, SUITE_TIMEOUT_MS);

  afterAll(async () => {
    writer?.stop();
    await source?.stop();
    await cluster?.stop();
  }, SUITE_TIMEOUT_MS);

  async function conditionOf(path: string, type: string): Promise<Cond | undefined> {
    const obj = await kubeOk(cluster, 'GET', path);
    return ((obj['status'] as { conditions?: Cond[] } | undefined)?.conditions ?? []).find((c) => c.type === type);
  }

  it('an AuthorizationPolicy with HTTP-only fields and no waypoint gets ZtunnelAccepted with the reason', async () => {
    await kubeOk(cluster, 'POST', AP, {
      apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'http-only', namespace: 'st-a' },
      spec: { selector: { matchLabels: { app: 'web' } }, action: 'ALLOW', rules: [{ to: [{ operation: { methods: ['GET'], ports: ['8080'] } }] }] },
    });
    const c = await waitFor('ZtunnelAccepted', () => conditionOf(`${AP}/http-only`, 'ZtunnelAccepted'), 10_000);
    expect(c).toMatchObject({ reason: 'UnsupportedValue', observedGeneration: 1 });
    expect(c.message).toContain('methods');
  }, 30_000);

  it('an object the CRD schema admits but istiod rejects gets Accepted=False naming the field path, cleared once fixed', async () => {
    const spec = { action: 'DENY', rules: [{ to: [{ operation: { ports: ['not-a-port'] } }] }] };
    await kubeOk(cluster, 'POST', AP, { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'bad-port', namespace: 'st-a' }, spec });
    const c = await waitFor('Accepted=False', () => conditionOf(`${AP}/bad-port`, 'Accepted'), 10_000);
    expect(c.status).toBe('False');
    expect(c.reason).toBe('Invalid');
    expect(c.message).toContain('spec.rules[0].to[0].operation.ports[0]');

    await kubeOk(cluster, 'PATCH', `${AP}/bad-port`, { spec: { rules: [{ to: [{ operation: { ports: ['8080'] } }] }] } }, 'application/merge-patch+json');
    await waitFor('Accepted cleared', async () => ((await conditionOf(`${AP}/bad-port`, 'Accepted')) === undefined ? true : undefined), 10_000);
  }, 30_000);

  it('a waypoint Gateway is Accepted, and Programmed once its Service has a cluster IP; other conditions are kept', async () => {
    await kubeOk(cluster, 'POST', GW, {
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'waypoint', namespace: 'st-a' },
      spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
    });
    await kubeOk(cluster, 'PATCH', `${GW}/waypoint/status`, { status: { conditions: [{ type: 'ExternalThing', status: 'True', reason: 'X', message: 'not ours', lastTransitionTime: '2024-01-01T00:00:00Z' }] } }, 'application/merge-patch+json');
    const accepted = await waitFor('Accepted', () => conditionOf(`${GW}/waypoint`, 'Accepted'), 10_000);
    expect(accepted.status).toBe('True');
    const pending = await waitFor('Programmed', () => conditionOf(`${GW}/waypoint`, 'Programmed'), 10_000);
    expect(pending).toMatchObject({ status: 'False', reason: 'AddressNotAssigned' });

    await kubeOk(cluster, 'POST', '/api/v1/namespaces/st-a/services', {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'waypoint', namespace: 'st-a' },
      spec: { ports: [{ name: 'mesh', port: 15008, protocol: 'TCP' }], selector: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' } },
    });
    const programmed = await waitFor('Programmed=True', async () => {
      const p = await conditionOf(`${GW}/waypoint`, 'Programmed');
      return p?.status === 'True' ? p : undefined;
    }, 10_000);
    expect(programmed.reason).toBe('Programmed');
    expect(await conditionOf(`${GW}/waypoint`, 'ExternalThing')).toMatchObject({ message: 'not ours' });
    // Accepted did not change status, so its transition time stayed.
    expect((await conditionOf(`${GW}/waypoint`, 'Accepted'))?.lastTransitionTime).toBe(accepted.lastTransitionTime);
  }, 30_000);
});
