import { createHash } from 'node:crypto';
import { statSync, watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseManifests, type Namespace, type Pod } from '@mesh/api';
import type { Logger } from '@mesh/core';
import { podKey, type PodSource, type PodSourceHandlers, type WatchEventType } from './pod-source';

/** fs.watch may coalesce or drop events; a periodic rescan bounds how stale the cache can get. */
export const DIRECTORY_RESCAN_INTERVAL_MS = 2_000;
/** Editors write files in several steps; one rescan after the burst. */
const WATCH_DEBOUNCE_MS = 30;
const MANIFEST_FILE_RE = /\.(ya?ml|json)$/;
/** Temporary files (the annotator's write-then-rename, editors' swap files) change no manifest. */
const TEMP_FILE_RE = /\.(tmp|swp)$|~$/;
/**
 * A file whose stat is unchanged is not re-parsed on rescans, unless its mtime is this close to when
 * it was read: a same-size rewrite within one coarse kernel clock tick keeps the mtime (git's "racily
 * clean" problem), so such entries are re-read until they are old enough to be trusted.
 */
const RACY_MTIME_MARGIN_MS = 1_000;

interface ParsedFile {
  /** ino:size:mtime, from the stat taken before the read. */
  readonly statKey: string;
  readonly mtimeMs: number;
  readonly readAtMs: number;
  /** The text parsed: a racy entry whose text is unchanged is not parsed again. */
  readonly text: string;
  readonly objects: readonly { readonly kind: string }[];
}

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
  readonly #parsed = new Map<string, ParsedFile>();
  #changed: Set<string> | 'all' = new Set();

  constructor(opts: DirectoryPodSourceOptions) {
    this.#opts = opts;
  }

  async start(handlers: PodSourceHandlers): Promise<void> {
    await this.#scan(false);
    this.#handlers = handlers;
    this.#watcher = watch(this.#opts.dir, { recursive: true }, (_event, name) => this.#onWatch(name));
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
    return this.#serialized(() => this.#scan(true));
  }

  /**
   * Re-reads just `file` (the annotator's own write) and emits its changes: an ADD must not pay for
   * a rescan of every manifest. Serialized with rescans, so events stay in file order.
   */
  refreshFile(file: string, written?: string): Promise<void> {
    return this.#serialized(async () => {
      const pods = new Map([...this.#pods].filter(([, e]) => e.file !== file));
      const namespaces = new Map([...this.#namespaces].filter(([, e]) => e.file !== file));
      this.#parsed.delete(file);
      this.#collect(written === undefined ? await this.#load(file) : this.#loadWritten(file, written), file, pods, namespaces);
      this.#commit(pods, namespaces, true);
    });
  }

  #serialized(work: () => Promise<void>): Promise<void> {
    this.#scanning = this.#scanning.then(work).catch((err: unknown) => {
      this.#opts.logger.warn({ err }, 'pod directory rescan failed');
    });
    return this.#scanning;
  }

  /**
   * Watch events are debounced, then dropped when every file they name still has the stat it was last
   * parsed with: the events of the annotator's own writes (already applied by refreshFile) cost nothing.
   */
  #onWatch(name: string | null): void {
    if (name !== null && TEMP_FILE_RE.test(name)) return;
    this.#changed = this.#changed === 'all' || name === null || !MANIFEST_FILE_RE.test(name) ? 'all' : this.#changed.add(name);
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => void this.#afterWatch(), WATCH_DEBOUNCE_MS);
  }

  async #afterWatch(): Promise<void> {
    const changed = this.#changed;
    this.#changed = new Set();
    if (changed !== 'all') {
      const keys = await Promise.all([...changed].map((n) => statKey(join(this.#opts.dir, n)).catch(() => undefined)));
      if ([...changed].every((n, i) => keys[i] !== undefined && keys[i].key === this.#parsed.get(join(this.#opts.dir, n))?.statKey)) return;
    }
    await this.resync();
  }

  async #scan(emit: boolean): Promise<void> {
    const pods = new Map<string, Entry<Pod>>();
    const namespaces = new Map<string, Entry<Namespace>>();
    const files = await this.#files();
    // All files at once: one by one, a rescan of a few hundred manifests held every refreshFile
    // (an ADD's annotation) queued behind it for hundreds of thread-pool round trips.
    const loaded = await Promise.all(files.map((file) => this.#load(file)));
    files.forEach((file, i) => this.#collect(loaded[i] ?? [], file, pods, namespaces));
    const present = new Set(files);
    for (const f of this.#parsed.keys()) if (!present.has(f)) this.#parsed.delete(f);
    this.#commit(pods, namespaces, emit);
  }

  /** The file's objects, parsed again only when its stat changed (or is too recent to trust). */
  async #load(file: string): Promise<readonly { readonly kind: string }[]> {
    let s: { key: string; mtimeMs: number };
    let text: string;
    const readAtMs = Date.now();
    const cached = this.#parsed.get(file);
    try {
      s = await statKey(file);
      if (cached && cached.statKey === s.key && cached.mtimeMs < cached.readAtMs - RACY_MTIME_MARGIN_MS) return cached.objects;
      text = await readFile(file, 'utf8');
    } catch {
      this.#parsed.delete(file);
      return []; // removed between readdir and read
    }
    // A racily clean file (e.g. just annotated) is re-read on every rescan until its mtime is old
    // enough; parsing it again each time blocked the loop for ~1 ms per file, on an ADD's path.
    const objects = cached?.statKey === s.key && cached.text === text ? cached.objects : parseManifests(text, file).objects;
    this.#parsed.set(file, { statKey: s.key, mtimeMs: s.mtimeMs, readAtMs, text, objects });
    return objects;
  }

  /** The annotator's own write: its text is known, only the stat is taken (sync: one small file). */
  #loadWritten(file: string, text: string): readonly { readonly kind: string }[] {
    const readAtMs = Date.now();
    let st;
    try {
      st = statSync(file);
    } catch {
      return [];
    }
    const objects = parseManifests(text, file).objects;
    this.#parsed.set(file, { statKey: `${st.ino}:${st.size}:${st.mtimeMs}`, mtimeMs: st.mtimeMs, readAtMs, text, objects });
    return objects;
  }

  #collect(objects: readonly { readonly kind: string }[], file: string, pods: Map<string, Entry<Pod>>, namespaces: Map<string, Entry<Namespace>>): void {
    for (const obj of objects) {
      if (obj.kind === 'Namespace') namespaces.set((obj as Namespace).metadata.name, entry(obj as Namespace, file));
      if (obj.kind === 'Pod') this.#addPod(pods, obj as Pod, file);
    }
  }

  #commit(pods: Map<string, Entry<Pod>>, namespaces: Map<string, Entry<Namespace>>, emit: boolean): void {
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

async function statKey(file: string): Promise<{ key: string; mtimeMs: number }> {
  const s = await stat(file);
  return { key: `${s.ino}:${s.size}:${s.mtimeMs}`, mtimeMs: s.mtimeMs };
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
