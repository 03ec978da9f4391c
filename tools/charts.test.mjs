// Renders every chart with tools/helm-render (Helm's template language, faithfully), validates each object
// against the Kubernetes OpenAPI schemas (kubernetes-models), compares the default render with a golden
// file (REFRESH_GOLDEN=1 rewrites it), and checks env var names and ports against the components' own
// config registries, so the charts and the apps cannot drift apart.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildRenderer, renderChart, repoRoot } from './helm-render.mjs';
import { generate as generateCrds } from '../charts/base/gen-crds.mjs';

const CHARTS = ['base', 'istiod', 'ztunnel', 'cni', 'gateway'];
const NS = 'istio-system';
let bin;
beforeAll(() => { bin = buildRenderer(); }, 120_000);

const render = (chart, opts = {}) => renderChart(bin, { name: chart === 'gateway' ? 'waypoint' : chart, chart, namespace: NS, ...opts });
const profile = (chart) => path.join(repoRoot, 'charts', chart, 'files', 'profile-ambient.yaml');
const find = (docs, kind, name) => docs.find((d) => d.object.kind === kind && (name === undefined || d.object.metadata.name === name))?.object;

/** kubernetes-models class for a built-in apiVersion/kind, or undefined for CRD-defined kinds. */
async function modelFor(apiVersion, kind) {
  const dir = apiVersion.includes('/') ? apiVersion : `v1`;
  const file = path.join(repoRoot, 'node_modules', 'kubernetes-models', dir, `${kind}.mjs`);
  if (!fs.existsSync(file)) return undefined;
  return (await import(file))[kind];
}

describe.each(CHARTS)('chart %s', (chart) => {
  for (const variant of ['default', 'profile-ambient']) {
    it(`${variant} render: every object passes its Kubernetes schema`, async () => {
      const { docs } = render(chart, variant === 'default' ? {} : { values: [profile(chart)] });
      expect(docs.length).toBeGreaterThan(0);
      for (const { source, object } of docs) {
        expect(object.apiVersion, source).toBeTypeOf('string');
        expect(object.metadata?.name, source).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
        const Model = await modelFor(object.apiVersion, object.kind);
        if (Model) {
          expect(() => new Model(object).validate(), `${source} ${object.kind}`).not.toThrow();
        } else {
          // Only the Gateway API's Gateway is rendered without a bundled schema.
          expect(`${object.apiVersion}/${object.kind}`).toBe('gateway.networking.k8s.io/v1/Gateway');
        }
        const namespaced = !['ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition'].includes(object.kind);
        expect(object.metadata.namespace, `${source} ${object.kind}`).toBe(namespaced ? (chart === 'gateway' ? NS : NS) : undefined);
      }
    });
  }

  it('default render matches testdata/default.golden.yaml (REFRESH_GOLDEN=1 to update)', () => {
    const golden = path.join(repoRoot, 'charts', chart, 'testdata', 'default.golden.yaml');
    const { text } = render(chart);
    if (process.env.REFRESH_GOLDEN === '1') fs.writeFileSync(golden, text);
    expect(text).toBe(fs.readFileSync(golden, 'utf8'));
  });
});

describe('base chart CRDs', () => {
  it('files/crd-all.gen.yaml is what gen-crds.mjs generates', () => {
    const file = fs.readFileSync(path.join(repoRoot, 'charts', 'base', 'files', 'crd-all.gen.yaml'), 'utf8');
    expect(file, 'stale: run node charts/base/gen-crds.mjs').toBe(generateCrds());
  });

  it('serves v1 (storage) and v1beta1 of each Istio kind with structural schemas', () => {
    const crds = render('base').docs.map((d) => d.object);
    expect(crds.map((c) => c.spec.names.kind).sort()).toEqual(['AuthorizationPolicy', 'DestinationRule', 'Gateway',
      'PeerAuthentication', 'RequestAuthentication', 'ServiceEntry', 'Telemetry', 'VirtualService', 'WorkloadEntry']);
    for (const crd of crds) {
      expect(crd.spec.versions.map((v) => [v.name, v.served, v.storage])).toEqual([['v1', true, true], ['v1beta1', true, false]]);
      expect(crd.metadata.annotations['helm.sh/resource-policy']).toBe('keep');
      for (const v of crd.spec.versions) expectStructural(v.schema.openAPIV3Schema, `${crd.metadata.name}/${v.name}`);
    }
  });

  it('crds.enabled=false renders nothing', () => {
    expect(render('base', { set: ['crds.enabled=false'] }).docs).toEqual([]);
  });
});

/** Kubernetes' structural schema rule: every node has a type unless it preserves unknown fields. */
function expectStructural(schema, where) {
  if (schema['x-kubernetes-preserve-unknown-fields'] !== true || schema.properties) expect(schema.type, where).toBeTypeOf('string');
  for (const [k, sub] of Object.entries(schema.properties ?? {})) expectStructural(sub, `${where}.${k}`);
  if (schema.items) expectStructural(schema.items, `${where}[]`);
  if (typeof schema.additionalProperties === 'object') {
    expect(schema.properties, `${where}: properties and additionalProperties are exclusive`).toBeUndefined();
    expectStructural(schema.additionalProperties, `${where}{}`);
  }
}

