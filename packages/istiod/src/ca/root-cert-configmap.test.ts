import { describe, expect, it } from 'vitest';
import { parseManifests } from '@mesh/api';
import { ConfigStore } from '../config/store';
import type { KubeRest } from '../leader/kube-rest';
import { captureLogger } from '../testing/log-capture';
import { RootCertPublisher } from './root-cert-configmap';

type Reply = { status: number; body: Record<string, unknown> };

describe('RootCertPublisher', () => {
  it('writes nothing once stopped, even for a reconcile whose GET was already out (lost leadership)', async () => {
    const store = new ConfigStore({ logger: captureLogger().logger });
    const parsed = parseManifests('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: late\n');
    store.applyAll(parsed.objects.map((object) => ({ op: 'upsert' as const, object })));
    const writes: string[] = [];
    let answerGet: ((r: Reply) => void) | undefined;
    const rest = {
      call: (method: string, path: string): Promise<Reply> => {
        if (method === 'GET') return new Promise<Reply>((r) => (answerGet = r));
        writes.push(`${method} ${path}`);
        return Promise.resolve({ status: 201, body: {} });
      },
      ok: (method: string, path: string): Promise<Reply> => {
        writes.push(`${method} ${path}`);
        return Promise.resolve({ status: 200, body: {} });
      },
    } as unknown as KubeRest;
    const publisher = new RootCertPublisher({ rest, store, rootCertPem: () => 'ROOT', minIntervalMs: 0, logger: captureLogger().logger });
    publisher.start();
    await new Promise((r) => setTimeout(r, 20));
    expect(answerGet, 'the reconcile has its GET out').toBeDefined();
    publisher.stop();
    answerGet!({ status: 404, body: {} });
    await new Promise((r) => setTimeout(r, 20));
    expect(writes).toEqual([]);
  });
});
