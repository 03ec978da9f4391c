import { describe, expect, it } from 'vitest';
import { compileWaypointConfig } from './compile';
import { BOOKINFO_WAYPOINT_YAML, parseInput, svc } from './testing';

const YAML = `${BOOKINFO_WAYPOINT_YAML}
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews]
  http:
  - name: api
    match: [{uri: {prefix: /api}, headers: {x-team: {exact: a}}}]
    timeout: 3s
    delegate: {name: reviews-api, namespace: team}
  - match: [{uri: {prefix: /hidden}}]
    delegate: {name: private, namespace: team}
  - route: [{destination: {host: reviews}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-api, namespace: team}
spec:
  http:
  - name: v2
    match: [{uri: {prefix: /api/v2}}]
    route: [{destination: {host: reviews-v2}}]
    timeout: 1s
  - match: [{uri: {prefix: /other}}]
    route: [{destination: {host: reviews-v2}}]
  - route: [{destination: {host: reviews-v1}}]
  - delegate: {name: private, namespace: team}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: private, namespace: team}
spec:
  exportTo: ["."]
  http:
  - route: [{destination: {host: reviews-v1}}]
`;

describe('VirtualService delegation (Istio mergeHTTPRoute)', () => {
  const input = parseInput(YAML, [svc('reviews', 'bookinfo', '10.96.1.1', [9080])]);
  const { config, warnings } = compileWaypointConfig(input);
  const routes = config.services[0]!.routes;

  it('parses', () => {
    expect(input.parseErrors).toEqual([]);
  });

  it('replaces the delegating route by the delegate routes, narrowed to the root match', () => {
    expect(routes.map((r) => r.name)).toEqual(['bookinfo/reviews/api-v2', 'bookinfo/reviews/api', 'bookinfo/reviews/2']);
    const [v2, rest] = routes;
    expect(v2!.matches[0]).toMatchObject({ path: { kind: { case: 'prefix', value: '/api/v2' } }, headers: [{ name: 'x-team', kind: { case: 'exact', value: 'a' } }] });
    expect(rest!.matches[0]!.path?.kind).toEqual({ case: 'prefix', value: '/api' });
  });

  it('resolves the delegate\'s short hosts in its own namespace and inherits only the actions it leaves unset', () => {
    const [v2, rest] = routes;
    expect(v2!.backends[0]!.hostname).toBe('reviews-v2.team.svc.cluster.local');
    expect(v2!.timeoutMs).toBe(1000);
    expect(rest!.backends[0]!.hostname).toBe('reviews-v1.team.svc.cluster.local');
    expect(rest!.timeoutMs).toBe(3000);
  });

  it('drops delegate routes outside the root match and delegates not exported to the root, with warnings', () => {
    expect(warnings).toContainEqual(expect.objectContaining({ code: 'INVALID_VALUE', resource: 'VirtualService team/reviews-api', message: expect.stringContaining('http[1]') }));
    expect(warnings).toContainEqual(expect.objectContaining({ code: 'UNRESOLVED_REFERENCE', resource: 'VirtualService bookinfo/reviews', message: expect.stringContaining('team/private') }));
    expect(routes.some((r) => JSON.stringify(r.matches).includes('/hidden'))).toBe(false);
  });

  it('drops a delegate route that delegates again, naming the delegate', () => {
    expect(warnings).toContainEqual({ code: 'INVALID_VALUE', resource: 'VirtualService team/reviews-api', message: 'http[3]: a delegate VirtualService cannot delegate again (one level only); route skipped' });
    expect(warnings.filter((w) => w.message.includes('could not be resolved'))).toEqual([]);
  });
});
