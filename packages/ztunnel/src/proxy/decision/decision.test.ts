import { workload } from '@mesh/api';
import { isMeshError } from '@mesh/core';
import { describe, expect, it } from 'vitest';
import { MeshState } from '../../state/store';
import { addressWaypoint, hostnameWaypoint, makeService, makeWorkload, svcUpdate, wlUpdate } from '../../state/test-fixtures';
import { parseAuthority, resolveInboundPort, validateInboundAuthority } from './inbound';
import { decideOutbound, type OutboundRequest } from './outbound';
import { EndpointPicker } from './upstream';

const SERVER_HOST = 'server.default.svc.cluster.local';
const WP_HOST = 'waypoint.default.svc.cluster.local';
const client = makeWorkload({ name: 'client', namespace: 'client', sa: 'client', ips: ['10.0.1.1'] });
const s1 = makeWorkload({ name: 's1', sa: 'server', ips: ['10.0.2.1'], services: { [`default/${SERVER_HOST}`]: [[80, 8080]] } });
const s2 = makeWorkload({ name: 's2', sa: 'server', ips: ['10.0.2.2'], services: { [`default/${SERVER_HOST}`]: [[80, 8080]] } });
const s3Unhealthy = makeWorkload({ name: 's3', sa: 'server', ips: ['10.0.2.3'], unhealthy: true, services: { [`default/${SERVER_HOST}`]: [[80, 8080]] } });
const wp = makeWorkload({ name: 'wp', sa: 'waypoint', ips: ['10.0.3.1'], services: { [`default/${WP_HOST}`]: [[15008, 15008]] } });
const r1 = makeWorkload({ name: 'r1', sa: 'reviews', ips: ['10.0.4.1'], services: { 'default/reviews.default.svc.cluster.local': [[9080, 9080]] } });
const wlWithWp = makeWorkload({ name: 'wlwp', ips: ['10.0.5.1'], waypoint: hostnameWaypoint('default', WP_HOST), services: { 'default/plain.default.svc.cluster.local': [[80, 8080]] } });
const tcpPod = makeWorkload({ name: 'tcp', ips: ['10.0.6.1'], hbone: false });
const n1 = makeWorkload({ name: 'n1', ips: ['10.0.7.1'], services: { 'default/named.default.svc.cluster.local': [[80, 9090]] } });
const n2 = makeWorkload({ name: 'n2', ips: ['10.0.7.2'], services: { 'default/named.default.svc.cluster.local': [] } });
const remote = makeWorkload({ name: 'remote', ips: ['10.9.0.1'], network: 'net2', services: { 'default/remote.default.svc.cluster.local': [[80, 80]] } });

function state(): MeshState {
  const s = new MeshState();
  s.applyAddresses(
    [
      ...[client, s1, s2, s3Unhealthy, wp, r1, wlWithWp, tcpPod, n1, n2, remote].map(wlUpdate),
      svcUpdate(makeService({ name: 'server', vips: ['10.96.0.10'], ports: [[80, 8080]], sans: ['spiffe://cluster.local/ns/default/sa/extra', 'not-spiffe'] })),
      svcUpdate(makeService({ name: 'waypoint', vips: ['10.96.0.20'], ports: [[15008, 15008]] })),
      svcUpdate(makeService({ name: 'reviews', vips: ['10.96.0.30'], ports: [[9080, 9080]], waypoint: hostnameWaypoint('default', WP_HOST) })),
      svcUpdate(makeService({ name: 'plain', vips: ['10.96.0.31'], ports: [[80, 8080]] })),
      svcUpdate(makeService({ name: 'empty', vips: ['10.96.0.40'], ports: [[80, 80]] })),
      svcUpdate(makeService({ name: 'pass', vips: ['10.96.0.50'], ports: [[80, 80]], lbMode: workload.LoadBalancing_Mode.PASSTHROUGH })),
      svcUpdate(makeService({ name: 'named', vips: ['10.96.0.60'], ports: [[80, 0]] })),
      svcUpdate(makeService({ name: 'remote', vips: ['10.96.0.70'], ports: [[80, 80]] })),
      svcUpdate(makeService({ name: 'badwp', vips: ['10.96.0.80'], ports: [[80, 80]], waypoint: hostnameWaypoint('default', 'missing.example') })),
    ],
    [],
  );
  return s;
}

