import { ConfigDuplicateVarError, ConfigInvalidValueError, ConfigMissingValueError } from '../errors/catalogue';
import type { VarSpec } from './types';

export type VarSpecs = Record<string, VarSpec<unknown>>;
export type ConfigValues<S extends VarSpecs> = { readonly [K in keyof S]: S[K] extends VarSpec<infer T> ? T : never };
export type EnvSource = Readonly<Record<string, string | undefined>>;

/** A set of environment variables, each registered once; `parse` turns an env object into frozen values. */
export interface ConfigRegistry<S extends VarSpecs> {
  readonly specs: Readonly<S>;
  parse(env?: EnvSource): ConfigValues<S>;
}

/** One row of {@link listVars}: what --help prints and what chart checks compare against. */
export interface VarInfo {
  name: string;
  type: VarSpec<unknown>['type'];
  default: string;
  unit: string | undefined;
  description: string;
  aliases: readonly string[];
  required: boolean;
}

/**
 * Register environment variables (names as keys, exactly as operators set them). This module is the
 * only place that reads `process.env`; everything else receives the parsed, frozen object.
 */
export function defineConfig<S extends VarSpecs>(specs: S): ConfigRegistry<S> {
  const seen = new Set<string>();
  for (const [name, spec] of Object.entries(specs)) {
    for (const n of [name, ...(spec.aliases ?? [])]) {
      if (seen.has(n)) throw new ConfigDuplicateVarError({ name: n });
      seen.add(n);
    }
  }
  const frozen = Object.freeze({ ...specs });
  return {
    specs: frozen,
    parse: (env: EnvSource = process.env) => parseAll(frozen, env),
  };
}

/** Combine registries (e.g. a library's vars with an app's); a name registered twice is an error. */
export function mergeConfig<A extends VarSpecs, B extends VarSpecs>(a: ConfigRegistry<A>, b: ConfigRegistry<B>): ConfigRegistry<A & B> {
  return defineConfig({ ...a.specs, ...checkDisjoint(a.specs, b.specs) } as A & B);
}

function checkDisjoint<A extends VarSpecs, B extends VarSpecs>(a: A, b: B): B {
  const names = new Set(Object.entries(a).flatMap(([n, s]) => [n, ...(s.aliases ?? [])]));
  for (const [n, s] of Object.entries(b)) {
    for (const name of [n, ...(s.aliases ?? [])]) if (names.has(name)) throw new ConfigDuplicateVarError({ name });
  }
  return b;
}

function parseAll<S extends VarSpecs>(specs: S, env: EnvSource): ConfigValues<S> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) out[name] = parseOne(name, spec, env);
  return Object.freeze(out) as ConfigValues<S>;
}

function parseOne(name: string, spec: VarSpec<unknown>, env: EnvSource): unknown {
  let source = name;
  let raw = env[name];
  for (const alias of spec.aliases ?? []) {
    if (raw !== undefined && raw !== '') break;
    source = alias;
    raw = env[alias];
  }
  // An empty value means "unset", as for Istio's env vars (an empty Helm value renders as "").
  if (raw === undefined || raw === '') {
    if (spec.required === true) throw new ConfigMissingValueError({ name });
    return spec.default;
  }
  const parsed = spec.parse(raw);
  if (!parsed.ok) throw new ConfigInvalidValueError({ name: source, value: raw, expected: parsed.expected });
  return parsed.value;
}

export function listVars<S extends VarSpecs>(registry: ConfigRegistry<S>): VarInfo[] {
  return Object.entries(registry.specs)
    .map(([name, spec]) => ({
      name,
      type: spec.type,
      default: spec.render(spec.default),
      unit: spec.unit,
      description: spec.description,
      aliases: spec.aliases ?? [],
      required: spec.required === true,
    }))
    .sort((x, y) => x.name.localeCompare(y.name));
}

/** Text for `--help`: one block per variable with its default, unit and description. */
export function renderHelp<S extends VarSpecs>(registry: ConfigRegistry<S>, title = 'Environment variables:'): string {
  const lines = [title];
  for (const v of listVars(registry)) {
    const unit = v.unit === undefined ? '' : ` (${v.unit})`;
    const def = v.required ? 'required' : `default ${JSON.stringify(v.default)}`;
    const aliases = v.aliases.length > 0 ? ` [also: ${v.aliases.join(', ')}]` : '';
    lines.push(`  ${v.name}  ${v.type}${unit}, ${def}${aliases}`, `      ${v.description}`);
  }
  return lines.join('\n') + '\n';
}
