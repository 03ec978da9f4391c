import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** What globalSetup hands every test file (vitest provide/inject: plain JSON). */
export interface E2eContext {
  driver: 'local' | 'kind';
  cluster: string;
  meshctl: string;
  nodes: number;
  componentEnv: Record<string, string>;
  /** Set when the suite cannot run here at all (bundle not built, not root, ...): tests skip with this reason. */
  skipReason?: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    e2e: E2eContext;
  }
}

export const E2E_NODES = 2;
/**
 * Short workload certificate lifetime for the whole run, so scenario 7 sees rotations within seconds
 * (ztunnel requests SECRET_TTL as the CSR validity_duration, like Istio's ztunnel).
 */
export const E2E_SECRET_TTL = '20s';
export const E2E_SECRET_TTL_MS = 20_000;

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function bundlePath(pkg: string, name: string): string {
  return path.join(REPO_ROOT, 'packages', pkg, 'dist', `${name}.mjs`);
}

/** Bundles the local driver needs; a missing one skips the suite (nothing is faked), a broken one fails it. */
export function missingBundles(): string[] {
  const need = [bundlePath('meshctl', 'meshctl'), bundlePath('meshctl', 'echo'), bundlePath('istiod', 'istiod'), bundlePath('ztunnel', 'ztunnel'), bundlePath('cni', 'cni-agent'), bundlePath('cni', 'istio-cni')];
  return need.filter((f) => !fs.existsSync(f));
}

/** Cluster names are at most 16 chars (meshctl): unique per run so parallel runs never share one. */
export function uniqueClusterName(): string {
  return `e2e-${(process.pid % 46656).toString(36)}${Date.now().toString(36).slice(-4)}`;
}
