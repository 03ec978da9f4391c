#!/usr/bin/env node
// Generates files/crd-all.gen.yaml: the Istio CRDs this mesh reads, with structural OpenAPI v3 schemas so
// the API server (and `kubectl apply --validate`) checks fields. Shapes follow istio/api's protos; parts
// Istio leaves open (match rules, JWT rules, telemetry providers, status) keep unknown fields.
// Usage: node charts/base/gen-crds.mjs [--check]   (--check exits 1 when the file is stale)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

const OUT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'files', 'crd-all.gen.yaml');

const str = (description) => ({ type: 'string', ...(description ? { description } : {}) });
const int = (min, max) => ({ type: 'integer', minimum: min, maximum: max });
const strList = () => ({ type: 'array', items: { type: 'string' } });
const strMap = () => ({ type: 'object', additionalProperties: { type: 'string' } });
const open = (description) => ({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true, ...(description ? { description } : {}) });
const openList = () => ({ type: 'array', items: open() });
const obj = (properties, required) => ({ type: 'object', properties, ...(required ? { required } : {}) });
const enumOf = (...values) => ({ type: 'string', enum: values });
const port = () => int(0, 4294967295);

const workloadSelector = () => obj({ matchLabels: strMap() });
const policyTargetRef = () => obj({ group: str(), kind: str(), name: str(), namespace: str() }, ['kind', 'name']);
const targeting = () => ({ selector: workloadSelector(), targetRef: policyTargetRef(), targetRefs: { type: 'array', items: policyTargetRef() } });

const workloadEntry = () => obj({
  address: str('IP, hostname or unix:// path of the workload'),
  ports: { type: 'object', additionalProperties: port() },
  labels: strMap(),
  network: str(),
  locality: str(),
  weight: int(0, 4294967295),
  serviceAccount: str(),
});

/** One entry per CRD: group, kind, plural, shortNames, spec schema. */
const CRDS = [
  { group: 'networking.istio.io', kind: 'VirtualService', plural: 'virtualservices', shortNames: ['vs'], spec: obj({
    hosts: strList(), gateways: strList(), exportTo: strList(), http: openList(), tcp: openList(), tls: openList(),
  }) },
  { group: 'networking.istio.io', kind: 'DestinationRule', plural: 'destinationrules', shortNames: ['dr'], spec: obj({
    host: str('Service name (FQDN or short name) the rule applies to'),
    trafficPolicy: open(),
    subsets: { type: 'array', items: obj({ name: str(), labels: strMap(), trafficPolicy: open() }, ['name']) },
    exportTo: strList(),
    workloadSelector: workloadSelector(),
  }, ['host']) },
  { group: 'networking.istio.io', kind: 'ServiceEntry', plural: 'serviceentries', shortNames: ['se'], spec: obj({
    hosts: strList(),
    addresses: strList(),
    ports: { type: 'array', items: obj({ number: port(), protocol: str(), name: str(), targetPort: port() }, ['number', 'name']) },
    location: enumOf('MESH_EXTERNAL', 'MESH_INTERNAL'),
    resolution: enumOf('NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN'),
    endpoints: { type: 'array', items: workloadEntry() },
    workloadSelector: obj({ labels: strMap() }),
    exportTo: strList(),
    subjectAltNames: strList(),
  }, ['hosts']) },
  { group: 'networking.istio.io', kind: 'WorkloadEntry', plural: 'workloadentries', shortNames: ['we'], spec: workloadEntry() },
  { group: 'networking.istio.io', kind: 'Gateway', plural: 'gateways', shortNames: ['gw'], spec: obj({
    selector: strMap(), servers: openList(),
  }) },
  { group: 'security.istio.io', kind: 'AuthorizationPolicy', plural: 'authorizationpolicies', shortNames: ['ap'], spec: obj({
    ...targeting(),
    action: enumOf('ALLOW', 'DENY', 'AUDIT', 'CUSTOM'),
    provider: obj({ name: str() }),
    rules: { type: 'array', items: obj({
      from: { type: 'array', items: obj({ source: open() }) },
      to: { type: 'array', items: obj({ operation: open() }) },
      when: { type: 'array', items: obj({ key: str(), values: strList(), notValues: strList() }, ['key']) },
    }) },
  }) },
  { group: 'security.istio.io', kind: 'PeerAuthentication', plural: 'peerauthentications', shortNames: ['pa'], spec: obj({
    selector: workloadSelector(),
    mtls: obj({ mode: enumOf('UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT') }),
    portLevelMtls: { type: 'object', additionalProperties: obj({ mode: enumOf('UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT') }) },
  }) },
  { group: 'security.istio.io', kind: 'RequestAuthentication', plural: 'requestauthentications', shortNames: ['ra'], spec: obj({
    ...targeting(), jwtRules: openList(),
  }) },
  { group: 'telemetry.istio.io', kind: 'Telemetry', plural: 'telemetries', shortNames: ['telemetry'], spec: obj({
    ...targeting(), tracing: openList(), metrics: openList(), accessLogging: openList(),
  }) },
];

function version(name, storage, spec) {
  return {
    name, served: true, storage,
    subresources: { status: {} },
    schema: { openAPIV3Schema: {
      type: 'object',
      properties: { spec, status: open('Written by istiod; shape follows istio/api meta.v1alpha1.IstioStatus') },
    } },
  };
}

function crd({ group, kind, plural, shortNames, spec }) {
  const singular = kind.toLowerCase();
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}`, labels: { app: 'istio-pilot', istio: group.split('.')[0] === 'networking' ? 'networking' : group.split('.')[0] } },
    spec: {
      group,
      names: { kind, listKind: `${kind}List`, plural, singular, shortNames, categories: ['istio-io', group.split('.')[0] + '-istio-io'] },
      scope: 'Namespaced',
      // v1 is the storage version; v1beta1 stays served (same schema) for older clients, as in Istio >= 1.22.
      versions: [version('v1', true, spec), version('v1beta1', false, spec)],
    },
  };
}

export function generate() {
  const header = '# Generated by charts/base/gen-crds.mjs. DO NOT EDIT.\n';
  return header + CRDS.map((c) => stringify(crd(c), { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = generate();
  if (process.argv.includes('--check')) {
    const current = fs.existsSync(OUT) ? fs.readFileSync(OUT, 'utf8') : '';
    if (current !== text) {
      process.stderr.write(`${OUT} is stale: run node charts/base/gen-crds.mjs\n`);
      process.exit(1);
    }
  } else {
    fs.writeFileSync(OUT, text);
  }
}
