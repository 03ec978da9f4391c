import fs from 'node:fs';
import path from 'node:path';
import { formatIssue, parseManifests, type MeshResource } from '@mesh/api';
import { ClusterError } from './errors';

const MANIFEST_EXT = /\.(ya?ml|json)$/;

/** Files of `-f`: a file, `-` (stdin text given), or a directory (its manifests, sorted, not recursive like kubectl). */
export function manifestFiles(target: string): string[] {
  let st: fs.Stats;
  try {
    st = fs.statSync(target);
  } catch {
    throw new ClusterError('CLUSTER_INVALID_MANIFEST', `the path "${target}" does not exist`);
  }
  if (!st.isDirectory()) return [target];
  return fs
    .readdirSync(target)
    .filter((n) => MANIFEST_EXT.test(n))
    .sort()
    .map((n) => path.join(target, n));
}

/**
 * Parses and validates every document; any error (syntax, schema, or a kind the local cluster cannot
 * serve) rejects the whole set, naming file#document, resource and field path, like `kubectl apply`.
 */
export function loadManifests(sources: ReadonlyArray<{ name: string; text: string }>): MeshResource[] {
  const objects: MeshResource[] = [];
  const problems: string[] = [];
  for (const s of sources) {
    const parsed = parseManifests(s.text, s.name);
    objects.push(...parsed.objects);
    problems.push(...parsed.errors.map(formatIssue));
  }
  if (problems.length > 0) {
    const more = problems.length > 1 ? `\n${problems.slice(1).join('\n')}` : '';
    throw new ClusterError('CLUSTER_INVALID_MANIFEST', `${problems[0]}${more}`);
  }
  return objects;
}

export function readManifestArgs(targets: readonly string[], stdin: () => string): MeshResource[] {
  const sources: Array<{ name: string; text: string }> = [];
  for (const t of targets) {
    if (t === '-') sources.push({ name: '<stdin>', text: stdin() });
    else for (const f of manifestFiles(t)) sources.push({ name: f, text: fs.readFileSync(f, 'utf8') });
  }
  if (sources.length === 0) throw new ClusterError('CLUSTER_INVALID_MANIFEST', 'no manifests given; use -f FILE|DIR|-');
  return loadManifests(sources);
}
