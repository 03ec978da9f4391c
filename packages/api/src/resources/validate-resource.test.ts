import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { supportedKinds } from './registry';
import type { Pod } from './types';
import { assertValidResource, validateResource } from './validate-resource';
import { ResourceValidationError } from './validate/issues';

const apiVersions = supportedKinds().flatMap((d) => d.versions.map((v) => ({ apiVersion: d.group === '' ? v : `${d.group}/${v}`, kind: d.kind })));

describe('validateResource', () => {
  it('never throws on arbitrary JSON, including for every supported kind', () => {
    const anyKindObject = fc.record({
      head: fc.constantFrom(...apiVersions),
      metadata: fc.oneof(fc.jsonValue(), fc.record({ name: fc.string(), namespace: fc.string(), labels: fc.jsonValue() })),
      spec: fc.jsonValue(),
      status: fc.jsonValue(),
      extra: fc.dictionary(fc.string(), fc.jsonValue()),
    }).map(({ head, metadata, spec, status, extra }) => ({ ...extra, ...head, metadata, spec, status }));
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), anyKindObject), (value) => {
        const r = validateResource(value);
        expect(typeof r.ok).toBe('boolean');
        if (!r.ok) expect(r.errors.length).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on mutated valid objects', () => {
    const base = {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'a', namespace: 'n' },
      spec: { action: 'DENY', rules: [{ from: [{ source: { principals: ['x'] } }], to: [{ operation: { ports: ['80'] } }], when: [{ key: 'k', values: ['v'] }] }] },
    };
    fc.assert(
      fc.property(fc.constantFrom('action', 'rules', 'selector', 'targetRefs', 'provider'), fc.jsonValue(), (field, value) => {
        validateResource({ ...base, spec: { ...base.spec, [field]: value } });
      }),
      { numRuns: 1000 },
    );
  });

  it('names the resource for non-objects and missing kind', () => {
    const r = validateResource([1, 2]);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]).toMatchObject({ code: 'NOT_AN_OBJECT' });
    const m = validateResource({ metadata: { name: 'x' } });
    if (!m.ok) expect(m.errors.map((e) => e.path)).toEqual(['apiVersion', 'kind']);
  });

  it('assertValidResource throws a typed error', () => {
    expect(() => assertValidResource({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } })).toThrow(ResourceValidationError);
  });

  it('validates 10,000 Pods (no timing assertion; guards against pathological work)', () => {
    let valid = 0;
    for (let i = 0; i < 10_000; i++) {
      const pod: Pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `p-${i}`, namespace: `ns-${i % 50}`, uid: `uid-${i}`, labels: { app: `app-${i % 100}`, 'istio.io/dataplane-mode': 'ambient' } },
        spec: { nodeName: `node-${i % 20}`, serviceAccountName: 'default', containers: [{ name: 'app', image: 'img', ports: [{ containerPort: 8080 }] }] },
        status: { phase: 'Running', podIP: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, podIPs: [{ ip: '10.0.0.1' }] },
      };
      if (validateResource(pod).ok) valid++;
    }
    expect(valid).toBe(10_000);
  });
});
