import { describe, expect, it } from 'vitest';
import { MeshError, defineMeshError, isMeshError, toMeshError } from './mesh-error';
import { ConfigInvalidValueError } from './catalogue';

describe('MeshError', () => {
  it('carries code, message, cause and a subclass name', () => {
    class XdsNackError extends MeshError {
      constructor(cause: Error) {
        super('XDS_NACK', 'istiod rejected the update', { cause });
      }
    }
    const root = new Error('boom');
    const err = new XdsNackError(root);
    expect(err).toBeInstanceOf(Error);
    expect(err).toBeInstanceOf(MeshError);
    expect(err.code).toBe('XDS_NACK');
    expect(err.name).toBe('XdsNackError');
    expect(err.cause).toBe(root);
    expect(err.toJSON()).toEqual({
      name: 'XdsNackError',
      code: 'XDS_NACK',
      message: 'istiod rejected the update',
      cause: { name: 'Error', message: 'boom' },
    });
  });

  it('defineMeshError makes distinct classes with static codes and typed details', () => {
    const A = defineMeshError('A_FAILED', 'AError', (d: { what: string }) => `a failed: ${d.what}`);
    const B = defineMeshError('B_FAILED', 'BError', (d: { n: number }) => `b ${d.n}`);
    const a = new A({ what: 'x' }, { cause: 'inner' });
    expect(a.message).toBe('a failed: x');
    expect(a.code).toBe('A_FAILED');
    expect(A.code).toBe('A_FAILED');
    expect(a.details).toEqual({ what: 'x' });
    expect(a.name).toBe('AError');
    expect(A.name).toBe('AError');
    expect(a.cause).toBe('inner');
    expect(a).toBeInstanceOf(A);
    expect(a).not.toBeInstanceOf(B);
    expect(a.stack).toContain('AError');
  });

  it('isMeshError matches on code, not message', () => {
    const e = new ConfigInvalidValueError({ name: 'X', value: 'y', expected: 'an integer' });
    expect(isMeshError(e)).toBe(true);
    expect(isMeshError(e, 'CONFIG_INVALID_VALUE')).toBe(true);
    expect(isMeshError(e, 'OTHER')).toBe(false);
    expect(isMeshError(new Error('CONFIG_INVALID_VALUE'))).toBe(false);
    expect(e.message).toContain('X="y"');
  });

  it('toMeshError wraps foreign errors and keeps mesh errors', () => {
    const m = new MeshError('K', 'k');
    expect(toMeshError(m)).toBe(m);
    const wrapped = toMeshError(new TypeError('bad'), 'WRAPPED');
    expect(wrapped.code).toBe('WRAPPED');
    expect(wrapped.message).toBe('bad');
    expect(wrapped.cause).toBeInstanceOf(TypeError);
    expect(toMeshError('str').message).toBe('str');
  });
});
