import { describe, expect, it } from 'vitest';
import { formatIssue } from './validate/issues';
import { parseManifests } from './manifests';

describe('parseManifests', () => {
  it('parses several documents, skips empty ones and expands Lists', () => {
    const text = `
---
apiVersion: v1
kind: Namespace
metadata: {name: demo, labels: {istio.io/dataplane-mode: ambient}}
---
# only a comment
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ServiceAccount
  metadata: {name: a, namespace: demo}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: b, namespace: demo}
  data: {k: v}
`;
    const r = parseManifests(text, 'demo.yaml');
    expect(r.errors).toEqual([]);
    expect(r.objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Namespace/demo', 'ServiceAccount/a', 'ConfigMap/b']);
  });

  it('reports errors with source file, document index, resource and path', () => {
    const text = `apiVersion: v1
kind: Namespace
metadata: {name: ok}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: bad, namespace: ns1}
spec:
  action: ALOW
`;
    const r = parseManifests(text, 'policies.yaml');
    expect(r.objects).toHaveLength(1);
    expect(r.errors).toHaveLength(1);
    const e = r.errors[0]!;
    expect(e).toMatchObject({ source: 'policies.yaml', docIndex: 1, resource: 'AuthorizationPolicy ns1/bad', path: 'spec.action', code: 'INVALID_ENUM' });
    expect(formatIssue(e)).toBe('policies.yaml#1: AuthorizationPolicy ns1/bad: spec.action: unknown action "ALOW": expected ALLOW|DENY|AUDIT|CUSTOM');
  });

  it('reports YAML syntax errors per document and keeps going', () => {
    const r = parseManifests('a: [1, 2\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n', 'broken.yaml');
    expect(r.errors[0]).toMatchObject({ code: 'YAML_SYNTAX', docIndex: 0, source: 'broken.yaml' });
    expect(r.objects).toHaveLength(1);
  });

  it('returns unsupported kinds as UNSUPPORTED_KIND errors', () => {
    const r = parseManifests('apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\n');
    expect(r.errors.map((e) => e.code)).toEqual(['UNSUPPORTED_KIND']);
    expect(r.errors[0]!.message).toBe('unsupported kind Job (apiVersion batch/v1)');
  });

  it('reports unknown fields as warnings without rejecting the object', () => {
    const r = parseManifests('apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: p}\nspec: {mtls: {mode: STRICT}, mtlss: 1}\n');
    expect(r.objects).toHaveLength(1);
    expect(r.warnings).toMatchObject([{ severity: 'warning', code: 'UNKNOWN_FIELD', path: 'spec.mtlss' }]);
  });

  it('accepts JSON documents', () => {
    const r = parseManifests('{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"j"}}');
    expect(r.objects).toHaveLength(1);
  });
});
