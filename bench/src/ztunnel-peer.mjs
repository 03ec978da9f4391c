/* global process */
// The ztunnel pair: bundles bench/src/ztunnel-node.ts with esbuild (as tools/bundle.mjs does for apps) and
// starts one process per node, each serving one pod of the in-pod pod pair.
import fs from 'node:fs';
import path from 'node:path';
import { startChild, waitFor } from './sys.mjs';

const READY_TIMEOUT_MS = 20_000;
// The ztunnel image's node flags (images/ztunnel/Dockerfile ENTRYPOINT), so the pair runs as deployed.
export const ZTUNNEL_NODE_FLAGS = ['--max-semi-space-size=2'];
const BANNER = "import { createRequire as __c } from 'node:module'; const require = __c(import.meta.url);";

export async function bundleZtunnelNode(repoRoot) {
  const entry = path.join(repoRoot, 'bench', 'src', 'ztunnel-node.ts');
  const outDir = path.join(repoRoot, 'bench', 'dist');
  const addon = path.join(repoRoot, 'packages', 'netns', 'build', 'Release', 'mesh_netns.node');
  if (!fs.existsSync(addon)) throw new Error(`the netns addon is not built (${addon}); run npm run build:native -w @mesh/netns`);
  const { build } = await import('esbuild');
  fs.mkdirSync(outDir, { recursive: true });
  const outfile = path.join(outDir, 'ztunnel-node.mjs');
  // The data-path worker entry goes beside the node bundle, where ZtunnelApp looks for it (ZTUNNEL_WORKER_THREADS > 1).
  const workerEntry = path.join(repoRoot, 'packages', 'ztunnel', 'src', 'worker', 'worker-main.ts');
  for (const [input, output] of [[entry, outfile], [workerEntry, path.join(outDir, 'ztunnel-worker.mjs')]]) {
    await build({
      entryPoints: [input], outfile: output, bundle: true, platform: 'node', target: 'node20', format: 'esm',
      banner: { js: BANNER }, external: ['*.node'], logLevel: 'error', absWorkingDir: repoRoot,
    });
  }
  fs.copyFileSync(addon, path.join(outDir, 'mesh_netns.node'));
  return outfile;
}

/**
 * Data-path event loops per ztunnel, as the ztunnel env var names it: `ZTUNNEL_WORKER_THREADS=2 npm run bench -- l4`
 * runs the pair with 2 worker threads each (default 1, the single-loop path).
 */
export function benchWorkerThreads(env = process.env) {
  const n = Number(env.ZTUNNEL_WORKER_THREADS ?? '1');
  if (!Number.isInteger(n) || n < 1) throw new Error(`ZTUNNEL_WORKER_THREADS=${env.ZTUNNEL_WORKER_THREADS}: expected an integer >= 1`);
  return n;
}

/** Starts both ztunnels; resolves { pids(), stop() } or throws with the reason the pair is not available. */
export async function startZtunnelPair({ bundle, pods, certs, tmpDir }) {
  const workerThreads = benchWorkerThreads();
  const podList = [
    { name: 'client', namespace: 'bench-a', sa: 'client', ip: pods.client.ip, netns: `/var/run/netns/${pods.client.ns}`, node: 'node-a' },
    { name: 'server', namespace: 'bench-b', sa: 'server', ip: pods.server.ip, netns: `/var/run/netns/${pods.server.ns}`, node: 'node-b' },
  ];
  const procs = podList.map((p) => {
    const env = {
      BENCH_ZTUNNEL: JSON.stringify({
        caCertFile: certs.ca, caKeyFile: certs.caKey, pods: podList, hostPod: p.name, zdsPath: path.join(tmpDir, `zds-${p.name}.sock`), workerThreads,
      }),
    };
    return startChild(`ztunnel-${p.node}`, process.execPath, [...ZTUNNEL_NODE_FLAGS, bundle], { env });
  });
  for (const z of procs) {
    await waitFor(() => {
      if (z.child.exitCode !== null) throw new Error(`${z.label} exited: ${z.output.slice(-400)}`);
      return z.output.includes('ZTUNNEL READY');
    }, READY_TIMEOUT_MS, `${z.label} to start`).catch((e) => {
      throw new Error(`${e.message}; output: ${z.output.slice(-400).trim()}`);
    });
  }
  return { procs };
}
