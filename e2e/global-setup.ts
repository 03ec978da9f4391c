import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { driverFor } from './drivers';
import { LocalDriver } from './drivers/local';
import { E2E_NODES, E2E_SECRET_TTL, bundlePath, missingBundles, uniqueClusterName, type E2eContext } from './lib/config';

/**
 * One cluster for the whole run (files run one after another, each in its own namespaces). The local cluster
 * is created here and ALWAYS removed in teardown; a kind cluster is created beforehand by kind/ scripts.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const driver = process.env['E2E_DRIVER'] === 'kind' ? 'kind' : 'local';
  const ctx: E2eContext = {
    driver,
    cluster: driver === 'kind' ? (process.env['KIND_CLUSTER'] ?? 'mesh') : uniqueClusterName(),
    meshctl: bundlePath('meshctl', 'meshctl'),
    nodes: E2E_NODES,
    componentEnv: { SECRET_TTL: E2E_SECRET_TTL },
  };
  if (driver === 'kind') {
    project.provide('e2e', ctx);
    return undefined;
  }
  const missing = missingBundles();
  if (missing.length) ctx.skipReason = `component bundles not built (run \`npx nx run-many -t build\`): ${missing.join(', ')}`;
  else if (process.getuid?.() !== 0) ctx.skipReason = 'the local driver needs root (ip netns, veth, iptables)';
  if (ctx.skipReason) {
    project.provide('e2e', ctx);
    return undefined;
  }
  const local = driverFor(ctx) as LocalDriver;
  const teardown = async () => {
    await local.keepLogs(path.join(os.tmpdir(), 'mesh-e2e-logs', ctx.cluster)).catch(() => undefined);
    await local.destroy().catch((e: unknown) => console.error(`e2e: removing cluster ${ctx.cluster} failed:`, e));
  };
  try {
    const up = await local.up();
    if (up.skipped.length) {
      ctx.skipReason = `meshctl skipped components: ${up.skipped.map((s) => `${s.name}${s.node ? `@${s.node}` : ''} (${s.reason})`).join('; ')}`;
    }
  } catch (e) {
    await teardown();
    throw e;
  }
  project.provide('e2e', ctx);
  return teardown;
}
