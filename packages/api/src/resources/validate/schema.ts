import { tryParseDuration } from '../duration';
import type { ValidationContext } from './context';

/**
 * A check validates one value at the context's current path. Checks never throw on bad input:
 * they record issues, which is what keeps `validateResource` total over arbitrary JSON.
 */
export type Check = (value: unknown, ctx: ValidationContext) => void;

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  return `${typeof v} ${String(v)}`;
}

export interface StrOpts {
  readonly nonEmpty?: boolean;
  readonly pattern?: RegExp;
  /** Human description of `pattern`, e.g. "a DNS-1123 label". */
  readonly format?: string;
  readonly maxLength?: number;
  readonly check?: (s: string, ctx: ValidationContext) => void;
}

export function str(opts: StrOpts = {}): Check {
  return (v, ctx) => {
    if (typeof v !== 'string') return ctx.error('WRONG_TYPE', `must be a string, got ${describe(v)}`);
    if (opts.nonEmpty === true && v === '') return ctx.error('REQUIRED', 'must not be empty');
    if (opts.maxLength !== undefined && v.length > opts.maxLength) {
      return ctx.error('OUT_OF_RANGE', `must be at most ${opts.maxLength} characters, got ${v.length}`);
    }
    if (opts.pattern !== undefined && v !== '' && !opts.pattern.test(v)) {
      return ctx.error('INVALID_FORMAT', `invalid value ${JSON.stringify(v)}: must be ${opts.format ?? String(opts.pattern)}`);
    }
    opts.check?.(v, ctx);
  };
}

export const anyString: Check = str();
export const nonEmptyString: Check = str({ nonEmpty: true });

export interface NumOpts {
  readonly min?: number;
  readonly max?: number;
  readonly integer?: boolean;
}

export function num(opts: NumOpts = {}): Check {
  const what = opts.integer === true ? 'an integer' : 'a number';
  return (v, ctx) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || (opts.integer === true && !Number.isInteger(v))) {
      return ctx.error('WRONG_TYPE', `must be ${what}, got ${describe(v)}`);
    }
    if ((opts.min !== undefined && v < opts.min) || (opts.max !== undefined && v > opts.max)) {
      ctx.error('OUT_OF_RANGE', `${v} is out of range: must be ${rangeText(opts)}`);
    }
  };
}

function rangeText(opts: NumOpts): string {
  if (opts.min !== undefined && opts.max !== undefined) return `between ${opts.min} and ${opts.max}`;
  if (opts.min !== undefined) return `at least ${opts.min}`;
  return `at most ${String(opts.max)}`;
}

export function int(min?: number, max?: number): Check {
  return num({ integer: true, ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) });
}

export const port: Check = int(1, 65535);
export const anyInt: Check = int();
export const nonNegInt: Check = int(0);
export const percent: Check = num({ min: 0, max: 100 });

export const bool: Check = (v, ctx) => {
  if (typeof v !== 'boolean') ctx.error('WRONG_TYPE', `must be a boolean, got ${describe(v)}`);
};

/** Accepts anything (free-form fields such as Gateway API extension config). */
export const anyValue: Check = () => {};

/** Enum check; `what` names the concept in the message: unknown action "ALOW": expected ALLOW|DENY. */
export function oneOf(values: readonly string[], what = 'value'): Check {
  const set = new Set(values);
  const expected = values.join('|');
  return (v, ctx) => {
    if (typeof v !== 'string') return ctx.error('WRONG_TYPE', `must be a string, got ${describe(v)}`);
    if (!set.has(v)) ctx.error('INVALID_ENUM', `unknown ${what} ${JSON.stringify(v)}: expected ${expected}`);
  };
}

export interface DurationOpts {
  readonly minMs?: number;
}

/** A duration string parsed with `parseDuration`; Istio additionally wants millisecond precision. */
export function duration(opts: DurationOpts = {}): Check {
  return (v, ctx) => {
    if (typeof v !== 'string') return ctx.error('WRONG_TYPE', `must be a duration string like "1.5s", got ${describe(v)}`);
    const ms = tryParseDuration(v);
    if (ms === undefined) return ctx.error('INVALID_DURATION', `invalid duration ${JSON.stringify(v)}`);
    if (opts.minMs !== undefined && ms < opts.minMs) {
      ctx.error('OUT_OF_RANGE', `duration ${JSON.stringify(v)} must be at least ${opts.minMs}ms`);
    }
  };
}

export const anyDuration: Check = duration();
/** Istio's ValidateDuration: at least 1ms. */
export const istioDuration: Check = duration({ minMs: 1 });

export interface ArrOpts {
  readonly minItems?: number;
  readonly maxItems?: number;
}

