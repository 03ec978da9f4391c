import fs from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';

/** The parts of any Kubernetes-shaped object the config dir needs to file it. */
export interface KubeObjectLike {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string>; [k: string]: unknown };
  [field: string]: unknown;
}

export interface ObjectKey {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

/**
 * Annotations other writers own and a re-apply must not drop: the CNI agent marks enrolled pods with
 * `ambient.istio.io/redirection` in the pod's file (as it patches the pod through the API server in Istio).
 */
export const PRESERVED_ANNOTATIONS: readonly string[] = ['ambient.istio.io/redirection'];

function group(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? 'core' : apiVersion.slice(0, slash);
}

/**
 * One file per object, named `<namespace|_cluster>__<group>__<Kind>__<name>.yaml`, so applying the same
 * object again replaces its file and a delete removes exactly it. Writes are atomic (rename): istiod and the
 * CNI agents watch this directory and must never read a torn file.
 */
export class ConfigDir {
  constructor(readonly dir: string) {}

  fileFor(key: ObjectKey): string {
    const ns = key.namespace && key.namespace !== '' ? key.namespace : '_cluster';
    return path.join(this.dir, `${ns}__${group(key.apiVersion)}__${key.kind}__${key.name}.yaml`);
  }

  write(obj: KubeObjectLike): string {
    fs.mkdirSync(this.dir, { recursive: true });
    const file = this.fileFor(keyOf(obj));
    const previous = this.readFile(file);
    const merged = preserveAnnotations(obj, previous);
    const tmp = path.join(this.dir, `.${path.basename(file)}.${process.pid}.tmp`);
    fs.writeFileSync(tmp, stringify(merged));
    fs.renameSync(tmp, file);
    return file;
  }

  read<T extends KubeObjectLike = KubeObjectLike>(key: ObjectKey): T | undefined {
    return this.readFile(this.fileFor(key)) as T | undefined;
  }

  delete(key: ObjectKey): boolean {
    const file = this.fileFor(key);
    if (!fs.existsSync(file)) return false;
    fs.rmSync(file, { force: true });
    return true;
  }

  /** Every object of a kind (any apiVersion group match), optionally in one namespace. */
  list<T extends KubeObjectLike = KubeObjectLike>(kind: string, namespace?: string): T[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return [];
    }
    const out: T[] = [];
    for (const n of names.sort()) {
      const parts = n.replace(/\.yaml$/, '').split('__');
      if (!n.endsWith('.yaml') || parts.length !== 4 || parts[2] !== kind) continue;
      if (namespace !== undefined && parts[0] !== namespace) continue;
      const obj = this.readFile(path.join(this.dir, n));
      if (obj) out.push(obj as T);
    }
    return out;
  }

  /** Every object filed under a namespace (any kind). */
  listNamespace(namespace: string): KubeObjectLike[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return [];
    }
    const out: KubeObjectLike[] = [];
    for (const n of names) {
      if (!n.endsWith('.yaml') || !n.startsWith(`${namespace}__`)) continue;
      const obj = this.readFile(path.join(this.dir, n));
      if (obj) out.push(obj);
    }
    return out;
  }

  private readFile(file: string): KubeObjectLike | undefined {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
    const v = parse(text) as unknown;
    return typeof v === 'object' && v !== null ? (v as KubeObjectLike) : undefined;
  }
}

export function keyOf(obj: KubeObjectLike): ObjectKey {
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    name: obj.metadata.name,
    ...(obj.metadata.namespace === undefined ? {} : { namespace: obj.metadata.namespace }),
  };
}

function preserveAnnotations(obj: KubeObjectLike, previous: KubeObjectLike | undefined): KubeObjectLike {
  const kept: Record<string, string> = {};
  for (const k of PRESERVED_ANNOTATIONS) {
    const v = previous?.metadata.annotations?.[k];
    if (v !== undefined && obj.metadata.annotations?.[k] === undefined) kept[k] = v;
  }
  if (Object.keys(kept).length === 0) return obj;
  return { ...obj, metadata: { ...obj.metadata, annotations: { ...(obj.metadata.annotations ?? {}), ...kept } } };
}
