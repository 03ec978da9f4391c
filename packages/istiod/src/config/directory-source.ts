import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, watch, type Dirent, type FSWatcher } from 'node:fs';
import { join, relative } from 'node:path';
import { formatIssue, type ResourceKey } from '@mesh/api';
import { createLogger, type Logger } from '@mesh/core';
import { readManifestFile, type RawManifestObject } from './manifest-file';
import type { ConfigStore } from './store';
import type { InvalidResourceReport, RawConfigChange } from './types';

export const DIRECTORY_POLL_INTERVAL_MS = 2_000;
/**
 * Quiet time after a watch event before rescanning. Short, because writers (kubectl-style tools, ConfigMap
 * mounts, editors) replace files by atomic rename; a non-atomic writer caught mid-write is handled by the
 * re-stat after reading and by keeping a file's previous objects while it does not parse.
 */
export const DIRECTORY_DEBOUNCE_MS = 15;
const MANIFEST_EXTENSIONS = ['.yaml', '.yml', '.json'];

export interface DirectorySourceOptions {
  dir: string;
  store: ConfigStore;
  logger?: Logger;
  /** Fallback rescan period; fs.watch events only make rescans come sooner. 0 disables polling. */
  pollIntervalMs?: number;
  debounceMs?: number;
  /** A file that does not parse (its previous objects stay in effect until it does). */
  onParseError?: (report: InvalidResourceReport) => void;
}

interface FileState {
  mtimeMs: number;
  size: number;
  hash: string;
  objects: RawManifestObject[];
}

/**
 * Config from a folder of manifests (nested folders, .yaml/.yml/.json, multi-document). Watches every
 * directory with a non-recursive fs.watch (recursive mode is unreliable on Linux with Node 20) plus a
 * polling rescan, both debounced; a rescan re-reads only files whose mtime/size changed and re-parses only
 * those whose content hash changed, then diffs the merged object set into store changes.
 */
export class DirectorySource {
  private readonly files = new Map<string, FileState>();
  /** key -> emitted JSON, to diff the merged view. */
  private readonly emitted = new Map<string, string>();
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly log: Logger;
  private pollTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private rescanQueued = false;
  private stopped = false;

  constructor(private readonly options: DirectorySourceOptions) {
    this.log = options.logger ?? createLogger({ component: 'istiod-config-dir' });
  }

