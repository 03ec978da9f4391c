import { parseAllDocuments } from 'yaml';
import type { MeshResource } from './types';
import { ValidationContext } from './validate/context';
import type { ResourceIssue } from './validate/issues';
import { isObj } from './validate/schema';
import { validateResource } from './validate-resource';

export interface ParsedManifests {
  /** Valid objects, typed; `kind: List` items are expanded in place. */
  readonly objects: MeshResource[];
  /** YAML syntax errors, invalid objects and unsupported kinds (code UNSUPPORTED_KIND: callers may ignore those). */
  readonly errors: ResourceIssue[];
  readonly warnings: ResourceIssue[];
}

/** Kubernetes sets no limit, but a single file this large is a mistake, not a manifest. */
const MAX_ALIAS_COUNT = 1000;

/**
 * Parses multi-document YAML (or JSON) manifests. Empty documents are skipped; a `kind: List`
 * (or `*List`, as `kubectl get -o yaml` prints) is expanded into its items. Never throws.
 */
export function parseManifests(text: string, source?: string): ParsedManifests {
  const out: ParsedManifests = { objects: [], errors: [], warnings: [] };
  const docs = parseAllDocuments(text, { uniqueKeys: false, prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [];
  for (let i = 0; i < list.length; i++) {
    const doc = list[i]!;
    const origin = source === undefined ? { docIndex: i } : { source, docIndex: i };
    if (doc.errors.length > 0) {
      const ctx = new ValidationContext('<unparsed document>', origin);
      for (const e of doc.errors) ctx.error('YAML_SYNTAX', e.message);
      out.errors.push(...ctx.errors);
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      const ctx = new ValidationContext('<unparsed document>', origin);
      ctx.error('YAML_SYNTAX', e instanceof Error ? e.message : String(e));
      out.errors.push(...ctx.errors);
      continue;
    }
    if (value === null || value === undefined) continue;
    addObject(value, origin, out);
  }
  return out;
}

function addObject(value: unknown, origin: { source?: string; docIndex: number }, out: ParsedManifests): void {
  if (isObj(value) && typeof value['kind'] === 'string' && value['kind'].endsWith('List') && Array.isArray(value['items'])) {
    for (const item of value['items']) {
      if (item !== null && item !== undefined) addObject(item, origin, out);
    }
    return;
  }
  const r = validateResource(value, origin);
  out.warnings.push(...r.warnings);
  if (r.ok) out.objects.push(r.value);
  else out.errors.push(...r.errors);
}
