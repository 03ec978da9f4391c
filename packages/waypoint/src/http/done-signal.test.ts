import { describe, expect, it } from 'vitest';
import { DoneSignal } from './done-signal';

describe('DoneSignal', () => {
  it('runs each remaining listener once at abort, in order, and none after removal', () => {
    const s = new DoneSignal();
    const calls: string[] = [];
    const a = (): void => void calls.push('a');
    const b = (): void => void calls.push('b');
    s.addEventListener('abort', a);
    s.addEventListener('abort', b);
    s.addEventListener('abort', () => calls.push('c'));
    s.removeEventListener('abort', b);
    expect(s.aborted).toBe(false);
    s.abort();
    s.abort();
    expect(s.aborted).toBe(true);
    expect(calls).toEqual(['a', 'c']);
  });
});
