import { create, waypoint, type MessageInitShape } from '@mesh/api';
import { describe, expect, it } from 'vitest';
import { OutlierDetector, outcomeOfStatus } from './outlier';

const keys = ['a', 'b', 'c', 'd'];

function detector(init: Omit<MessageInitShape<typeof waypoint.OutlierDetectionSchema>, '$typeName'>, clock: { now: number }): OutlierDetector {
  const cfg = create(waypoint.OutlierDetectionSchema, { consecutive5xx: 5, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 100, ...init });
  return new OutlierDetector(cfg, () => clock.now);
}

describe('OutlierDetector', () => {
  it('ejects after consecutive 5xx for base_ejection_time x ejections, then readmits', () => {
    const clock = { now: 0 };
    const d = detector({}, clock);
    for (let i = 0; i < 4; i++) d.report('a', 'gateway-error', keys);
    expect(d.isEjected('a')).toBe(false);
    d.report('a', 'error-5xx', keys);
    expect(d.isEjected('a')).toBe(true);
    expect(d.filter(keys, (k) => k)).toEqual(['b', 'c', 'd']);
    clock.now = 30_001;
    expect(d.isEjected('a')).toBe(false);
    for (let i = 0; i < 5; i++) d.report('a', 'error-5xx', keys);
    // Second ejection lasts twice as long.
    clock.now += 59_000;
    expect(d.isEjected('a')).toBe(true);
    clock.now += 2_000;
    expect(d.isEjected('a')).toBe(false);
  });

  it('a success resets the consecutive count', () => {
    const d = detector({}, { now: 0 });
    for (let i = 0; i < 4; i++) d.report('a', 'error-5xx', keys);
    d.report('a', 'success', keys);
    for (let i = 0; i < 4; i++) d.report('a', 'error-5xx', keys);
    expect(d.isEjected('a')).toBe(false);
  });

  it('stops ejecting at max_ejection_percent', () => {
    const d = detector({ maxEjectionPercent: 50 }, { now: 0 });
    for (const k of keys) for (let i = 0; i < 5; i++) d.report(k, 'error-5xx', keys);
    expect(keys.filter((k) => d.isEjected(k))).toEqual(['a', 'b']);
  });

  it('uses every endpoint below min_health_percent (panic)', () => {
    const d = detector({ minHealthPercent: 80 }, { now: 0 });
    for (let i = 0; i < 5; i++) d.report('a', 'error-5xx', keys);
    expect(d.isEjected('a')).toBe(true);
    expect(d.filter(keys, (k) => k)).toEqual(keys);
  });

  it('classifies statuses', () => {
    expect(outcomeOfStatus(503)).toBe('gateway-error');
    expect(outcomeOfStatus(500)).toBe('error-5xx');
    expect(outcomeOfStatus(404)).toBe('success');
  });
});