export function arr(item: Check, opts: ArrOpts = {}): Check {
  return (v, ctx) => {
    if (!Array.isArray(v)) return ctx.error('WRONG_TYPE', `must be an array, got ${describe(v)}`);
    if (opts.minItems !== undefined && v.length < opts.minItems) {
      ctx.error('REQUIRED', opts.minItems === 1 ? 'must not be empty' : `must have at least ${opts.minItems} items`);
    }
    if (opts.maxItems !== undefined && v.length > opts.maxItems) {
      ctx.error('OUT_OF_RANGE', `must have at most ${opts.maxItems} items, got ${v.length}`);
    }
    for (let i = 0; i < v.length; i++) {
      ctx.push(i);
      item(v[i], ctx);
      ctx.pop();
    }
  };
}

export const stringList: Check = arr(anyString);

/** A map with free keys (labels, portLevelMtls, headers); `key` may check each key. */
export function mapOf(value: Check, key?: (k: string, ctx: ValidationContext) => void): Check {
  return (v, ctx) => {
    if (!isObj(v)) return ctx.error('WRONG_TYPE', `must be an object (map), got ${describe(v)}`);
    for (const k in v) {
      ctx.push(k);
      key?.(k, ctx);
      value(v[k], ctx);
      ctx.pop();
    }
  };
}

export const stringMap: Check = mapOf(anyString);

export interface ObjOpts {
  readonly required?: readonly string[];
  /** Open objects accept fields that are not modeled without a warning (large core Kubernetes schemas). */
  readonly open?: boolean;
  /** Cross-field rules, run after the fields when the object has the right shape. */
  readonly check?: (o: Obj, ctx: ValidationContext) => void;
}

export type Fields = Readonly<Record<string, Check>>;

/**
 * An object with known fields. null counts as absent (Kubernetes and protobuf JSON treat it so).
 * Unknown fields are warnings, not errors: the API server prunes them, so Istio never sees them.
 */
export function obj(fields: Fields, opts: ObjOpts = {}): Check {
  const known = new Map(Object.entries(fields));
  return (v, ctx) => {
    if (!isObj(v)) return ctx.error('WRONG_TYPE', `must be an object, got ${describe(v)}`);
    for (const k in v) {
      const value = v[k];
      const check = known.get(k);
      if (check === undefined) {
        if (opts.open !== true) {
          ctx.push(k);
          ctx.warn('UNKNOWN_FIELD', `unknown field ${JSON.stringify(k)} (ignored)`);
          ctx.pop();
        }
        continue;
      }
      if (value === null || value === undefined) continue;
      ctx.push(k);
      check(value, ctx);
      ctx.pop();
    }
    if (opts.required !== undefined) {
      for (const r of opts.required) {
        if (v[r] === undefined || v[r] === null) ctx.errorAt(r, 'REQUIRED', 'is required');
      }
    }
    opts.check?.(v, ctx);
  };
}

/** Kubernetes IntOrString (Service targetPort, HTTPRoute port names...). */
export const intOrString: Check = (v, ctx) => {
  if (typeof v === 'string') return;
  if (typeof v === 'number' && Number.isInteger(v)) return;
  ctx.error('WRONG_TYPE', `must be an integer or a string, got ${describe(v)}`);
};

/** Runs `check` on field `key` of `o` if present; used inside cross-field rules. */
export function at(o: Obj, key: string, ctx: ValidationContext, check: (v: unknown) => void): void {
  const v = o[key];
  if (v === undefined || v === null) return;
  ctx.push(key);
  check(v);
  ctx.pop();
}

/** Iterates an array field with the path set to each element; skips non-arrays (the schema reports them). */
export function eachIn(o: Obj, key: string, ctx: ValidationContext, fn: (item: unknown, i: number) => void): void {
  const list = o[key];
  if (!Array.isArray(list)) return;
  ctx.push(key);
  for (let i = 0; i < list.length; i++) {
    ctx.push(i);
    fn(list[i], i);
    ctx.pop();
  }
  ctx.pop();
}

export function has(o: Obj, key: string): boolean {
  return o[key] !== undefined && o[key] !== null;
}

export function lenOf(o: Obj, key: string): number {
  const v = o[key];
  return Array.isArray(v) ? v.length : 0;
}

export const DNS1123_LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const dnsLabel: Check = str({ nonEmpty: true, pattern: DNS1123_LABEL_RE, format: 'a DNS-1123 label', maxLength: 63 });
export const dnsSubdomain: Check = str({
  nonEmpty: true,
  pattern: DNS1123_SUBDOMAIN_RE,
  format: 'a DNS-1123 subdomain',
  maxLength: 253,
});