const req = (ip: string, port: number, sourceWorkload = client): OutboundRequest => ({ sourceWorkload, originalDst: { ip, port } });
const rr = (): EndpointPicker => new EndpointPicker('round-robin');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isMeshError(err) ? err.code : 'NOT_MESH_ERROR';
  }
  return undefined;
}

describe('decideOutbound', () => {
  it('(1) service VIP with a waypoint -> HBONE to the waypoint pod, authority = VIP:port', () => {
    const plan = decideOutbound(req('10.96.0.30', 9080), state());
    expect(plan).toMatchObject({
      kind: 'hbone',
      route: 'service-waypoint',
      nextHop: { ip: '10.0.3.1', port: 15008 },
      authority: '10.96.0.30:9080',
      expectedSans: ['spiffe://cluster.local/ns/default/sa/waypoint'],
      dstService: { hostname: 'reviews.default.svc.cluster.local', name: 'reviews', namespace: 'default' },
    });
    expect(plan.dstWorkload?.uid).toBe(wp.uid);
  });

  it('(1) the waypoint itself is not sent back into its own waypoint', () => {
    const plan = decideOutbound(req('10.96.0.30', 9080, wp), state());
    expect(plan).toMatchObject({ kind: 'hbone', route: 'direct', nextHop: { ip: '10.0.4.1', port: 15008 }, authority: '10.0.4.1:9080' });
  });

  it('(1) waypoint referenced by address', () => {
    const s = state();
    s.applyAddresses([svcUpdate(makeService({ name: 'reviews', vips: ['10.96.0.30'], ports: [[9080, 9080]], waypoint: addressWaypoint('10.96.0.20') }))], []);
    expect(decideOutbound(req('10.96.0.30', 9080), s).nextHop).toEqual({ ip: '10.0.3.1', port: 15008 });
  });

  it('(1) an unresolvable waypoint is an error, not a bypass', () => {
    expect(codeOf(() => decideOutbound(req('10.96.0.80', 80), state()))).toBe('PROXY_UNKNOWN_WAYPOINT');
  });

  it('(2) service VIP -> an endpoint on the service target port; SANs = service SANs + workload identity', () => {
    const plan = decideOutbound(req('10.96.0.10', 80), state(), { picker: rr() });
    expect(plan).toMatchObject({ kind: 'hbone', route: 'direct', nextHop: { ip: '10.0.2.1', port: 15008 }, authority: '10.0.2.1:8080', dstService: { name: 'server' } });
    expect(plan.expectedSans).toEqual(['spiffe://cluster.local/ns/default/sa/extra', 'spiffe://cluster.local/ns/default/sa/server']);
  });

  it('(2) round-robin over healthy endpoints only', () => {
    const s = state();
    const picker = rr();
    const hops = Array.from({ length: 4 }, () => decideOutbound(req('10.96.0.10', 80), s, { picker }).nextHop.ip);
    expect(hops).toEqual(['10.0.2.1', '10.0.2.2', '10.0.2.1', '10.0.2.2']);
  });

  it('(2) random picks are spread and never unhealthy', () => {
    const s = state();
    let i = 0;
    const seq = [0.1, 0.9, 0.4, 0.6];
    const picker = new EndpointPicker('random', () => seq[i++ % seq.length] as number);
    const hops = new Set(Array.from({ length: 8 }, () => decideOutbound(req('10.96.0.10', 80), s, { picker }).nextHop.ip));
    expect([...hops].sort()).toEqual(['10.0.2.1', '10.0.2.2']);
  });

  it('(2) named target port: the endpoint mapping is used; endpoints without it are skipped', () => {
    const s = state();
    const picker = rr();
    for (let i = 0; i < 3; i++) expect(decideOutbound(req('10.96.0.60', 80), s, { picker }).authority).toBe('10.0.7.1:9090');
  });

  it('(2) a port the service does not have -> NoHealthyUpstream', () => {
    expect(codeOf(() => decideOutbound(req('10.96.0.10', 81), state()))).toBe('PROXY_NO_HEALTHY_UPSTREAM');
  });

  it('(2) known service without endpoints -> NoHealthyUpstream', () => {
    expect(codeOf(() => decideOutbound(req('10.96.0.40', 80), state()))).toBe('PROXY_NO_HEALTHY_UPSTREAM');
  });

  it('(2) PASSTHROUGH service -> original destination', () => {
    expect(decideOutbound(req('10.96.0.50', 80), state())).toEqual({ kind: 'passthrough', route: 'passthrough', nextHop: { ip: '10.96.0.50', port: 80 } });
  });

  it('(2) unknown destination -> passthrough plain TCP', () => {
    expect(decideOutbound(req('93.184.216.34', 443), state())).toEqual({ kind: 'passthrough', route: 'passthrough', nextHop: { ip: '93.184.216.34', port: 443 } });
  });

  it('(3) endpoint on another network -> typed error (double HBONE unsupported)', () => {
    expect(codeOf(() => decideOutbound(req('10.96.0.70', 80), state()))).toBe('PROXY_CROSS_NETWORK_UNSUPPORTED');
  });

  it('(4) workload-addressed with a workload waypoint -> the waypoint, authority = podIP:port', () => {
    expect(decideOutbound(req('10.0.5.1', 8080), state())).toMatchObject({
      kind: 'hbone',
      route: 'workload-waypoint',
      nextHop: { ip: '10.0.3.1', port: 15008 },
      authority: '10.0.5.1:8080',
      expectedSans: ['spiffe://cluster.local/ns/default/sa/waypoint'],
    });
  });

  it('(4) service-addressed traffic does not take the workload waypoint', () => {
    expect(decideOutbound(req('10.96.0.31', 80), state())).toMatchObject({ route: 'direct', nextHop: { ip: '10.0.5.1', port: 15008 } });
  });

  it('(4) the waypoint itself goes direct to the workload', () => {
    expect(decideOutbound(req('10.0.5.1', 8080, wp), state())).toMatchObject({ route: 'direct', authority: '10.0.5.1:8080' });
  });

  it('(5) direct HBONE to a pod IP keeps the port; v4-mapped destinations are canonical', () => {
    expect(decideOutbound(req('::ffff:10.0.2.2', 8080), state())).toMatchObject({
      kind: 'hbone',
      nextHop: { ip: '10.0.2.2', port: 15008 },
      authority: '10.0.2.2:8080',
      expectedSans: ['spiffe://cluster.local/ns/default/sa/server'],
    });
  });

  it('(5) a workload without HBONE -> plain TCP to podIP:port', () => {
    expect(decideOutbound(req('10.0.6.1', 5432), state())).toMatchObject({ kind: 'tcp', route: 'direct', nextHop: { ip: '10.0.6.1', port: 5432 } });
  });

  it.each([
    ['127.0.0.1', 15001],
    ['127.0.0.1', 15006],
    ['::1', 15008],
    ['10.0.1.1', 15008],
  ])('SelfCall for %s:%i', (ip, port) => {
    expect(codeOf(() => decideOutbound(req(ip, port), state()))).toBe('PROXY_SELF_CALL');
  });

  it('loopback on an ordinary port is plain passthrough', () => {
    expect(decideOutbound(req('127.0.0.1', 8080), state()).kind).toBe('passthrough');
  });

  it('a DNS ServiceEntry endpoint (hostname, no address): through its waypoint, else TCP to the hostname resolved at connect time', () => {
    const s = state();
    const ep = makeWorkload({ uid: 'Kubernetes/networking.istio.io/ServiceEntry/default/api/api.example.com', name: 'api', hostname: 'api.example.com', hbone: false, services: { 'default/api.example.com': [[443, 443]] } });
    const bound = makeService({ name: 'api', hostname: 'api.example.com', vips: ['240.240.0.1'], ports: [[443, 443]], waypoint: hostnameWaypoint('default', WP_HOST) });
    s.applyAddresses([wlUpdate(ep), svcUpdate(bound)], []);
    expect(decideOutbound(req('240.240.0.1', 443), s, { picker: rr() })).toMatchObject({ kind: 'hbone', route: 'service-waypoint', nextHop: { ip: '10.0.3.1', port: 15008 } });
    s.applyAddresses([svcUpdate(makeService({ name: 'api', hostname: 'api.example.com', vips: ['240.240.0.1'], ports: [[443, 443]] }))], []);
    const plan = decideOutbound(req('240.240.0.1', 443), s, { picker: rr() });
    expect(plan).toEqual({
      kind: 'tcp',
      route: 'direct',
      nextHop: { ip: 'api.example.com', port: 443 },
      dns: { hostname: 'api.example.com', preferIpv6: false },
      dstWorkload: ep,
      dstService: { hostname: 'api.example.com', name: 'api', namespace: 'default' },
    });
  });

  it('a hostname endpoint: its target port, the client family preferred, HBONE to it refused, addressed endpoints unchanged', () => {
    const s = state();
    const dnsEp = makeWorkload({ uid: 'se/dns', name: 'dns', hostname: 'db.example.com', hbone: false, services: { 'default/db.example.com': [[5432, 15432]] } });
    const hboneEp = makeWorkload({ uid: 'se/hbone', name: 'hb', hostname: 'hb.example.com', services: { 'default/hb.example.com': [[80, 80]] } });
    const ipEp = makeWorkload({ uid: 'se/ip', name: 'ip', ips: ['192.0.2.7'], hbone: false, services: { 'default/ip.example.com': [[80, 8080]] } });
    s.applyAddresses([
      wlUpdate(dnsEp), wlUpdate(hboneEp), wlUpdate(ipEp),
      svcUpdate(makeService({ name: 'db', hostname: 'db.example.com', vips: ['240.240.0.2', '2001:db8::2'], ports: [[5432, 5432]] })),
      svcUpdate(makeService({ name: 'hb', hostname: 'hb.example.com', vips: ['240.240.0.3'], ports: [[80, 80]] })),
      svcUpdate(makeService({ name: 'ip', hostname: 'ip.example.com', vips: ['240.240.0.4'], ports: [[80, 80]] })),
    ], []);
    expect(decideOutbound(req('240.240.0.2', 5432), s, { picker: rr() })).toMatchObject({ kind: 'tcp', nextHop: { ip: 'db.example.com', port: 15432 }, dns: { hostname: 'db.example.com', preferIpv6: false } });
    expect(decideOutbound(req('2001:db8::2', 5432), s, { picker: rr() })).toMatchObject({ dns: { preferIpv6: true } });
    expect(codeOf(() => decideOutbound(req('240.240.0.3', 80), s, { picker: rr() }))).toBe('PROXY_NO_VALID_DESTINATION');
    const direct = decideOutbound(req('240.240.0.4', 80), s, { picker: rr() });
    expect(direct).toMatchObject({ kind: 'tcp', nextHop: { ip: '192.0.2.7', port: 8080 } });
    expect(direct).not.toHaveProperty('dns');
  });
});

