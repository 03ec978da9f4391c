import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { captureLogger } from '../testing/log-capture';
import { ConfigStore } from './store';
import type { AnyConfigEvent, InvalidResourceReport } from './types';

const pod = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'ns1', labels: { app: name } },
  spec: { containers: [{ name: 'c' }] },
  ...extra,
});

const badPolicy = {
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'bad', namespace: 'ns1' },
  spec: { action: 'MAYBE' },
};

describe('ConfigStore', () => {
  it('emits add, then update only when content changes, then delete', () => {
    const { logger } = captureLogger();
    const store = new ConfigStore({ logger });
    const events: AnyConfigEvent[] = [];
    store.subscribe((e) => events.push(e));
    store.apply({ op: 'upsert', object: pod('a') });
    store.apply({ op: 'upsert', object: pod('a') });
    store.apply({ op: 'upsert', object: pod('a', { status: { podIP: '10.0.0.1' } }) });
    store.apply({ op: 'delete', kind: 'Pod', namespace: 'ns1', name: 'a' });
    store.apply({ op: 'delete', kind: 'Pod', namespace: 'ns1', name: 'a' });
    expect(events.map((e) => `${e.type} ${e.kind} ${e.namespace}/${e.name}`)).toEqual([
      'add Pod ns1/a',
      'update Pod ns1/a',
      'delete Pod ns1/a',
    ]);
    expect(store.list('Pod')).toEqual([]);
  });

  it('reports an invalid object with resource, field path and reason, ignores it, and keeps working', () => {
    const { logger, lines } = captureLogger();
    const reports: InvalidResourceReport[] = [];
    const store = new ConfigStore({ logger, onInvalid: (r) => reports.push(r) });
    expect(store.apply({ op: 'upsert', object: badPolicy, origin: { source: 'policies.yaml', docIndex: 2 } })).toBeUndefined();
    expect(store.apply({ op: 'upsert', object: pod('ok') })?.type).toBe('add');
    expect(store.list('security.istio.io/AuthorizationPolicy')).toEqual([]);
    expect(reports).toHaveLength(1);
    expect(reports[0]!.resource).toBe('AuthorizationPolicy ns1/bad');
    const warn = lines().find((l) => l['msg'] !== undefined && String(l['msg']).startsWith('ignoring invalid resource'));
    expect(warn).toMatchObject({ level: 'warn', resource: 'AuthorizationPolicy ns1/bad', path: 'spec.action', source: 'policies.yaml' });
    expect(String(warn!['reason'])).toContain('MAYBE');
    expect(store.invalidResources().map((r) => r.resource)).toEqual(['AuthorizationPolicy ns1/bad']);
  });

  it('keeps the last valid version when an update is invalid (fail static)', () => {
    const store = new ConfigStore({ logger: captureLogger().logger });
    const good = { ...badPolicy, spec: { action: 'DENY', rules: [{}] } };
    store.apply({ op: 'upsert', object: good });
    store.apply({ op: 'upsert', object: badPolicy });
    expect(store.get('security.istio.io/AuthorizationPolicy', 'ns1', 'bad')?.spec.action).toBe('DENY');
  });

  it('defaults the namespace of namespaced kinds and clears it on cluster-scoped ones', () => {
    const store = new ConfigStore({ logger: captureLogger().logger });
    const p = pod('x');
    (p['metadata'] as Record<string, unknown>)['namespace'] = undefined;
    delete (p['metadata'] as Record<string, unknown>)['namespace'];
    expect(store.apply({ op: 'upsert', object: p })).toMatchObject({ namespace: 'default', name: 'x' });
    const ns = store.apply({ op: 'upsert', object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n', namespace: 'junk' } } });
    expect(ns).toMatchObject({ namespace: '', name: 'n' });
    expect(store.get('Namespace', '', 'n')?.metadata.namespace).toBeUndefined();
  });

  it('never throws on arbitrary input (fuzz)', () => {
    const store = new ConfigStore({ logger: captureLogger().logger });
    const kinds = ['Pod', 'Service', 'Namespace', 'AuthorizationPolicy', 'PeerAuthentication', 'Gateway', 'ServiceEntry', 'Weird'];
    const versions = ['v1', 'security.istio.io/v1', 'networking.istio.io/v1', 'gateway.networking.k8s.io/v1', 'x/y'];
    const shaped = fc.record({
      apiVersion: fc.constantFrom(...versions),
      kind: fc.constantFrom(...kinds),
      metadata: fc.oneof(fc.record({ name: fc.string(), namespace: fc.option(fc.string(), { nil: undefined }) }), fc.anything()),
      spec: fc.anything(),
      status: fc.anything(),
    });
    fc.assert(
      fc.property(fc.oneof(fc.anything(), shaped), (obj) => {
        expect(() => store.apply({ op: 'upsert', object: obj })).not.toThrow();
      }),
      { numRuns: 2000 },
    );
  });
});

describe('ConfigStore batches', () => {
  it('brackets applyAll with begin/end and delivers every event in between', () => {
    const store = new ConfigStore({ logger: captureLogger().logger });
    const seen: string[] = [];
    store.subscribe((e) => seen.push(`${e.type} ${e.name}`));
    const unsubscribe = store.subscribeBatches({ begin: () => seen.push('begin'), end: () => seen.push('end') });
    store.applyAll([{ op: 'upsert', object: pod('a') }, { op: 'upsert', object: pod('b') }]);
    store.apply({ op: 'delete', kind: 'Pod', namespace: 'ns1', name: 'a' });
    unsubscribe();
    store.applyAll([{ op: 'delete', kind: 'Pod', namespace: 'ns1', name: 'b' }]);
    expect(seen).toEqual(['begin', 'add a', 'add b', 'end', 'delete a', 'delete b']);
  });
});
