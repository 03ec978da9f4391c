import type { WaypointWarning, WaypointWarningCode } from './types';

interface Named {
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
}

/** Shared state of one compilation: naming defaults and the warning sink. */
export class CompileContext {
  readonly warnings: WaypointWarning[] = [];

  constructor(
    readonly waypointNamespace: string,
    readonly rootNamespace: string,
    readonly domainSuffix: string,
  ) {}

  warn(obj: Named, code: WaypointWarningCode, message: string): void {
    this.warnings.push({ code, resource: resourceLabel(obj), message });
  }
}

export function resourceLabel(obj: Named): string {
  return `${obj.kind} ${obj.metadata.namespace ?? 'default'}/${obj.metadata.name}`;
}

export function nsOf(obj: { readonly metadata: { readonly namespace?: string } }): string {
  return obj.metadata.namespace ?? 'default';
}

/** Istio's config ordering for conflicts: oldest creationTimestamp first, then namespace/name. */
export function byAge<T extends { readonly metadata: { readonly name: string; readonly namespace?: string; readonly creationTimestamp?: string } }>(a: T, b: T): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = `${nsOf(a)}/${a.metadata.name}`;
  const kb = `${nsOf(b)}/${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** Runs `fn`, turning an unexpected exception on odd input into a warning instead of a crash. */
export function guarded<T>(ctx: CompileContext, obj: Named, fallback: T, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const label = (() => {
      try {
        return resourceLabel(obj);
      } catch {
        return '<malformed resource>';
      }
    })();
    ctx.warnings.push({ code: 'COMPILE_ERROR', resource: label, message: `skipped: ${e instanceof Error ? e.message : String(e)}` });
    return fallback;
  }
}