describe('inbound helpers', () => {
  it.each([
    ['10.0.0.1:80', { kind: 'ip', ip: '10.0.0.1', port: 80 }],
    ['[2001:db8::1]:443', { kind: 'ip', ip: '2001:db8::1', port: 443 }],
    ['reviews.default.svc.cluster.local:9080', { kind: 'hostname', hostname: 'reviews.default.svc.cluster.local', port: 9080 }],
    ['10.0.0.1', undefined],
    ['2001:db8::1:80', undefined],
    ['host:0', undefined],
    ['host:70000', undefined],
    ['bad host:80', undefined],
  ])('parseAuthority(%s)', (a, want) => {
    expect(parseAuthority(a)).toEqual(want);
  });

  it('accepts an authority equal to the local IP, and hostname authorities', () => {
    const s = state();
    expect(validateInboundAuthority('10.0.2.1:8080', '10.0.2.1', s1, s).ok).toBe(true);
    expect(validateInboundAuthority('server.default.svc.cluster.local:80', '10.0.2.1', s1, s).ok).toBe(true);
  });

  it('rejects a mismatched IP with 400', () => {
    const r = validateInboundAuthority('10.0.2.2:8080', '10.0.2.1', s1, state());
    expect(r.ok).toBe(false);
    if (!r.ok) expect([r.status, r.error.code]).toEqual([400, 'INBOUND_IP_MISMATCH']);
  });

  it('rejects a malformed authority with 400', () => {
    const r = validateInboundAuthority('nonsense', '10.0.2.1', s1, state());
    expect(!r.ok && r.error.code).toBe('INBOUND_BAD_AUTHORITY');
  });

  it('allows a mismatch when the workload has an application tunnel', () => {
    const tunnel = makeWorkload({ name: 's1', ips: ['10.0.2.1'], appTunnelPort: 15088 });
    expect(validateInboundAuthority('10.0.2.2:8080', '10.0.2.1', tunnel, state()).ok).toBe(true);
  });

  it('allows the waypoint sandwich: the target service/workload has this workload as waypoint', () => {
    const s = state();
    expect(validateInboundAuthority('10.96.0.30:9080', '10.0.3.1', wp, s).ok).toBe(true);
    expect(validateInboundAuthority('10.0.5.1:8080', '10.0.3.1', wp, s).ok).toBe(true);
    // ...but not for a target without that waypoint.
    expect(validateInboundAuthority('10.96.0.10:80', '10.0.3.1', wp, s).ok).toBe(false);
  });

  it('resolves ports: IP authority keeps its port; hostname maps service port to target port', () => {
    const s = state();
    const byIp = resolveInboundPort({ kind: 'ip', ip: '10.0.2.1', port: 8080 }, '10.0.2.1', s1, s);
    expect(byIp.ok && [byIp.upstream.ip, byIp.upstream.port, byIp.upstream.services.map((x) => x.name)]).toEqual(['10.0.2.1', 8080, ['server']]);
    const byHost = resolveInboundPort({ kind: 'hostname', hostname: SERVER_HOST, port: 80 }, '10.0.2.1', s1, s);
    expect(byHost.ok && byHost.upstream.port).toBe(8080);
    const named = resolveInboundPort({ kind: 'hostname', hostname: 'named.default.svc.cluster.local', port: 80 }, '10.0.7.1', n1, s);
    expect(named.ok && named.upstream.port).toBe(9090);
  });

  it('503 for unknown hostnames, missing ports and self calls', () => {
    const s = state();
    const codes = [
      resolveInboundPort({ kind: 'hostname', hostname: 'nope.example', port: 80 }, '10.0.2.1', s1, s),
      resolveInboundPort({ kind: 'hostname', hostname: 'named.default.svc.cluster.local', port: 80 }, '10.0.7.2', n2, s),
      resolveInboundPort({ kind: 'ip', ip: '10.0.2.1', port: 15008 }, '10.0.2.1', s1, s),
    ].map((r) => (r.ok ? 'ok' : `${r.status} ${r.error.code}`));
    expect(codes).toEqual(['503 INBOUND_UNKNOWN_HOSTNAME', '503 INBOUND_NO_PORT_FOR_SERVICE', '503 PROXY_SELF_CALL']);
  });

  it('application tunnel overrides the port and carries the original target', () => {
    const tunnel = makeWorkload({ name: 'wp', ips: ['10.0.3.1'], appTunnelPort: 15088 });
    const r = resolveInboundPort({ kind: 'ip', ip: '10.96.0.30', port: 9080 }, '10.0.3.1', tunnel, state());
    expect(r.ok && r.upstream).toMatchObject({ ip: '10.0.3.1', port: 15088, tunnel: { target: '10.96.0.30:9080' } });
  });
});
