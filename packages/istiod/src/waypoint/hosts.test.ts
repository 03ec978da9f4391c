import { describe, expect, it } from 'vitest';
import { hostMatches, resolveHost } from './hosts';

describe('resolveHost', () => {
  it.each([
    ['reviews', 'reviews.bookinfo.svc.cluster.local'],
    ['reviews.other', 'reviews.other.svc.cluster.local'],
    ['reviews.other.svc', 'reviews.other.svc.cluster.local'],
    ['Reviews.Bookinfo.svc.cluster.local', 'reviews.bookinfo.svc.cluster.local'],
    ['api.example.com', 'api.example.com'],
    ['*.bookinfo.svc.cluster.local', '*.bookinfo.svc.cluster.local'],
    ['*', '*'],
  ])('%s -> %s', (h, want) => {
    expect(resolveHost(h, 'bookinfo', 'cluster.local')).toBe(want);
  });
});

describe('hostMatches', () => {
  it('matches exact, wildcard suffix and *', () => {
    expect(hostMatches('reviews.bookinfo.svc.cluster.local', 'reviews.bookinfo.svc.cluster.local')).toBe(true);
    expect(hostMatches('*.bookinfo.svc.cluster.local', 'reviews.bookinfo.svc.cluster.local')).toBe(true);
    expect(hostMatches('*.other.svc.cluster.local', 'reviews.bookinfo.svc.cluster.local')).toBe(false);
    expect(hostMatches('*', 'anything')).toBe(true);
    expect(hostMatches('ratings.bookinfo.svc.cluster.local', 'reviews.bookinfo.svc.cluster.local')).toBe(false);
  });
});
