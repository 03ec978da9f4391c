import { describe, expect, it } from 'vitest';
import { normalizePathBase } from './normalize-path';

describe('normalizePathBase (Istio BASE)', () => {
  it.each([
    ['/a/../b', '/b'],
    ['/a/./b/', '/a/b/'],
    ['/a/b/..', '/a/'],
    ['/../../x', '/x'],
    ['\\da', '/da'],
    ['/%61dmin', '/admin'],
    ['/%2e%2e/admin', '/admin'],
    ['/a%2fb', '/a%2Fb'],
    ['/a%5cb', '/a%5Cb'],
    ['/a//b', '/a//b'],
    ['/p?x=../y', '/p'],
    ['/p#frag', '/p'],
    ['/%7euser', '/~user'],
    ['/%zz', '/%zz'],
  ])('%s -> %s', (input, want) => {
    expect(normalizePathBase(input)).toEqual({ ok: true, path: want });
  });

  it('rejects %00 and paths not starting with /', () => {
    expect(normalizePathBase('/a%00b').ok).toBe(false);
    expect(normalizePathBase('a/b').ok).toBe(false);
    expect(normalizePathBase('').ok).toBe(false);
  });
});
