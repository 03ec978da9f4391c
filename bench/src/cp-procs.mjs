/* global fetch, performance, process */
// Processes of the control-plane benchmark: the bundled istiod (tools/bundle.mjs istiod) and the client
// load process (bench/src/cp-clients.ts bundled with esbuild), both registered for cleanup in sys.mjs.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startChild, waitFor } from './sys.mjs';

export const SERVER_NAME = 'istiod.istio-system.svc';
const READY_TIMEOUT_MS = 120_000;
const BANNER = "import { createRequire as __c } from 'node:module'; const require = __c(import.meta.url);";

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export async function bundleAll(repoRoot) {
  execFileSync(process.execPath, [path.join(repoRoot, 'tools', 'bundle.mjs'), 'istiod'], { cwd: repoRoot, stdio: 'pipe' });
  const { build } = await import('esbuild');
  const outfile = path.join(repoRoot, 'bench', 'dist', 'cp-clients.mjs');
  fs.mkdirSync(path.dirname(outfile), { recursive: true });
  await build({
    entryPoints: [path.join(repoRoot, 'bench', 'src', 'cp-clients.ts')], outfile, bundle: true, platform: 'node',
    target: 'node20', format: 'esm', banner: { js: BANNER }, logLevel: 'error', absWorkingDir: repoRoot,
  });
  return { istiod: path.join(repoRoot, 'packages', 'istiod', 'dist', 'istiod.mjs'), clients: outfile };
}

/** Starts istiod on loopback with the directory config source; resolves once /ready answers 200. */
export async function startIstiod({ bundle, dir, state, debounceAfterMs, extraEnv = {} }) {
  const ports = { grpc: await freePort(), mon: await freePort(), ready: await freePort() };
  const rootCertFile = path.join(dir, 'out', 'root-cert.pem');
  const env = {
    CONFIG_SOURCE: `dir:${state.configDir}`, AUTH_TOKENS_FILE: state.tokensFile, CA_STATE_DIR: path.join(dir, 'ca'),
    CACERTS_DIR: path.join(dir, 'no-cacerts'), ROOT_CERT_OUTPUT: rootCertFile, BIND_ADDRESS: '127.0.0.1',
    GRPC_PORT: String(ports.grpc), MONITORING_PORT: String(ports.mon), READINESS_PORT: String(ports.ready),
    PILOT_DEBOUNCE_AFTER: `${debounceAfterMs}ms`, LOG_LEVEL: 'warn',
  };
  const t0 = performance.now();
  // BENCH_CP_ISTIOD_NODE_ARGS: extra node flags for profiling while iterating (e.g. --cpu-prof), never in recorded runs.
  const extra = (process.env.BENCH_CP_ISTIOD_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = startChild('istiod', process.execPath, [...extra, bundle], { env: { ...env, ...extraEnv } });
  await waitFor(async () => {
    if (proc.child.exitCode !== null) throw new Error(`istiod exited: ${proc.output.slice(-600)}`);
    return (await fetch(`http://127.0.0.1:${ports.ready}/ready`)).status === 200;
  }, READY_TIMEOUT_MS, 'istiod /ready').catch((e) => {
    throw new Error(`${e.message}; istiod output: ${proc.output.slice(-600).trim()}`);
  });
  return { proc, ports, rootCertFile, startupMs: performance.now() - t0, address: `127.0.0.1:${ports.grpc}` };
}

/** Sum of pilot_xds_pushes over types, from istiod's /metrics. */
export async function pushesTotal(istiod) {
  const text = await (await fetch(`http://127.0.0.1:${istiod.ports.mon}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(/^pilot_xds_pushes(?:\{[^}]*\})? ([0-9.e+]+)$/gm)) sum += Number(m[1]);
  return sum;
}

/** VmHWM (peak RSS) of a process, bytes. */
export function peakRssBytes(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
