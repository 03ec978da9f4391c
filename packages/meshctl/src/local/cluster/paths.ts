import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClusterError } from './errors';

/** Where everything of one local cluster lives (a tmpfs under /run: a reboot is a clean `down`). */
export interface ClusterPaths {
  stateDir: string;
  /** istiod's config source and the CNI agents' pod/namespace source: one file per object. */
  configDir: string;
  /** Bearer tokens istiod accepts (the stand-in for TokenReview). */
  tokensFile: string;
  /** istiod writes its root certificate here; ztunnels verify istiod with it. */
  certsDir: string;
  rootCertFile: string;
  logsDir: string;
  /** Components, pods' uids and container specs; LocalNetwork keeps its own state.json beside it. */
  clusterFile: string;
}

export function clusterPaths(stateDir: string): ClusterPaths {
  const certsDir = path.join(stateDir, 'certs');
  return {
    stateDir,
    configDir: path.join(stateDir, 'config'),
    tokensFile: path.join(stateDir, 'tokens.yaml'),
    certsDir,
    rootCertFile: path.join(certsDir, 'root-cert.pem'),
    logsDir: path.join(stateDir, 'logs'),
    clusterFile: path.join(stateDir, 'cluster.json'),
  };
}

/** Per-node directories: nodes are netns on one machine, so each needs its own "host" paths. */
export interface NodePaths {
  dir: string;
  /** cni_agent_run_dir: pluginevent.sock and plugin.log. */
  cniRunDir: string;
  /** ZDS socket shared by the node's CNI agent (server) and ztunnel (client). */
  ztunnelSocket: string;
  /** The node's ztunnel token, as a projected SA token file would be. */
  ztunnelTokenFile: string;
}

export function nodePaths(stateDir: string, node: string): NodePaths {
  const dir = path.join(stateDir, 'nodes', node);
  return {
    dir,
    cniRunDir: path.join(dir, 'istio-cni'),
    ztunnelSocket: path.join(dir, 'ztunnel', 'ztunnel.sock'),
    ztunnelTokenFile: path.join(dir, 'tokens', 'istio-token'),
  };
}

export interface Bundles {
  repoRoot: string;
  meshctl: string;
  echo: string;
  istiod: string;
  ztunnel: string;
  cniPlugin: string;
  cniAgent: string;
  waypoint: string;
}

/** The bundles `tools/bundle.mjs` writes; a missing one means that component is skipped, never faked. */
export function bundlesIn(repoRoot: string): Bundles {
  const dist = (pkg: string, name: string) => path.join(repoRoot, 'packages', pkg, 'dist', `${name}.mjs`);
  return {
    repoRoot,
    meshctl: dist('meshctl', 'meshctl'),
    echo: dist('meshctl', 'echo'),
    istiod: dist('istiod', 'istiod'),
    ztunnel: dist('ztunnel', 'ztunnel'),
    cniPlugin: dist('cni', 'istio-cni'),
    cniAgent: dist('cni', 'cni-agent'),
    waypoint: dist('waypoint', 'waypoint'),
  };
}

/**
 * The checkout this code runs from: the bundle sits in packages/meshctl/dist, the source in
 * packages/meshctl/src/...; walk up to the directory holding packages/meshctl/package.json.
 */
export function findRepoRoot(start: string = path.dirname(fileURLToPath(import.meta.url))): string {
  let dir = path.resolve(start);
  for (;;) {
    if (fs.existsSync(path.join(dir, 'packages', 'meshctl', 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new ClusterError('CLUSTER_REPO_NOT_FOUND', `cannot find the mesh checkout above ${start}; run meshctl from the repository`);
    }
    dir = parent;
  }
}

export function exists(file: string): boolean {
  return fs.existsSync(file);
}
