import { once } from 'node:events';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canUseNetns,
  createTestNetns,
  IP_BIN,
  iptablesBin,
  ip6tablesBin,
  openFdCount,
  type TestNetns,
} from '../test/netns-fixture';
import {
  closeFd,
  connectInNetns,
  connectSocketInNetns,
  fdOf,
  getLocalAddress,
  getOriginalDst,
  listenInNetns,
  openNetns,
  serverFromFd,
} from './index';

// ztunnel's in-pod constants (Z:src/inpod/config.rs, I:cni/pkg/config/config.go).
const ZTUNNEL_MARK = 0x539;
const ROUTE_TABLE = '100';

async function listen(nsFd: number, host: string, family: 4 | 6 = 4): Promise<{ server: net.Server; port: number }> {
  const server = await serverFromFd(listenInNetns(nsFd, { host, port: 0, family, mark: ZTUNNEL_MARK }));
  return { server, port: (server.address() as net.AddressInfo).port };
}

describe.skipIf(!canUseNetns)('connectInNetns (needs root and ip)', () => {
  let ns: TestNetns;
  let nsFd: number;

  beforeAll(() => {
    ns = createTestNetns('c');
    nsFd = openNetns(ns.path);
    // Istio's in-pod policy routing: packets marked by ztunnel are delivered locally, which lets the
    // app's replies reach ztunnel's transparent socket bound to the (non-local) client address.
    ns.exec(IP_BIN, ['rule', 'add', 'fwmark', `${ZTUNNEL_MARK}`, 'lookup', ROUTE_TABLE]);
    ns.exec(IP_BIN, ['route', 'add', 'local', '0.0.0.0/0', 'dev', 'lo', 'table', ROUTE_TABLE]);
  });

  afterAll(() => {
    if (nsFd !== undefined) closeFd(nsFd);
    ns?.destroy();
  });

  it('connects from a spoofed source address with IP_TRANSPARENT and SO_MARK', async () => {
    const { server, port } = await listen(nsFd, '127.0.0.1');
    try {
      const accepted = once(server, 'connection');
      const client = await connectSocketInNetns(nsFd, {
        host: '127.0.0.1',
        port,
        localHost: '10.99.0.7',
        mark: ZTUNNEL_MARK,
        transparent: true,
      });
      const [peer] = (await accepted) as [net.Socket];
      expect(peer.remoteAddress).toBe('10.99.0.7');
      expect(getLocalAddress(fdOf(client)).address).toBe('10.99.0.7');
      const echoed = once(client, 'data');
      peer.write('from app');
      expect(String((await echoed)[0])).toBe('from app');
      client.destroy();
      peer.destroy();
    } finally {
      server.close();
    }
  });

  it('binding a non-local source without transparent fails with EADDRNOTAVAIL', async () => {
    await expect(
      connectInNetns(nsFd, { host: '127.0.0.1', port: 9, localHost: '10.99.0.7', mark: ZTUNNEL_MARK }),
    ).rejects.toMatchObject({ code: 'EADDRNOTAVAIL', syscall: 'bind' });
  });

  it('reports a refused connection as ECONNREFUSED', async () => {
    const probe = listenInNetns(nsFd, { host: '127.0.0.1', port: 0 });
    const { port } = getLocalAddress(probe);
    closeFd(probe); // nothing listens on this port now
    const fdsBefore = openFdCount();
    await expect(connectInNetns(nsFd, { host: '127.0.0.1', port })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(openFdCount()).toBe(fdsBefore); // the failed socket was closed
  });

  it('reports an unroutable destination by errno', async () => {
    await expect(connectInNetns(nsFd, { host: '192.0.2.1', port: 80 })).rejects.toMatchObject({
      code: 'ENETUNREACH',
    });
  });

  it.skipIf(!iptablesBin)('times out with ETIMEDOUT when SYNs are dropped', async () => {
    ns.exec(iptablesBin!, ['-A', 'OUTPUT', '-p', 'tcp', '--dport', '7', '-j', 'DROP']);
    const started = Date.now();
    await expect(connectInNetns(nsFd, { host: '127.0.0.1', port: 7, timeoutMs: 150 })).rejects.toMatchObject({
      code: 'ETIMEDOUT',
    });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  /** The server FINs first; the client then sends "late" and ends. Returns what the server read. */
  async function serverReadsAfterItsFin(allowHalfOpen: boolean | undefined): Promise<string> {
    const server = await serverFromFd(
      listenInNetns(nsFd, { host: '127.0.0.1', port: 0 }),
      net.createServer({ allowHalfOpen: true }, (s) => s.end()),
    );
    try {
      const port = (server.address() as net.AddressInfo).port;
      const got = new Promise<string>((resolve) => server.once('connection', (s: net.Socket) => {
        let data = '';
        s.setEncoding('utf8');
        s.on('data', (d: string) => { data += d; });
        s.on('error', () => resolve(data));
        s.on('end', () => resolve(data));
      }));
      const client = await connectSocketInNetns(nsFd, { host: '127.0.0.1', port, allowHalfOpen });
      client.on('error', () => undefined);
      client.resume();
      await once(client, 'end');
      if (!client.writableEnded) client.end('late');
      return await got;
    } finally {
      server.close();
    }
  }

  it('keeps the write side open after the peer FIN with allowHalfOpen (proxy half-close)', async () => {
    expect(await serverReadsAfterItsFin(true)).toBe('late');
  });

  it('by default ends the write side on the peer FIN, like net.Socket', async () => {
    expect(await serverReadsAfterItsFin(undefined)).toBe('');
  });
});

describe.skipIf(!canUseNetns)('getOriginalDst with iptables REDIRECT in the test netns', () => {
  let ns: TestNetns;
  let nsFd: number;

  beforeAll(() => {
    if (!iptablesBin) {
      console.warn('iptables not installed: SO_ORIGINAL_DST tests skipped (CI must apt-get install iptables)');
    }
    ns = createTestNetns('o');
    nsFd = openNetns(ns.path);
  });

  afterAll(() => {
    if (nsFd !== undefined) closeFd(nsFd);
    ns?.destroy();
  });

  it.skipIf(!iptablesBin)('IPv4: recovers the pre-REDIRECT destination', async () => {
    const { server, port } = await listen(nsFd, '0.0.0.0');
    ns.exec(IP_BIN, ['addr', 'add', '10.77.0.5/32', 'dev', 'lo']);
    ns.exec(iptablesBin!, ['-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '-d', '10.77.0.5', '--dport', '80',
      '-j', 'REDIRECT', '--to-ports', String(port)]);
    try {
      const accepted = once(server, 'connection');
      const client = await connectSocketInNetns(nsFd, { host: '10.77.0.5', port: 80 });
      const [peer] = (await accepted) as [net.Socket];
      expect(getOriginalDst(fdOf(peer))).toEqual({ address: '10.77.0.5', port: 80, family: 4 });
      expect(peer.localPort).toBe(port);
      client.destroy();
      peer.destroy();
    } finally {
      server.close();
    }
  });

  it.skipIf(!iptablesBin)('IPv4 into a dual-stack IPv6 listener (v4-mapped): asks the IPv4 table', async () => {
    const { server, port } = await listen(nsFd, '::', 6);
    ns.exec(IP_BIN, ['addr', 'add', '10.77.0.6/32', 'dev', 'lo']);
    ns.exec(iptablesBin!, ['-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '-d', '10.77.0.6', '--dport', '81',
      '-j', 'REDIRECT', '--to-ports', String(port)]);
    try {
      const accepted = once(server, 'connection');
      const client = await connectSocketInNetns(nsFd, { host: '10.77.0.6', port: 81 });
      const [peer] = (await accepted) as [net.Socket];
      expect(peer.localAddress).toBe('::ffff:127.0.0.1');
      expect(getOriginalDst(fdOf(peer))).toEqual({ address: '10.77.0.6', port: 81, family: 4 });
      client.destroy();
      peer.destroy();
    } finally {
      server.close();
    }
  });

  it.skipIf(!ip6tablesBin)('IPv6: recovers the pre-REDIRECT destination', async () => {
    const { server, port } = await listen(nsFd, '::', 6);
    ns.exec(IP_BIN, ['-6', 'addr', 'add', 'fd00:77::5/128', 'dev', 'lo', 'nodad']);
    ns.exec(ip6tablesBin!, ['-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '-d', 'fd00:77::5', '--dport', '80',
      '-j', 'REDIRECT', '--to-ports', String(port)]);
    try {
      const accepted = once(server, 'connection');
      const client = await connectSocketInNetns(nsFd, { host: 'fd00:77::5', port: 80, family: 6 });
      const [peer] = (await accepted) as [net.Socket];
      expect(getOriginalDst(fdOf(peer))).toEqual({ address: 'fd00:77::5', port: 80, family: 6 });
      client.destroy();
      peer.destroy();
    } finally {
      server.close();
    }
  });

  it('fails with an errno code on a socket that was never redirected', async () => {
    const fd = listenInNetns(nsFd, { host: '127.0.0.1', port: 0 });
    try {
      expect(() => getOriginalDst(fd)).toThrow(expect.objectContaining({ code: expect.stringMatching(/^E[A-Z]+$/) }));
    } finally {
      closeFd(fd);
    }
  });
});