  /** Initial scan (applied to the store before this resolves), then watching. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.rescan();
    const poll = this.options.pollIntervalMs ?? DIRECTORY_POLL_INTERVAL_MS;
    if (poll > 0) {
      this.pollTimer = setInterval(() => this.schedule(), poll);
      this.pollTimer.unref();
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  /** Rescan now (serialized: a rescan requested while one runs runs once more afterwards). */
  async rescan(): Promise<void> {
    if (this.running) {
      this.rescanQueued = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.rescanQueued = false;
          await this.scanOnce();
        } while (this.rescanQueued && !this.stopped);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      this.rescan().catch((err: unknown) => this.log.error({ err }, 'directory rescan failed'));
    }, this.options.debounceMs ?? DIRECTORY_DEBOUNCE_MS);
  }

  /**
   * Synchronous file system calls on purpose: a rescan stats every file, and 100+ sequential threadpool
   * round trips (behind whatever else the event loop is doing) cost tens of ms of push latency, against
   * microseconds for a local stat. Parsing, the expensive part, is synchronous anyway.
   */
  private async scanOnce(): Promise<void> {
    const { files, dirs } = walk(this.options.dir, this.log);
    this.syncWatchers(dirs);
    const seen = new Set<string>();
    const touched = new Set<string>();
    for (const path of files) {
      const rel = relative(this.options.dir, path);
      seen.add(rel);
      this.refreshFile(path, rel, touched);
    }
    for (const [rel, state] of this.files) {
      if (seen.has(rel)) continue;
      for (const o of state.objects) touched.add(o.key);
      this.files.delete(rel);
    }
    if (touched.size > 0) this.options.store.applyAll(this.diff(touched));
  }

  private refreshFile(path: string, rel: string, touched: Set<string>): void {
    const prev = this.files.get(rel);
    const st = statSync(path, { throwIfNoEntry: false });
    if (st === undefined) return; // vanished between readdir and stat; the next scan sees it gone
    if (prev && prev.mtimeMs === st.mtimeMs && prev.size === st.size) return;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      this.log.warn({ err, file: rel }, 'could not read manifest file; keeping its previous objects');
      return;
    }
    if (changedSince(path, st)) {
      // Still being written: read it again once the writer is done (its next event or this rescan).
      this.schedule();
      return;
    }
    const hash = createHash('sha256').update(text).digest('hex');
    if (prev && prev.hash === hash) {
      this.files.set(rel, { ...prev, mtimeMs: st.mtimeMs, size: st.size });
      return;
    }
    const parsed = readManifestFile(text, rel);
    if (!parsed.ok) {
      // Probably caught mid-write: keep the previous objects, and retry when mtime changes again.
      const report: InvalidResourceReport = { resource: `file ${rel}`, source: rel, issues: parsed.issues };
      for (const issue of parsed.issues) this.log.warn({ file: rel, code: issue.code, reason: issue.message }, `manifest file does not parse: ${formatIssue(issue)}`);
      this.options.onParseError?.(report);
      if (prev) this.files.set(rel, { ...prev, mtimeMs: st.mtimeMs, size: st.size });
      else this.files.set(rel, { mtimeMs: st.mtimeMs, size: st.size, hash: '', objects: [] });
      return;
    }
    for (const o of prev?.objects ?? []) touched.add(o.key);
    for (const o of parsed.objects) touched.add(o.key);
    this.files.set(rel, { mtimeMs: st.mtimeMs, size: st.size, hash, objects: parsed.objects });
  }

  /** Winner per key = the object from the lexically first file that has it (deterministic on duplicates). */
  private diff(touched: Set<string>): RawConfigChange[] {
    const winners = new Map<string, RawManifestObject>();
    const paths = [...this.files.keys()].sort();
    for (const rel of paths) {
      for (const o of this.files.get(rel)!.objects) {
        if (touched.has(o.key) && !winners.has(o.key)) winners.set(o.key, o);
      }
    }
    const changes: RawConfigChange[] = [];
    for (const key of touched) {
      const w = winners.get(key);
      const last = this.emitted.get(key);
      if (w === undefined) {
        if (last === undefined) continue;
        this.emitted.delete(key);
        const id = parseKey(key);
        if (id) changes.push({ op: 'delete', ...id });
      } else if (w.json !== last) {
        this.emitted.set(key, w.json);
        changes.push({ op: 'upsert', object: w.object, origin: w.origin });
      }
    }
    return changes;
  }

  private syncWatchers(dirs: readonly string[]): void {
    if (this.stopped) return;
    const want = new Set(dirs);
    for (const [d, w] of this.watchers) {
      if (!want.has(d)) {
        w.close();
        this.watchers.delete(d);
      }
    }
    for (const d of want) {
      if (this.watchers.has(d)) continue;
      try {
        const w = watch(d, { persistent: false }, () => this.schedule());
        w.on('error', () => {
          w.close();
          this.watchers.delete(d);
          this.schedule();
        });
        this.watchers.set(d, w);
      } catch (err) {
        this.log.debug({ err, dir: d }, 'fs.watch failed; relying on polling');
      }
    }
  }
}

/** True when the file's mtime or size moved while it was being read (a writer is still at it). */
function changedSince(path: string, before: { mtimeMs: number; size: number }): boolean {
  const after = statSync(path, { throwIfNoEntry: false });
  // Vanished while being read counts as changed: the next scan sees it gone.
  return after === undefined || after.mtimeMs !== before.mtimeMs || after.size !== before.size;
}

function parseKey(key: string): { kind: ResourceKey; namespace: string; name: string } | undefined {
  const parts = key.split('|');
  if (parts.length !== 3 || parts[0] === 'unkeyed') return undefined;
  return { kind: parts[0] as ResourceKey, namespace: parts[1]!, name: parts[2]! };
}

function walk(root: string, log: Logger): { files: string[]; dirs: string[] } {
  const files: string[] = [];
  const dirs: string[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      if (dir === root) log.warn({ err, dir }, 'config directory is not readable');
      continue;
    }
    dirs.push(dir);
    for (const e of entries) {
      if (e.name.startsWith('.')) continue; // editor swap files, ..data symlink dirs of ConfigMap mounts
      const p = join(dir, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (MANIFEST_EXTENSIONS.some((x) => e.name.endsWith(x))) files.push(p);
    }
  }
  return { files: files.sort(), dirs };
}
