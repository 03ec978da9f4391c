// One source of truth: every env var a chart sets must be registered (defineConfig) by the component it
// configures, its value must parse, and container ports must equal the components' port constants.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildRenderer, renderChart, repoRoot } from './helm-render.mjs';

let bin;
beforeAll(() => { bin = buildRenderer(); }, 120_000);

/** Component -> its config module, the registry export, the chart, and the workload it configures. */
const COMPONENTS = [
  { name: 'istiod', module: 'packages/istiod/src/app/config.ts', registry: 'istiodConfig', chart: 'istiod', kind: 'Deployment' },
  { name: 'ztunnel', module: 'packages/ztunnel/src/app/config.ts', registry: 'ztunnelConfig', chart: 'ztunnel', kind: 'DaemonSet' },
  { name: 'cni', module: 'packages/cni/src/nodeagent/config.ts', registry: 'agentConfig', chart: 'cni', kind: 'DaemonSet' },
  { name: 'waypoint', module: 'packages/waypoint/src/app/config.ts', registry: 'waypointConfig', chart: 'gateway', kind: 'Deployment' },
];

// Stand-ins for downward-API values (fieldRef) so the registry can parse the whole environment.
const FIELD_REF_SAMPLE = { 'spec.nodeName': 'node-1', 'metadata.name': 'pod-1', 'metadata.namespace': 'istio-system', 'status.podIP': '10.0.0.1', 'spec.serviceAccountName': 'sa' };

function container(c, values = []) {
  const { docs } = renderChart(bin, { name: c.chart, chart: c.chart, values });
  const workload = docs.find((d) => d.object.kind === c.kind).object;
  return workload.spec.template.spec.containers[0];
}

const envOf = (ctr) => Object.fromEntries(ctr.env.map((e) => [e.name, e.value ?? FIELD_REF_SAMPLE[e.valueFrom.fieldRef.fieldPath]]));

for (const c of COMPONENTS) {
  const present = fs.existsSync(path.join(repoRoot, c.module));
  describe(`${c.name} chart vs ${c.module}`, () => {
    it.skipIf(!present)(`every env var is registered and parses${present ? '' : ` (SKIPPED: ${c.module} does not exist yet)`}`, async () => {
      const mod = await import(path.join(repoRoot, c.module));
      const registry = mod[c.registry];
      const known = new Set(Object.entries(registry.specs).flatMap(([n, s]) => [n, ...(s.aliases ?? [])]));
      for (const values of [[], [path.join(repoRoot, 'charts', c.chart, 'files', 'profile-ambient.yaml')]]) {
        const env = envOf(container(c, values));
        expect(Object.keys(env).filter((n) => !known.has(n)), `env vars ${c.chart} sets that ${c.name} does not register`).toEqual([]);
        expect(() => registry.parse(env)).not.toThrow();
      }
    });
  });
}

describe('ports match the components\' constants', () => {
  const istiod = path.join(repoRoot, 'packages/istiod/src/app/config.ts');
  it.skipIf(!fs.existsSync(istiod))('istiod: gRPC, monitoring and readiness ports', async () => {
    const m = await import(istiod);
    const ctr = container(COMPONENTS[0]);
    expect(ctr.ports.map((p) => p.containerPort).sort()).toEqual([m.ISTIOD_GRPC_PORT, m.ISTIOD_MONITORING_PORT, m.ISTIOD_READINESS_PORT].sort());
    expect(ctr.readinessProbe.httpGet.port).toBe(m.ISTIOD_READINESS_PORT);
    const svc = renderChart(bin, { name: 'istiod', chart: 'istiod' }).docs.find((d) => d.object.kind === 'Service').object;
    expect(svc.spec.ports.map((p) => p.port).sort()).toEqual([m.ISTIOD_GRPC_PORT, m.ISTIOD_MONITORING_PORT].sort());
  });

  const ztunnel = path.join(repoRoot, 'packages/ztunnel/src/app/config.ts');
  it.skipIf(!fs.existsSync(ztunnel))('ztunnel: stats and readiness ports are the registry defaults', async () => {
    const { ztunnelConfig } = await import(ztunnel);
    const defaults = ztunnelConfig.parse({});
    const ctr = container(COMPONENTS[1]);
    expect(ctr.ports.map((p) => p.containerPort).sort()).toEqual([defaults.STATS_PORT, defaults.READINESS_PORT].sort());
    expect(ctr.readinessProbe.httpGet.port).toBe(defaults.READINESS_PORT);
    expect(ctr.ports.map((p) => p.containerPort)).not.toContain(defaults.ADMIN_PORT);
  });

  const cni = path.join(repoRoot, 'packages/cni/src/nodeagent/config.ts');
  it.skipIf(!fs.existsSync(cni))('cni: readiness port is DEFAULT_READINESS_PORT', async () => {
    const { DEFAULT_READINESS_PORT } = await import(cni);
    const ctr = container(COMPONENTS[2]);
    expect(ctr.ports.map((p) => p.containerPort)).toEqual([DEFAULT_READINESS_PORT]);
    expect(ctr.readinessProbe.httpGet.port).toBe(DEFAULT_READINESS_PORT);
  });
});
