import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ANNOTATIONS } from '@mesh/api';
import { createLogger } from '@mesh/core';
import { DirectoryPodAnnotator } from './directory-annotator';
import { DirectoryPodSource } from './directory-pod-source';
import type { PodWatchEvent } from './pod-source';

const NODE = 'n1';
const HOUR_MS = 3_600_000;

function podYaml(name: string, label: string): string {
  return `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n  namespace: ns\n  labels:\n    l: ${label}\nspec:\n  nodeName: ${NODE}\n  containers:\n    - name: app\n`;
}

describe('DirectoryPodSource caching and the annotator fast path', () => {
  let dir = '';
  let source: DirectoryPodSource;
  let events: PodWatchEvent[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mesh-cni-dirsrc-'));
    writeFileSync(join(dir, 'a.yaml'), podYaml('a', 'one'));
    writeFileSync(join(dir, 'b.yaml'), podYaml('b', 'one'));
    events = [];
    source = new DirectoryPodSource({ dir, nodeName: NODE, logger: createLogger({ component: 'test', level: 'silent' }), rescanIntervalMs: HOUR_MS });
    await source.start({ onPod: (e) => events.push(e), onNamespace: () => undefined });
  });
  afterEach(async () => {
    await source.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const label = (name: string) => source.getPod('ns', name)?.metadata.labels?.['l'];

  it('the annotator write is visible at once, as one update event for that pod only', async () => {
    const pod = source.getPod('ns', 'a');
    if (!pod) throw new Error('pod a not loaded');
    await new DirectoryPodAnnotator(source).setRedirection(pod, 'enabled');
    expect(source.getPod('ns', 'a')?.metadata.annotations?.[ANNOTATIONS.AMBIENT_REDIRECTION]).toBe('enabled');
    expect(events.map((e) => `${e.type} ${e.pod.metadata.name}`)).toEqual(['update a']);
    await new Promise((r) => setTimeout(r, 150)); // the watch event of our own write changes nothing
    expect(events).toHaveLength(1);
  });

  it('a same-size rewrite right after a scan is still seen by the next rescan (racy mtime)', async () => {
    writeFileSync(join(dir, 'a.yaml'), podYaml('a', 'two'));
    await source.resync();
    expect(label('a')).toBe('two');
    writeFileSync(join(dir, 'a.yaml'), podYaml('a', 'six'));
    await source.resync();
    expect(label('a')).toBe('six');
  });

  it('an old file whose stat did not change is not parsed again', async () => {
    const file = join(dir, 'b.yaml');
    const old = new Date(Date.now() - HOUR_MS);
    utimesSync(file, old, old);
    await source.resync(); // parsed with a trustworthy (old) mtime
    const before = statSync(file);
    writeFileSync(file, podYaml('b', 'xyz')); // same size, same inode; then hide it behind the old mtime
    utimesSync(file, before.atime, before.mtime);
    await source.resync();
    expect(label('b')).toBe('one');
    utimesSync(file, new Date(), new Date()); // any stat change makes it parsed again
    await source.resync();
    expect(label('b')).toBe('xyz');
  });
});
