/** Milliseconds per unit of Go's time.ParseDuration, the format Istio and Gateway API durations use. */
const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  'μs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const SEGMENT_RE = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

export class DurationParseError extends Error {
  readonly code = 'INVALID_DURATION';

  constructor(readonly input: string, reason: string) {
    super(`invalid duration ${JSON.stringify(input)}: ${reason}; expected e.g. "1.5s", "100ms", "1h30m"`);
    this.name = 'DurationParseError';
  }
}

/**
 * Parses a duration string ("1.5s", "100ms", "1h30m", "0") into milliseconds, accepting Go's
 * time.ParseDuration grammar (which protobuf JSON "1.5s" and Gateway API GEP-2257 strings are subsets of).
 * Negative durations are rejected: nothing in the mesh accepts them. Returns undefined on garbage.
 */
export function tryParseDuration(input: string): number | undefined {
  const result = scanDuration(input);
  return typeof result === 'number' ? result : undefined;
}

/** Like `tryParseDuration` but throws a `DurationParseError` (code INVALID_DURATION) saying what is wrong. */
export function parseDuration(input: string): number {
  const result = scanDuration(input);
  if (typeof result === 'number') return result;
  throw new DurationParseError(input, result.reason);
}

function scanDuration(input: string): number | { reason: string } {
  if (typeof input !== 'string' || input === '') return { reason: 'empty' };
  if (input === '0') return 0;
  if (input[0] === '-') return { reason: 'must not be negative' };
  const s = input[0] === '+' ? input.slice(1) : input;
  if (s === '') return { reason: 'missing value' };
  let pos = 0;
  let total = 0;
  while (pos < s.length) {
    SEGMENT_RE.lastIndex = pos;
    const m = SEGMENT_RE.exec(s);
    if (m === null) {
      return { reason: /^[\d.]+$/.test(s.slice(pos)) ? 'missing unit' : `unexpected "${s.slice(pos)}"` };
    }
    const unit = UNIT_MS[m[2] as string] as number;
    total += Number(m[1]) * unit;
    pos = SEGMENT_RE.lastIndex;
  }
  if (!Number.isFinite(total)) return { reason: 'out of range' };
  return total;
}
