import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { ANNOTATIONS, type Pod } from '@mesh/api';
import { defineMeshError } from '@mesh/core';
import type { DirectoryPodSource } from './directory-pod-source';
import { type PodAnnotator } from './pod-source';

export const PodAnnotateError = defineMeshError(
  'CNI_POD_ANNOTATE_FAILED',
  'PodAnnotateError',
  (d: { pod: string; reason: string }) => `cannot annotate pod ${d.pod}: ${d.reason}`,
);

/**
 * Local-cluster annotator: rewrites the pod's document in the manifest file the directory source read
 * it from (other documents and comments kept), atomically via rename, then hands the written text to
 * the source so the agent's cache sees its own write at once.
 *
 * The file operations are synchronous on purpose: a CNI ADD waits on this (Istio annotates before
 * answering the plugin), the file is one small manifest, and four thread-pool round trips cost more
 * than the I/O itself, more still when a directory rescan has queued its stats ahead of them.
 */
export class DirectoryPodAnnotator implements PodAnnotator {
  readonly #source: DirectoryPodSource;

  constructor(source: DirectoryPodSource) {
    this.#source = source;
  }

  async setRedirection(pod: Pod, value: string | undefined): Promise<void> {
    const ns = pod.metadata.namespace ?? 'default';
    const name = pod.metadata.name;
    const file = this.#source.fileOf(ns, name);
    if (file === undefined) throw new PodAnnotateError({ pod: `${ns}/${name}`, reason: 'the pod is not in the watched directory any more' });
    const docs = parseAllDocuments(readFileSync(file, 'utf8'));
    const list = Array.isArray(docs) ? docs : [];
    const doc = list.find((d) => {
      const js = d.toJS() as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } } | null;
      return js?.kind === 'Pod' && js.metadata?.name === name && (js.metadata.namespace ?? 'default') === ns;
    });
    if (!doc) throw new PodAnnotateError({ pod: `${ns}/${name}`, reason: `no Pod document for it in ${file}` });
    const path = ['metadata', 'annotations', ANNOTATIONS.AMBIENT_REDIRECTION];
    const current: unknown = doc.getIn(path);
    if (current === value) return;
    if (value === undefined) doc.deleteIn(path);
    else doc.setIn(path, value);
    const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    const text = list.map((d, i) => withDocStart(d.toString(), i)).join('');
    writeFileSync(tmp, text);
    renameSync(tmp, file);
    // Only this file is refreshed (not the whole directory), from the text just written.
    await this.#source.refreshFile(file, text);
  }
}

function withDocStart(text: string, index: number): string {
  return index === 0 || text.startsWith('---') ? text : `---\n${text}`;
}
