import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeldVersions } from './held-versions';

describe('HeldVersions', () => {
  it('layers own updates and removals over a shared baseline without touching it', () => {
    const base = new Map([['a', '1'], ['b', '1'], ['c', '1']]);
    const h = new HeldVersions([['x', '9']]);
    h.adopt(base);
    expect(h.get('x')).toBeUndefined();
    h.set('a', '2');
    expect(h.delete('b')).toBe(true);
    expect(h.delete('b')).toBe(false);
    h.set('d', '1');
    expect([...h.keys()].sort()).toEqual(['a', 'c', 'd']);
    expect(h.size).toBe(3);
    expect(h.get('a')).toBe('2');
    h.set('b', '1'); // back to the baseline's version
    expect(h.get('b')).toBe('1');
    expect(h.size).toBe(4);
    expect([...base]).toEqual([['a', '1'], ['b', '1'], ['c', '1']]);
  });

  it('behaves like a plain Map under any sequence of operations', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), name: fc.constantFrom('a', 'b', 'c', 'd'), version: fc.constantFrom('1', '2') }),
      fc.record({ kind: fc.constant('delete' as const), name: fc.constantFrom('a', 'b', 'c', 'd') }),
      fc.record({ kind: fc.constant('adopt' as const), entries: fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.constantFrom('1', '2'))) }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
      const h = new HeldVersions();
      const m = new Map<string, string>();
      for (const o of ops) {
        if (o.kind === 'set') {
          h.set(o.name, o.version);
          m.set(o.name, o.version);
        } else if (o.kind === 'delete') {
          expect(h.delete(o.name)).toBe(m.delete(o.name));
        } else {
          const base = new Map(o.entries);
          h.adopt(base);
          m.clear();
          for (const [k, v] of base) m.set(k, v);
        }
        expect(h.size).toBe(m.size);
        expect(new Map([...h.keys()].map((k) => [k, h.get(k)]))).toEqual(m);
      }
    }));
  });
});
