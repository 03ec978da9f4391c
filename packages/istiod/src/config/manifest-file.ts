import { parseAllDocuments } from 'yaml';
import { resourceKeyOf, type ResourceIssue, type ResourceKey, type ResourceOrigin } from '@mesh/api';
import { CLUSTER_SCOPED_KINDS, DEFAULT_NAMESPACE, objectKey } from './types';

/** One object read from a manifest file, not yet validated (the store does that). */
export interface RawManifestObject {
  /** kind|namespace|name when readable; otherwise a per-document placeholder. */
  readonly key: string;
  readonly identity?: { kind: ResourceKey; namespace: string; name: string };
  readonly object: unknown;
  readonly origin: ResourceOrigin;
  /** Canonical JSON of the object, to tell a real change from a rewrite with the same content. */
  readonly json: string;
}

export type ManifestFileResult =
  | { readonly ok: true; readonly objects: RawManifestObject[] }
  | { readonly ok: false; readonly issues: ResourceIssue[] };

/** A malicious or broken file must not make istiod chew on alias bombs. */
const MAX_ALIAS_COUNT = 1000;

/**
 * Splits a multi-document YAML/JSON file into raw objects (expanding `kind: *List`). Any syntax error fails
 * the whole file, so a file caught mid-write keeps its previous objects instead of losing half of them.
 */
export function readManifestFile(text: string, source: string): ManifestFileResult {
  let docs;
  try {
    docs = parseAllDocuments(text, { uniqueKeys: false, prettyErrors: false });
  } catch (e) {
    return { ok: false, issues: [syntaxIssue(source, undefined, e instanceof Error ? e.message : String(e))] };
  }
  const list = Array.isArray(docs) ? docs : [];
  const objects: RawManifestObject[] = [];
  for (let i = 0; i < list.length; i++) {
    const doc = list[i]!;
    if (doc.errors.length > 0) {
      return { ok: false, issues: doc.errors.map((err) => syntaxIssue(source, i, err.message)) };
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      return { ok: false, issues: [syntaxIssue(source, i, e instanceof Error ? e.message : String(e))] };
    }
    if (value === null || value === undefined) continue;
    collect(value, { source, docIndex: i }, objects);
  }
  return { ok: true, objects };
}

function collect(value: unknown, origin: { source: string; docIndex: number }, out: RawManifestObject[]): void {
  if (isObj(value) && typeof value['kind'] === 'string' && value['kind'].endsWith('List') && Array.isArray(value['items'])) {
    for (const item of value['items']) if (item !== null && item !== undefined) collect(item, origin, out);
    return;
  }
  const identity = identityOf(value);
  const key = identity ? objectKey(identity.kind, identity.namespace, identity.name) : `unkeyed|${origin.source}|${origin.docIndex}|${out.length}`;
  out.push({ key, object: value, origin, json: JSON.stringify(value), ...(identity ? { identity } : {}) });
}

/** kind/namespace/name of a raw object, with the same namespace defaulting as ConfigStore. */
export function identityOf(value: unknown): { kind: ResourceKey; namespace: string; name: string } | undefined {
  if (!isObj(value)) return undefined;
  const apiVersion = value['apiVersion'];
  const k = value['kind'];
  const meta = value['metadata'];
  if (typeof apiVersion !== 'string' || typeof k !== 'string' || !isObj(meta)) return undefined;
  const name = meta['name'];
  if (typeof name !== 'string' || name === '') return undefined;
  const kind = resourceKeyOf({ apiVersion, kind: k });
  if (kind === undefined) return undefined;
  const ns = meta['namespace'];
  const namespace = CLUSTER_SCOPED_KINDS.has(kind) ? '' : typeof ns === 'string' && ns !== '' ? ns : DEFAULT_NAMESPACE;
  return { kind, namespace, name };
}

function syntaxIssue(source: string, docIndex: number | undefined, message: string): ResourceIssue {
  return {
    severity: 'error',
    code: 'YAML_SYNTAX',
    resource: '<unparsed document>',
    source,
    path: '',
    message,
    ...(docIndex !== undefined ? { docIndex } : {}),
  };
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
