import net, { type AddressInfo } from 'node:net';
import type { SecureContext } from 'node:tls';
import { create, waypoint, workload, WorkloadSchema } from '@mesh/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDirect, transportKey, UpstreamTlsError, type DirectConnect, type UpstreamTransport } from './direct';
import { HboneAgents } from './hbone-agents';
import { UpstreamState, type Endpoint } from './mesh-state';

const M = waypoint.UpstreamTls_Mode;
const tlsOf = (init: Parameters<typeof create<typeof waypoint.UpstreamTlsSchema>>[1]): waypoint.UpstreamTls => create(waypoint.UpstreamTlsSchema, init);
const transport = (tls: waypoint.UpstreamTls | undefined, host = 'api.example.com'): UpstreamTransport => ({ name: `outbound|443||${host}`, host, tls });
const noMeshContext = (): Promise<SecureContext> => Promise.reject(new Error('no mesh context in this test'));

let silent: net.Server;
let silentPort = 0;
beforeAll(async () => {
  // Accepts TCP and never answers: a TLS handshake against it can only time out.
  silent = net.createServer(() => undefined);
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentPort = (silent.address() as AddressInfo).port;
});
afterAll(() => silent.close());

function connect(over: Partial<DirectConnect>): ReturnType<typeof connectDirect> {
  return connectDirect({ address: '127.0.0.1', port: silentPort, transport: undefined, identity: '', alpn: undefined, timeoutMs: 2000, meshContext: noMeshContext, ...over });
}

describe('transportKey', () => {
  it('separates plaintext from each distinct TLS setting, and defaults the server name to the host', () => {
    expect(transportKey(undefined)).toBe('plain');
    expect(transportKey(transport(tlsOf({ mode: M.DISABLE })))).toBe('plain');
    const simple = transportKey(transport(tlsOf({ mode: M.SIMPLE })));
    expect(simple).toContain('api.example.com');
    expect(transportKey(transport(tlsOf({ mode: M.SIMPLE }), 'other.example.com'))).not.toBe(simple);
    expect(transportKey(transport(tlsOf({ mode: M.SIMPLE, sni: 'x' })))).not.toBe(simple);
    expect(transportKey(transport(tlsOf({ mode: M.SIMPLE, insecureSkipVerify: true })))).not.toBe(simple);
  });

  it('ISTIO_MUTUAL uses Istio\'s outbound_.<port>_.<subset>_.<host> server name', () => {
    expect(transportKey(transport(tlsOf({ mode: M.ISTIO_MUTUAL })))).toContain('outbound_.443_._.api.example.com');
  });
});

describe('connectDirect', () => {
  it('plaintext: connects to ip:port', async () => {
    const s = await connect({});
    expect((s as net.Socket).remotePort).toBe(silentPort);
    s.destroy();
  });

  it('hands the socket out without the connect timeout or its listener', async () => {
    const s = (await connect({})) as net.Socket;
    expect(s.timeout ?? 0).toBe(0);
    expect(s.listenerCount('timeout')).toBe(0);
    s.destroy();
  });

  it('a refused connection is a plain connect error', async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(connect({ port })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('a TLS handshake that never completes times out as a TLS failure', async () => {
    const err = await connect({ transport: transport(tlsOf({ mode: M.SIMPLE })), timeoutMs: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamTlsError);
    expect((err as UpstreamTlsError).transportFailureReason).toMatch(/TLS handshake with 127\.0\.0\.1:\d+ timed out after 100 ms/);
  });

  it('MUTUAL without a client certificate is refused before connecting', async () => {
    const t = { ...transport(tlsOf({ mode: M.MUTUAL })), source: 'DestinationRule egress/api' };
    await expect(connect({ transport: t })).rejects.toThrow('DestinationRule egress/api trafficPolicy.tls mode MUTUAL has no clientCertificate/privateKey');
  });
});

describe('HboneAgents endpoint transport', () => {
  it('keeps HBONE pool keys for mesh endpoints and separates direct ones by TLS settings', async () => {
    const state = new UpstreamState();
    state.upsertService(create(workload.ServiceSchema, { name: 'a', namespace: 'ns', hostname: 'a.example.com', ports: [{ servicePort: 80 }] }));
    const svc = { 'ns/a.example.com': { ports: [{ servicePort: 80, targetPort: 8080 }] } };
    state.upsertWorkload(create(WorkloadSchema, { uid: 'mesh', name: 'mesh', namespace: 'ns', addresses: [new Uint8Array([10, 0, 0, 1])], tunnelProtocol: workload.TunnelProtocol.HBONE, services: svc }));
    state.upsertWorkload(create(WorkloadSchema, { uid: 'ext', name: 'ext', namespace: 'ns', addresses: [new Uint8Array([10, 0, 0, 2])], services: svc }));
    state.upsertWorkload(create(WorkloadSchema, { uid: 'dns', name: 'dns', namespace: 'ns', hostname: 'backend.example.com', services: svc }));
    // A hostname workload in the mesh cannot be tunnelled to (no pod IP): not an endpoint.
    state.upsertWorkload(create(WorkloadSchema, { uid: 'dns-mesh', name: 'dns-mesh', namespace: 'ns', hostname: 'x.example.com', tunnelProtocol: workload.TunnelProtocol.HBONE, services: svc }));
    const eps = state.endpoints('a.example.com', 80);
    expect(eps.map((e) => [e.ip, e.workload.tunnel])).toEqual([['10.0.0.1', 'hbone'], ['10.0.0.2', 'none'], ['backend.example.com', 'none']]);
    const agents = new HboneAgents({ sourceIdentity: 'spiffe://cluster.local/ns/ns/sa/waypoint', secureContext: noMeshContext });
    const [mesh, ext] = eps as [Endpoint, Endpoint];
    const simple = transport(tlsOf({ mode: M.SIMPLE }), 'a.example.com');
    expect(agents.keyOf(mesh, simple)).toBe(agents.keyOf(mesh));
    expect(agents.keyOf(ext)).not.toBe(agents.keyOf(ext, simple));
    expect(agents.poolFor(ext, simple)).not.toBe(agents.poolFor(ext));
    expect(agents.poolFor(ext, simple)).toBe(agents.poolFor(ext, simple));
    await agents.close();
  });
});
