/**
 * The one base class for every error the mesh throws. Callers match on `code` (stable, SCREAMING_SNAKE),
 * never on message text; messages are for operators and should say what to check.
 */
export interface MeshErrorOptions {
  /** The lower-level error that caused this one (kept as the standard `Error.cause`). */
  cause?: unknown;
}

export class MeshError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: MeshErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    // Subclasses get their own name in stack traces and logs without having to set it.
    this.name = new.target.name;
  }

  toJSON(): { name: string; code: string; message: string; cause?: unknown } {
    const out: { name: string; code: string; message: string; cause?: unknown } = {
      name: this.name,
      code: this.code,
      message: this.message,
    };
    if (this.cause !== undefined) out.cause = describeCause(this.cause);
    return out;
  }
}

function describeCause(cause: unknown): unknown {
  if (cause instanceof MeshError) return cause.toJSON();
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' ? { name: cause.name, code, message: cause.message } : { name: cause.name, message: cause.message };
  }
  return cause;
}

/** An error class made by {@link defineMeshError}: instances carry the typed `details` used to format them. */
export interface MeshErrorClass<P> {
  new (details: P, options?: MeshErrorOptions): MeshError & { readonly details: P };
  readonly code: string;
  readonly prototype: MeshError;
}

/**
 * Define an error class with a stable code and a message built from typed details, in the style of
 * fastify's error catalogue (`createError(code, message)`), but with a typed formatter instead of `%s`.
 *
 *   export const XdsNackError = defineMeshError('XDS_NACK', 'XdsNackError',
 *     (d: { typeUrl: string; reason: string }) => `istiod rejected ... ${d.reason}`);
 */
export function defineMeshError<P>(code: string, name: string, format: (details: P) => string): MeshErrorClass<P> {
  const cls = class extends MeshError {
    static readonly code = code;
    readonly details: P;
    constructor(details: P, options?: MeshErrorOptions) {
      super(code, format(details), options);
      this.details = details;
      this.name = name;
    }
  };
  Object.defineProperty(cls, 'name', { value: name });
  return cls;
}

/** True when `err` is a MeshError, optionally with the given code. */
export function isMeshError(err: unknown, code?: string): err is MeshError {
  return err instanceof MeshError && (code === undefined || err.code === code);
}

/** Wrap anything thrown into a MeshError so callers always get a `code` (keeps the original as `cause`). */
export function toMeshError(err: unknown, code = 'INTERNAL', message?: string): MeshError {
  if (err instanceof MeshError) return err;
  const text = message ?? (err instanceof Error ? err.message : String(err));
  return new MeshError(code, text, { cause: err });
}
