import { describe, expect, it } from 'vitest';
import { renderHosts, renderResolvConf } from './hosts';
import { parseSaved, renderRestore, renderServiceRules } from './iptables';
import { ipToInt, ownedNamePattern, podNetns } from './names';
import { allocateVip, serviceEndpointIps } from './services';
import type { PodState, ServiceState } from './state';

const pod = (name: string, ip: string, labels: Record<string, string>, namespace = 'demo'): PodState => ({
  name,
  namespace,
  node: 'n',
  netns: `x-${name}`,
  ip,
  hostVeth: 'v',
  labels,
  serviceAccount: 'default',
});

const svc = (over: Partial<ServiceState> = {}): ServiceState => ({
  name: 'echo',
  namespace: 'demo',
  vip: '10.96.5.5',
  ports: [{ name: 'http', port: 80, targetPort: 8080 }],
  selector: { app: 'echo' },
  ...over,
});

describe('VIP allocation', () => {
  it('is deterministic, inside 10.96.0.0/12 and skips taken VIPs', () => {
    const a = allocateVip('demo', 'echo', new Set());
    expect(allocateVip('demo', 'echo', new Set())).toBe(a);
    expect(ipToInt(a) >>> 20).toBe(ipToInt('10.96.0.0') >>> 20);
    const b = allocateVip('demo', 'echo', new Set([a]));
    expect(b).not.toBe(a);
    expect(allocateVip('other', 'echo', new Set())).not.toBe(a);
  });
});

describe('endpoints', () => {
  it('selects pods of the same namespace whose labels match, plus explicit IPs, sorted', () => {
    const pods = [
      pod('b', '10.244.1.3', { app: 'echo', version: 'v2' }),
      pod('a', '10.244.0.2', { app: 'echo' }),
      pod('c', '10.244.0.3', { app: 'other' }),
      pod('d', '10.244.0.4', { app: 'echo' }, 'prod'),
    ];
    expect(serviceEndpointIps(svc({ endpointIps: ['10.244.9.9'] }), pods)).toEqual(['10.244.0.2', '10.244.1.3', '10.244.9.9']);
    expect(serviceEndpointIps(svc({ selector: {} }), pods)).toEqual([]);
  });
});

describe('iptables rendering', () => {
  const pods = [pod('a', '10.244.0.2', { app: 'echo' }), pod('b', '10.244.1.2', { app: 'echo' }), pod('c', '10.244.1.3', { app: 'echo' })];

  it('splits uniformly with statistic probabilities 1/3, 1/2, then the last unconditionally', () => {
    const r = renderServiceRules([svc()], pods);
    const svcRules = r.nat.rules.filter((l) => l.startsWith('-A MESH-SVC-'));
    expect(svcRules).toHaveLength(3);
    expect(svcRules[0]).toContain('--probability 0.3333333333');
    expect(svcRules[1]).toContain('--probability 0.5000000000');
    expect(svcRules[2]).not.toContain('statistic');
    expect(r.nat.rules.filter((l) => l.includes('DNAT --to-destination 10.244.1.2:8080'))).toHaveLength(1);
    expect(r.nat.rules.some((l) => l.includes('-d 10.96.5.5/32 -p tcp -m tcp --dport 80'))).toBe(true);
    expect(r.filter.rules).toEqual([]);
  });

  it('rejects in the filter table when a port has no endpoints', () => {
    const r = renderServiceRules([svc({ selector: { app: 'none' } })], pods);
    expect(r.filter.rules).toHaveLength(1);
    expect(r.filter.rules[0]).toMatch(/-d 10.96.5.5\/32 .* -j REJECT$/);
    expect(r.nat.chains.some((c) => c.startsWith('MESH-SVC-'))).toBe(false);
  });

  it('restore adds hooks once, declares chains and flushes before deleting stale chains', () => {
    const rendered = renderServiceRules([svc()], pods);
    const first = renderRestore(rendered, '');
    expect(first).toContain('-A PREROUTING -j MESH-SERVICES');
    const saved = `*nat\n:PREROUTING ACCEPT [0:0]\n:MESH-SVC-OLD - [0:0]\n:MESH-SEP-OLD - [0:0]\n:MESH-SERVICES - [0:0]\n-A PREROUTING -j MESH-SERVICES\n-A OUTPUT -j MESH-SERVICES\n-A POSTROUTING -j MESH-POSTROUTING\nCOMMIT\n`;
    const second = renderRestore(rendered, saved);
    expect(second).not.toContain('-A PREROUTING -j MESH-SERVICES');
    const lines = second.split('\n');
    expect(lines.indexOf('-X MESH-SVC-OLD')).toBeGreaterThan(lines.indexOf('-F MESH-SEP-OLD'));
    expect(lines.indexOf('-X MESH-SEP-OLD')).toBeGreaterThan(lines.indexOf('-F MESH-SVC-OLD'));
    expect(parseSaved(saved).chains.get('nat')).toEqual(new Set(['MESH-SVC-OLD', 'MESH-SEP-OLD', 'MESH-SERVICES']));
  });
});

describe('names and hosts', () => {
  it('sweeps only names this layer creates under its prefix', () => {
    const re = ownedNamePattern('mesh-a-');
    expect(re.test('mesh-a-sw')).toBe(true);
    expect(re.test('mesh-a-n3')).toBe(true);
    expect(re.test(podNetns('mesh-a-', 'demo', 'x'))).toBe(true);
    expect(re.test('mesh-a-b-sw')).toBe(false);
    expect(re.test('mesh-ab-sw')).toBe(false);
  });

  it('hosts spells out every kube DNS name, short names only for the own namespace', () => {
    const text = renderHosts({ hostname: 'p', ip: '10.244.0.2', namespace: 'demo' }, [svc(), svc({ namespace: 'prod', vip: '10.96.7.7' })]);
    expect(text).toContain('10.96.5.5\techo.demo.svc.cluster.local echo.demo.svc echo.demo echo\n');
    expect(text).toContain('10.96.7.7\techo.prod.svc.cluster.local echo.prod.svc echo.prod\n');
    expect(renderResolvConf('demo')).toMatch(/^nameserver 127\.0\.0\.1$/m);
  });
});
