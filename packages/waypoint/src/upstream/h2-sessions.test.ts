import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { H2Sessions } from './h2-sessions';
import type { Endpoint } from './mesh-state';

let server: http2.Http2Server;
let port = 0;
let opened = 0;

const ep = { ip: '127.0.0.1', port: 9090, workload: { identity: 'spiffe://cluster.local/ns/default/sa/greeter' } } as unknown as Endpoint;
// Stands in for the HBONE tunnel: a plain TCP connection to an h2c server.
const openTunnel = (): Promise<net.Socket> => {
  opened++;
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
};

function get(session: http2.ClientHttp2Session): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = session.request({ ':path': '/' }, { endStream: true });
    s.once('response', (h) => resolve(Number(h[':status'])));
    s.once('error', reject);
    s.resume();
  });
}

beforeAll(async () => {
  server = http2.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => server.close());

describe('H2Sessions', () => {
  it('shares one session per endpoint across concurrent requests', async () => {
    const sessions = new H2Sessions(openTunnel);
    opened = 0;
    const got = await Promise.all([sessions.acquire(ep), sessions.acquire(ep), sessions.acquire(ep)]);
    expect(new Set(got).size).toBe(1);
    expect(await get(got[0]!)).toBe(200);
    expect(opened).toBe(1);
    sessions.close();
  });

  it('retires a session after maxStreams (maxRequestsPerConnection) and reopens after it died', async () => {
    const sessions = new H2Sessions(openTunnel);
    opened = 0;
    const a = await sessions.acquire(ep, 2);
    expect(await get(a)).toBe(200);
    const b = await sessions.acquire(ep, 2);
    expect(b === a).toBe(true);
    expect(await get(b)).toBe(200);
    const c = await sessions.acquire(ep, 2);
    expect(c === a).toBe(false);
    expect(opened).toBe(2);
    c.destroy();
    const d = await sessions.acquire(ep);
    expect(d === c).toBe(false);
    expect(await get(d)).toBe(200);
    expect(opened).toBe(3);
    sessions.close();
  });
});
