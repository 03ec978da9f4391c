import { describe, expect, it } from 'vitest';
import { DurationParseError, parseDuration, tryParseDuration } from './duration';

describe('parseDuration', () => {
  it.each([
    ['1.5s', 1500],
    ['100ms', 100],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['2m3s', 123_000],
    ['0', 0],
    ['0s', 0],
    ['250us', 0.25],
    ['10ns', 0.00001],
    ['.5s', 500],
  ])('parses %s', (input, ms) => {
    expect(parseDuration(input)).toBeCloseTo(ms, 9);
  });

  it.each(['', '5x', '5', '-1s', 's', '1.5', '1s ', 'abc', '1 s', '1sm'])('rejects %j', (input) => {
    expect(() => parseDuration(input)).toThrow(DurationParseError);
    expect(tryParseDuration(input)).toBeUndefined();
  });

  it('names the bad input and has a stable code', () => {
    try {
      parseDuration('5x');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DurationParseError);
      expect((e as DurationParseError).code).toBe('INVALID_DURATION');
      expect((e as Error).message).toContain('invalid duration "5x"');
    }
  });
});
