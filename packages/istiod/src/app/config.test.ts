import { describe, expect, it } from 'vitest';
import { argvToEnv, istiodConfig, parseConfigSource } from './config';

describe('istiod config', () => {
  it('has Istio defaults (ports, TTLs, trusted node accounts)', () => {
    const c = istiodConfig.parse({});
    expect([c.GRPC_PORT, c.MONITORING_PORT, c.READINESS_PORT]).toEqual([15012, 15014, 8080]);
    expect(c.MAX_WORKLOAD_CERT_TTL).toBe(90 * 86_400_000);
    expect(c.DEFAULT_WORKLOAD_CERT_TTL).toBe(86_400_000);
    expect(c.CA_TRUSTED_NODE_ACCOUNTS).toEqual(['istio-system/ztunnel']);
  });

  it('maps flags onto env names, flags winning, and reports --help and unknown flags', () => {
    const r = argvToEnv(['--grpc-port=0', '--TRUST_DOMAIN', 'example.org', '--help', '--nope'], { GRPC_PORT: '1' });
    expect(r.env['GRPC_PORT']).toBe('0');
    expect(r.env['TRUST_DOMAIN']).toBe('example.org');
    expect(r.help).toBe(true);
    expect(r.unknown).toEqual(['--nope']);
  });

  it('parses CONFIG_SOURCE', () => {
    expect(parseConfigSource('kubernetes')).toEqual({ kind: 'kubernetes' });
    expect(parseConfigSource('dir:/etc/mesh')).toEqual({ kind: 'dir', path: '/etc/mesh' });
    expect(parseConfigSource('dir:')).toBeUndefined();
    expect(parseConfigSource('etcd')).toBeUndefined();
  });
});
