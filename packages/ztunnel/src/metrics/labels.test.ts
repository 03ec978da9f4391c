import { describe, expect, it } from 'vitest';
import { makeWorkload } from '../state/test-fixtures';
import { buildTcpLabels, TCP_LABEL_NAMES, TcpLabelCache } from './labels';

const src = makeWorkload({ name: 'client-abc', namespace: 'client', sa: 'client-sa', workloadName: 'client', canonicalName: 'client-app', canonicalRevision: 'v1', clusterId: 'Kubernetes' });
const dst = makeWorkload({ name: 'server-xyz', namespace: 'default', sa: 'server', workloadName: 'server', canonicalName: 'server', canonicalRevision: 'v2', clusterId: 'Kubernetes' });
const svc = { hostname: 'server.default.svc.cluster.local', name: 'server', namespace: 'default' };

describe('TCP metric labels', () => {
  it('produces the full Istio label set for a destination-reported mTLS connection', () => {
    const l = buildTcpLabels({ reporter: 'destination', sourceWorkload: src, destinationWorkload: dst, destinationService: svc, securityPolicy: 'mutual_tls' });
    expect(Object.keys(l).sort()).toEqual([...TCP_LABEL_NAMES].sort());
    expect(l).toEqual({
      reporter: 'destination',
      source_workload: 'client',
      source_canonical_service: 'client-app',
      source_canonical_revision: 'v1',
      source_workload_namespace: 'client',
      source_principal: 'spiffe://cluster.local/ns/client/sa/client-sa',
      source_app: 'client-app',
      source_version: 'v1',
      source_cluster: 'Kubernetes',
      destination_service: 'server.default.svc.cluster.local',
      destination_service_namespace: 'default',
      destination_service_name: 'server',
      destination_workload: 'server',
      destination_canonical_service: 'server',
      destination_canonical_revision: 'v2',
      destination_workload_namespace: 'default',
      destination_principal: 'spiffe://cluster.local/ns/default/sa/server',
      destination_app: 'server',
      destination_version: 'v2',
      destination_cluster: 'Kubernetes',
      request_protocol: 'tcp',
      response_flags: '-',
      connection_security_policy: 'mutual_tls',
    });
  });

  it('fills missing values with "unknown" (passthrough, no workloads)', () => {
    const l = buildTcpLabels({ reporter: 'source', securityPolicy: 'unknown', responseFlags: 'CONNECT' });
    for (const name of TCP_LABEL_NAMES) {
      if (['reporter', 'request_protocol', 'response_flags', 'connection_security_policy'].includes(name)) continue;
      expect(l[name], name).toBe('unknown');
    }
    expect(l.response_flags).toBe('CONNECT');
  });

  it('prefers the handshake identity for source_principal', () => {
    const l = buildTcpLabels({ reporter: 'destination', sourceWorkload: src, sourceIdentity: { trustDomain: 'td', namespace: 'n', serviceAccount: 's' }, securityPolicy: 'mutual_tls' });
    expect(l.source_principal).toBe('spiffe://td/ns/n/sa/s');
  });

  it('cache returns the same object for the same pair and a new one when inputs change', () => {
    const c = new TcpLabelCache();
    const a = c.labels({ reporter: 'source', sourceWorkload: src, destinationWorkload: dst, destinationService: svc, securityPolicy: 'mutual_tls' });
    const b = c.labels({ reporter: 'source', sourceWorkload: src, destinationWorkload: dst, destinationService: svc, securityPolicy: 'mutual_tls' });
    expect(b).toBe(a);
    const denied = c.labels({ reporter: 'source', sourceWorkload: src, destinationWorkload: dst, destinationService: svc, securityPolicy: 'mutual_tls', responseFlags: 'DENY' });
    expect(denied).not.toBe(a);
    expect(denied.response_flags).toBe('DENY');
    const updated = makeWorkload({ name: 'server-xyz', namespace: 'default', workloadName: 'server', canonicalRevision: 'v3' });
    expect(c.labels({ reporter: 'source', sourceWorkload: src, destinationWorkload: updated, securityPolicy: 'mutual_tls' }).destination_version).toBe('v3');
  });
});
