import { describe, expect, it } from 'vitest';
import type { waypoint } from '@mesh/api';
import { isRetriable, retryBackoffMs, RETRY_BASE_INTERVAL_MS, type TryOutcome } from './retry';

const policy = (retryOn: string, codes: number[] = []): waypoint.RetryPolicy =>
  ({ attempts: 2, retryOn: retryOn.split(','), retriableStatusCodes: codes, perTryTimeoutMs: 0 }) as unknown as waypoint.RetryPolicy;

const outcomes: Record<string, TryOutcome> = {
  ok: { kind: 'response', status: 200 },
  conflict: { kind: 'response', status: 409 },
  internal: { kind: 'response', status: 500 },
  badGateway: { kind: 'response', status: 502 },
  unavailable: { kind: 'response', status: 503 },
  grpcUnavailable: { kind: 'response', status: 200, grpcStatus: 14 },
  grpcCancelled: { kind: 'response', status: 200, grpcStatus: 1 },
  connectFailure: { kind: 'connect-failure' },
  reset: { kind: 'reset' },
  refused: { kind: 'reset', refused: true },
  timeout: { kind: 'timeout' },
};

// Which outcomes each retryOn condition retries, per Envoy's router (x-envoy-retry-on / RetryStateImpl).
const table: Record<string, string[]> = {
  '5xx': ['internal', 'badGateway', 'unavailable', 'connectFailure', 'reset', 'refused', 'timeout'],
  'gateway-error': ['badGateway', 'unavailable', 'connectFailure', 'reset', 'refused', 'timeout'],
  reset: ['reset', 'refused', 'timeout'],
  'connect-failure': ['connectFailure'],
  'refused-stream': ['refused'],
  'retriable-4xx': ['conflict'],
  unavailable: ['grpcUnavailable'],
  cancelled: ['grpcCancelled'],
};

describe('isRetriable', () => {
  for (const [cond, yes] of Object.entries(table)) {
    it(`${cond} retries exactly ${yes.join(', ')}`, () => {
      const got = Object.entries(outcomes).filter(([, o]) => isRetriable(policy(cond), o)).map(([k]) => k);
      expect(got).toEqual(yes);
    });
  }

  it('retriable-status-codes uses the configured codes only', () => {
    expect(isRetriable(policy('retriable-status-codes', [500]), outcomes['internal']!)).toBe(true);
    expect(isRetriable(policy('retriable-status-codes', [500]), outcomes['unavailable']!)).toBe(false);
  });

  it("Istio's default policy does not retry a plain reset of an HTTP/1.1 upstream", () => {
    const istioDefault = policy('connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes', [503]);
    expect(isRetriable(istioDefault, outcomes['reset']!)).toBe(false);
    expect(isRetriable(istioDefault, outcomes['refused']!)).toBe(true);
    expect(isRetriable(istioDefault, outcomes['unavailable']!)).toBe(true);
  });

  it('never retries without attempts or a policy, and ignores unknown conditions', () => {
    expect(isRetriable(undefined, outcomes['reset']!)).toBe(false);
    expect(isRetriable({ ...policy('5xx'), attempts: 0 }, outcomes['internal']!)).toBe(false);
    expect(isRetriable(policy('no-such-thing'), outcomes['internal']!)).toBe(false);
  });

  it('backs off with full jitter, capped at 10x the base interval', () => {
    expect(retryBackoffMs(0, () => 0.999)).toBeLessThan(RETRY_BASE_INTERVAL_MS);
    expect(retryBackoffMs(10, () => 0.999)).toBeLessThan(RETRY_BASE_INTERVAL_MS * 10);
  });
});
