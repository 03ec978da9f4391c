import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseManifests, type Namespace, type Pod } from '@mesh/api';
import type { Logger } from '@mesh/core';
import { podKey, type PodSource, type PodSourceHandlers, type WatchEventType } from './pod-source';

/** fs.watch may coalesce or drop events; a periodic rescan bounds how stale the cache can get. */
export const DIRECTORY_RESCAN_INTERVAL_MS = 2_000;
/** Editors write files in several steps; one rescan after the burst. */
const WATCH_DEBOUNCE_MS = 30;
const MANIFEST_FILE_RE = /\.(ya?ml|json)$/;

interface Entry<T> {
  readonly obj: T;
  readonly file: string;
  readonly version: string;
}

export interface DirectoryPodSourceOptions {
  readonly dir: string;
  readonly nodeName: string;
  readonly logger: Logger;
  readonly rescanIntervalMs?: number;
}

/**
 * Pods and Namespaces from a folder of manifests (the local cluster's stand-in for the API server),
 * parsed with @mesh/api parseManifests; other kinds are ignored, pods of other nodes too. Pods
 * without metadata.uid get a stable one derived from namespace/name, since ZDS keys pods by uid.
 */
export class DirectoryPodSource implements PodSource {
  readonly #opts: DirectoryPodSourceOptions;
  #pods = new Map<string, Entry<Pod>>();
  #namespaces = new Map<string, Entry<Namespace>>();
  #handlers: PodSourceHandlers | undefined;
  #watcher: FSWatcher | undefined;
  #interval: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #scanning: Promise<void> = Promise.resolve();

  constructor(opts: DirectoryPodSourceOptions) {
    this.#opts = opts;
  }

  async start(handlers: PodSourceHandlers): Promise<void> {
    await this.#scan(false);
    this.#handlers = handlers;
    this.#watcher = watch(this.#opts.dir, { recursive: true }, () => this.#schedule());
    this.#watcher.on('error', (err) => this.#opts.logger.warn({ err }, 'pod directory watch failed; relying on rescans'));
    this.#interval = setInterval(() => void this.resync(), this.#opts.rescanIntervalMs ?? DIRECTORY_RESCAN_INTERVAL_MS);
  }

  async stop(): Promise<void> {
    this.#watcher?.close();
    clearInterval(this.#interval);
    clearTimeout(this.#debounce);
    this.#handlers = undefined;
    await this.#scanning;
  }

  listPods(): readonly Pod[] {
    return [...this.#pods.values()].map((e) => e.obj);
  }

  getPod(namespace: string, name: string): Pod | undefined {
    return this.#pods.get(podKey(namespace, name))?.obj;
  }

  getNamespace(name: string): Namespace | undefined {
    return this.#namespaces.get(name)?.obj;
  }

  /** File a pod was read from (for the directory annotator). */
  fileOf(namespace: string, name: string): string | undefined {
    return this.#pods.get(podKey(namespace, name))?.file;
  }

  /** Rescans now; resolves when the cache (and emitted events) reflect the files. */
  resync(): Promise<void> {
    this.#scanning = this.#scanning.then(() => this.#scan(true)).catch((err: unknown) => {
      this.#opts.logger.warn({ err }, 'pod directory rescan failed');
    });
    return this.#scanning;
  }

  #schedule(): void {
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => void this.resync(), WATCH_DEBOUNCE_MS);
  }

  async #scan(emit: boolean): Promise<void> {
    const pods = new Map<string, Entry<Pod>>();
    const namespaces = new Map<string, Entry<Namespace>>();
    for (const file of await this.#files()) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch {
        continue; // removed between readdir and read
      }
      for (const obj of parseManifests(text, file).objects) {
        if (obj.kind === 'Namespace') namespaces.set(obj.metadata.name, entry(obj as Namespace, file));
        if (obj.kind === 'Pod') this.#addPod(pods, obj as Pod, file);
      }
    }
    const oldPods = this.#pods;
    const oldNamespaces = this.#namespaces;
    this.#pods = pods;
    this.#namespaces = namespaces;
    if (!emit || !this.#handlers) return;
    const h = this.#handlers;
    // Namespaces first: a pod event then sees the namespace labels it depends on.
    diff(oldNamespaces, namespaces, (type, obj, old) => h.onNamespace({ type, namespace: obj, old }));
    diff(oldPods, pods, (type, obj, old) => h.onPod({ type, pod: obj, old }));
  }

  #addPod(pods: Map<string, Entry<Pod>>, pod: Pod, file: string): void {
    if (pod.spec.nodeName !== this.#opts.nodeName) return;
    const namespace = pod.metadata.namespace ?? 'default';
    const uid = pod.metadata.uid ?? syntheticUid(namespace, pod.metadata.name);
    const full: Pod = { ...pod, metadata: { ...pod.metadata, namespace, uid } };
    pods.set(podKey(namespace, pod.metadata.name), entry(full, file));
  }

  async #files(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.#opts.dir, { recursive: true });
    } catch (err) {
      this.#opts.logger.warn({ err, dir: this.#opts.dir }, 'cannot read the pod directory; does it exist?');
      return [];
    }
    return names.filter((n) => MANIFEST_FILE_RE.test(n)).sort().map((n) => join(this.#opts.dir, n));
  }
}

function entry<T>(obj: T, file: string): Entry<T> {
  return { obj, file, version: JSON.stringify(obj) };
}

function diff<T>(before: Map<string, Entry<T>>, after: Map<string, Entry<T>>, emit: (t: WatchEventType, obj: T, old: T | undefined) => void): void {
  for (const [k, e] of after) {
    const old = before.get(k);
    if (!old) emit('add', e.obj, undefined);
    else if (old.version !== e.version) emit('update', e.obj, old.obj);
  }
  for (const [k, e] of before) if (!after.has(k)) emit('delete', e.obj, undefined);
}

/** A UUID-shaped id that stays the same for a namespace/name across agent restarts. */
export function syntheticUid(namespace: string, name: string): string {
  const h = createHash('sha256').update(`mesh.local/pod/${namespace}/${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
