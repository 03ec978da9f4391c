import { ConfigDefinitionError } from '../errors/catalogue';

/**
 * One environment variable's definition: how to parse it, its default, its unit and what it is for.
 * `parse` returns the value or a string saying what was expected (the registry turns that into a
 * ConfigInvalidValueError naming the variable).
 */
export interface VarSpec<T> {
  readonly type: 'string' | 'int' | 'bool' | 'duration' | 'enum' | 'list';
  readonly default: T;
  readonly description: string;
  readonly unit?: string;
  /** Other names read when the main one is unset (ztunnel reads e.g. ISTIO_META_CLUSTER_ID then CLUSTER_ID). */
  readonly aliases?: readonly string[];
  /** Fail at start when unset (instead of using the default). */
  readonly required?: boolean;
  // Method syntax on purpose: it keeps VarSpec<T> assignable to VarSpec<unknown> (bivariant parameters).
  parse(raw: string): { ok: true; value: T } | { ok: false; expected: string };
  render(value: T): string;
}

export interface CommonOptions {
  aliases?: readonly string[];
  required?: boolean;
}

const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
const bad = (expected: string): { ok: false; expected: string } => ({ ok: false, expected });

export function str(def: string, description: string, opts: CommonOptions = {}): VarSpec<string> {
  return { type: 'string', default: def, description, ...opts, parse: ok, render: (v) => v };
}

export interface IntOptions extends CommonOptions {
  min?: number;
  max?: number;
  unit?: string;
}

export function int(def: number, description: string, opts: IntOptions = {}): VarSpec<number> {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = opts;
  const expected = `an integer in [${min}, ${max}]`;
  const parse = (raw: string): { ok: true; value: number } | { ok: false; expected: string } => {
    if (!/^[-+]?\d+$/.test(raw.trim())) return bad(expected);
    const n = Number(raw.trim());
    return Number.isSafeInteger(n) && n >= min && n <= max ? ok(n) : bad(expected);
  };
  checkDefault('int', def, parse(String(def)));
  return { type: 'int', default: def, description, ...opts, parse, render: String };
}

// Same spellings as Go's strconv.ParseBool, which istiod and the Istio agents use for their env vars.
const TRUE_WORDS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_WORDS = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

export function bool(def: boolean, description: string, opts: CommonOptions = {}): VarSpec<boolean> {
  const parse = (raw: string): { ok: true; value: boolean } | { ok: false; expected: string } => {
    const t = raw.trim();
    if (TRUE_WORDS.has(t)) return ok(true);
    if (FALSE_WORDS.has(t)) return ok(false);
    return bad('a boolean (true/false/1/0)');
  };
  return { type: 'bool', default: def, description, ...opts, parse, render: String };
}

export type DurationUnit = 'ms' | 's' | 'm' | 'h';
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export interface DurationOptions extends CommonOptions {
  /** Unit of the parsed value and of a bare number in the env (default "ms"). */
  unit?: DurationUnit;
}

/**
 * A duration such as "10s", "5m", "100ms", "1h30m" (Go time.ParseDuration style, which Istio's env vars
 * use) or a bare number in `unit`. The parsed value is a number expressed in `unit`.
 */
export function duration(def: number | string, description: string, opts: DurationOptions = {}): VarSpec<number> {
  const unit = opts.unit ?? 'ms';
  const parse = (raw: string): { ok: true; value: number } | { ok: false; expected: string } => {
    const ms = parseDurationMs(raw, unit);
    return ms === undefined ? bad(`a duration like "10s", "5m", "100ms" or a number of ${unit}`) : ok(ms / (UNIT_MS[unit] ?? 1));
  };
  const parsedDefault = typeof def === 'number' ? ok(def) : parse(def);
  checkDefault('duration', def, parsedDefault);
  const value = parsedDefault.ok ? parsedDefault.value : 0;
  return { type: 'duration', default: value, description, unit, ...opts, parse, render: (v) => `${v}${unit}` };
}

const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/** Parse "1h30m", "100ms", "2.5s" or a bare number (in `bareUnit`) to milliseconds; undefined if invalid. */
export function parseDurationMs(raw: string, bareUnit: DurationUnit = 'ms'): number | undefined {
  const t = raw.trim();
  if (t === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * (UNIT_MS[bareUnit] ?? 1);
  let total = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < t.length) {
    const m = DURATION_PART.exec(t);
    if (m === null) return undefined;
    total += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? Number.NaN);
  }
  return Number.isFinite(total) ? total : undefined;
}

export function enumOf<const V extends string>(
  values: readonly V[],
  def: NoInfer<V>,
  description: string,
  opts: CommonOptions = {},
): VarSpec<V> {
  const parse = (raw: string): { ok: true; value: V } | { ok: false; expected: string } => {
    const t = raw.trim();
    return (values as readonly string[]).includes(t) ? ok(t as V) : bad(`one of ${values.join(', ')}`);
  };
  checkDefault('enum', def, parse(def));
  return { type: 'enum', default: def, description, ...opts, parse, render: (v) => v };
}

export interface ListOptions extends CommonOptions {
  separator?: string;
}

/** A separated list (default ","); blank items are dropped, items are trimmed. */
export function list(def: readonly string[], description: string, opts: ListOptions = {}): VarSpec<readonly string[]> {
  const sep = opts.separator ?? ',';
  const parse = (raw: string): { ok: true; value: readonly string[] } =>
    ok(Object.freeze(raw.split(sep).map((s) => s.trim()).filter((s) => s.length > 0)));
  return { type: 'list', default: Object.freeze([...def]), description, ...opts, parse, render: (v) => v.join(sep) };
}

function checkDefault(type: string, def: unknown, parsed: { ok: boolean }): void {
  if (!parsed.ok) throw new ConfigDefinitionError({ name: `<${type}>`, reason: `default ${JSON.stringify(def)} is not valid` });
}
