import { readdir, readFile, stat } from 'node:fs/promises';
import type { Pod } from '@mesh/api';

/** Local-cluster pods name their netns in this annotation (`/var/run/netns/<name>` or an `ip netns` name). */
export const NETNS_PATH_ANNOTATION = 'mesh.local/netns';
const NAMED_NETNS_DIR = '/var/run/netns';

/** Finds the network namespace of an already-running pod (Istio PodNetnsFinder). */
export interface NetnsResolver {
  /** A path that can be opened as the pod's netns, or undefined when the pod has no sandbox here. */
  resolve(pod: Pod): Promise<string | undefined>;
}

/** Local mode: the path the pod's manifest carries in `mesh.local/netns`. */
export class AnnotationNetnsResolver implements NetnsResolver {
  async resolve(pod: Pod): Promise<string | undefined> {
    const raw = pod.metadata.annotations?.[NETNS_PATH_ANNOTATION];
    if (raw === undefined || raw === '') return undefined;
    const path = raw.includes('/') ? raw : `${NAMED_NETNS_DIR}/${raw}`;
    return (await exists(path)) ? path : undefined;
  }
}

/**
 * Kubernetes mode (I:cni/pkg/nodeagent/podcgroupns_linux.go): scans /proc/<pid>/cgroup for a cgroup
 * path containing the pod UID (systemd drivers spell its dashes as underscores) and returns that
 * process's /proc/<pid>/ns/net, skipping processes in the agent's own (host) netns, e.g. ones that
 * run with hostNetwork.
 */
export class ProcCgroupNetnsResolver implements NetnsResolver {
  readonly #procRoot: string;

  constructor(procRoot = '/proc') {
    this.#procRoot = procRoot;
  }

  async resolve(pod: Pod): Promise<string | undefined> {
    const uid = pod.metadata.uid;
    if (!uid) return undefined;
    const needles = [uid, uid.replaceAll('-', '_')];
    const hostIno = await inode(`${this.#procRoot}/self/ns/net`);
    for (const pid of await this.#pids()) {
      let cgroup: string;
      try {
        cgroup = await readFile(`${this.#procRoot}/${pid}/cgroup`, 'utf8');
      } catch {
        continue; // the process exited meanwhile
      }
      if (!needles.some((n) => cgroup.includes(n))) continue;
      const nsPath = `${this.#procRoot}/${pid}/ns/net`;
      const ino = await inode(nsPath);
      if (ino !== undefined && ino !== hostIno) return nsPath;
    }
    return undefined;
  }

  async #pids(): Promise<string[]> {
    const names = await readdir(this.#procRoot);
    return names.filter((n) => /^\d+$/.test(n));
  }
}

/** Tries each resolver in order. */
export class ChainNetnsResolver implements NetnsResolver {
  readonly #resolvers: readonly NetnsResolver[];

  constructor(resolvers: readonly NetnsResolver[]) {
    this.#resolvers = resolvers;
  }

  async resolve(pod: Pod): Promise<string | undefined> {
    for (const r of this.#resolvers) {
      const path = await r.resolve(pod);
      if (path !== undefined) return path;
    }
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  return (await inode(path)) !== undefined;
}

async function inode(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).ino;
  } catch {
    return undefined;
  }
}