describe('security and scheduling', () => {
  it('ztunnel: NET_ADMIN/SYS_ADMIN/NET_RAW as uid 0, not privileged, istio-token and root cert mounted', () => {
    const ds = find(render('ztunnel').docs, 'DaemonSet', 'ztunnel');
    const c = ds.spec.template.spec.containers[0];
    expect(c.securityContext).toMatchObject({ privileged: false, runAsUser: 0, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    expect(c.securityContext.capabilities.add.sort()).toEqual(['NET_ADMIN', 'NET_RAW', 'SYS_ADMIN']);
    const vols = Object.fromEntries(ds.spec.template.spec.volumes.map((v) => [v.name, v]));
    expect(vols['istio-token'].projected.sources[0].serviceAccountToken).toEqual({ path: 'istio-token', audience: 'istio-ca', expirationSeconds: 43200 });
    expect(vols['istiod-ca-cert'].configMap.name).toBe('istio-ca-root-cert');
    expect(ds.spec.template.spec.hostNetwork).toBeUndefined();
  });

  it('cni: privileged on the host network and PID namespace with the CNI host paths', () => {
    const ds = find(render('cni').docs, 'DaemonSet', 'istio-cni-node');
    const spec = ds.spec.template.spec;
    expect([spec.hostNetwork, spec.hostPID, spec.containers[0].securityContext.privileged]).toEqual([true, true, true]);
    expect(spec.volumes.map((v) => v.hostPath?.path).sort()).toEqual(['/etc/cni/net.d', '/opt/cni/bin', '/var/run/istio-cni', '/var/run/netns', '/var/run/ztunnel']);
  });

  it.each(['ztunnel', 'cni'])('%s DaemonSet runs on every node as system-node-critical', (chart) => {
    const spec = find(render(chart).docs, 'DaemonSet').spec.template.spec;
    expect(spec.priorityClassName).toBe('system-node-critical');
    expect(spec.tolerations.filter((t) => t.operator === 'Exists' && t.key === undefined).map((t) => t.effect).sort()).toEqual(['NoExecute', 'NoSchedule']);
  });

  it.each([['istiod', 'Deployment'], ['gateway', 'Deployment']])('%s runs as non-root 1337', (chart, kind) => {
    const c = find(render(chart).docs, kind).spec.template.spec.containers[0];
    expect(c.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1337, allowPrivilegeEscalation: false });
  });

  it('istiod has a PodDisruptionBudget selecting its pods', () => {
    const { docs } = render('istiod');
    const pdb = find(docs, 'PodDisruptionBudget');
    expect(pdb.spec.selector.matchLabels).toEqual(find(docs, 'Deployment').spec.selector.matchLabels);
    expect(find(render('istiod', { set: ['podDisruptionBudget.enabled=false'] }).docs, 'PodDisruptionBudget')).toBeUndefined();
  });
});

describe('RBAC is least privilege', () => {
  const rules = (docs, kind) => docs.filter((d) => d.object.kind === kind).flatMap((d) => d.object.rules);
  it('ztunnel has no Kubernetes API access', () => {
    const { docs } = render('ztunnel');
    expect(docs.filter((d) => /Role/.test(d.object.kind))).toEqual([]);
    expect(find(docs, 'DaemonSet').spec.template.spec.automountServiceAccountToken).toBe(false);
  });
  it('cni reads and patches pods, reads namespaces, nothing else', () => {
    expect(rules(render('cni').docs, 'ClusterRole')).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'patch'] },
      { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] },
    ]);
  });
  it('istiod writes Secrets and Leases only in its namespace and never escalates', () => {
    const { docs } = render('istiod');
    const cluster = rules(docs, 'ClusterRole');
    const writes = (r) => r.verbs.some((v) => ['create', 'update', 'patch', 'delete', '*'].includes(v));
    expect(cluster.filter((r) => r.resources.includes('secrets')).every((r) => !writes(r))).toBe(true);
    expect(cluster.some((r) => r.resources.includes('leases'))).toBe(false);
    expect(cluster.flatMap((r) => r.verbs)).not.toContain('*');
    expect(cluster.flatMap((r) => r.resources).filter((x) => ['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings'].includes(x))).toEqual([]);
    expect(rules(docs, 'Role').flatMap((r) => r.resources).sort()).toEqual(['leases', 'secrets']);
    expect(cluster).toContainEqual({ apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] });
  });
});

describe('renderer semantics', () => {
  it('--set and values files override, with profile values applied', () => {
    const d = find(render('istiod', { values: [profile('istiod')], set: ['replicaCount=3,tag=dev'] }).docs, 'Deployment');
    expect(d.spec.replicas).toBe(3);
    expect(d.spec.template.spec.containers[0].image).toBe('mesh/istiod:dev');
  });
});
