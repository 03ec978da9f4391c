import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import type { SecureContext } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getTunnelInfo, HbonePool } from '../src/index';
import { keyFor, loopbackForwarder, readAll, startEcho, startHbone } from './harness';
import { CLIENT_ID, createTestPki, SERVER_ID, type TestPki } from './pki';

let pki: TestPki;
let serverCtx: SecureContext;
let clientCtx: SecureContext;
let echo: Awaited<ReturnType<typeof startEcho>>;

beforeAll(async () => {
  pki = createTestPki();
  serverCtx = pki.context(SERVER_ID);
  clientCtx = pki.context(CLIENT_ID);
  echo = await startEcho();
});

afterAll(async () => {
  await echo?.close();
  pki?.cleanup();
});

async function waitFor(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('HbonePool', () => {
  it('spreads 150 concurrent tunnels on one key over 2 connections (100 + 50)', async () => {
    const hb = await startHbone(serverCtx);
    const pool = new HbonePool({ maxStreamsPerConnection: 100 });
    try {
      const key = keyFor(hb.port);
      const tunnels = await Promise.all(
        Array.from({ length: 150 }, () =>
          pool.connect({ key, authority: `127.0.0.1:${echo.port}`, tlsOptions: { secureContext: clientCtx } })),
      );
      const perConn = new Map<number, number>();
      for (const t of tunnels) {
        const id = getTunnelInfo(t)!.connectionId;
        perConn.set(id, (perConn.get(id) ?? 0) + 1);
      }
      expect([...perConn.values()].sort((a, b) => b - a)).toEqual([100, 50]);
      expect(pool.connectionCount(key)).toBe(2);
      expect(hb.server.sessionCount).toBe(2);
      // Every tunnel still works.
      const replies = await Promise.all(tunnels.map((t, i) => {
        const p = readAll(t);
        t.end(`t${i}`);
        return p;
      }));
      expect(replies.map(String)).toEqual(tunnels.map((_, i) => `t${i}`));
    } finally {
      await pool.close();
      hb.server.destroy();
    }
  }, 30_000);

  it('caps streams per connection by the peer SETTINGS_MAX_CONCURRENT_STREAMS', async () => {
    // A bare HTTP/2 server that allows only 3 streams and accepts every CONNECT.
    const leaf = pki.issue('tiny', [SERVER_ID]);
    const server = http2.createSecureServer({
      key: leaf.key, cert: leaf.cert, ca: pki.caCert, requestCert: true, minVersion: 'TLSv1.3',
      settings: { maxConcurrentStreams: 3 },
    });
    server.on('stream', (s) => s.respond({ ':status': 200 }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const pool = new HbonePool({ maxStreamsPerConnection: 100 });
    try {
      const key = keyFor(port);
      const first = await pool.connect({ key, authority: '10.0.0.1:80', tlsOptions: { secureContext: clientCtx } });
      const more = await Promise.all(Array.from({ length: 4 }, () =>
        pool.connect({ key, authority: '10.0.0.1:80', tlsOptions: { secureContext: clientCtx } })));
      const ids = [first, ...more].map((t) => getTunnelInfo(t)!.connectionId);
      expect(new Set(ids).size).toBe(2);
      expect(ids.filter((id) => id === ids[0]).length).toBe(3);
      for (const t of [first, ...more]) t.destroy();
    } finally {
      await pool.close();
      server.close();
    }
  });

  it('shares one pending connection among concurrent first requests', async () => {
    const hb = await startHbone(serverCtx);
    const pool = new HbonePool();
    try {
      const key = keyFor(hb.port);
      const tunnels = await Promise.all(Array.from({ length: 10 }, () =>
        pool.connect({ key, authority: `127.0.0.1:${echo.port}`, tlsOptions: { secureContext: clientCtx } })));
      expect(new Set(tunnels.map((t) => getTunnelInfo(t)!.connectionId)).size).toBe(1);
      expect(hb.server.sessionCount).toBe(1);
      for (const t of tunnels) t.destroy();
    } finally {
      await pool.close();
      hb.server.destroy();
    }
  });

  it('lets joiners of a pending connection proceed when its first caller gives up', async () => {
    const hb = await startHbone(serverCtx);
    const pool = new HbonePool();
    try {
      const key = keyFor(hb.port);
      const ctl = new AbortController();
      const first = pool.connect({ key, authority: `127.0.0.1:${echo.port}`, tlsOptions: { secureContext: clientCtx }, signal: ctl.signal });
      const second = pool.connect({ key, authority: `127.0.0.1:${echo.port}`, tlsOptions: { secureContext: clientCtx } });
      ctl.abort(new Error('caller gave up'));
      await expect(first).rejects.toThrow('caller gave up');
      const t = await second;
      t.end('still-works');
      expect((await readAll(t)).toString()).toBe('still-works');
      expect(hb.server.sessionCount).toBe(1);
    } finally {
      await pool.close();
      hb.server.destroy();
    }
  });

  it('keeps different keys on different connections', async () => {
    const hb = await startHbone(serverCtx);
    const pool = new HbonePool();
    try {
      const a = keyFor(hb.port);
      const b = { ...a, srcIp: '127.0.0.2' };
      const t1 = await pool.connect({ key: a, authority: `127.0.0.1:${echo.port}`, tlsOptions: { secureContext: clientCtx } });
      const t2 = await pool.connect({ key: b, authority: `127.0.0.1:${echo.port}`, tlsOptions: { secureContext: clientCtx } });
      expect(getTunnelInfo(t1)!.connectionId).not.toBe(getTunnelInfo(t2)!.connectionId);
      t1.destroy();
      t2.destroy();
    } finally {
      await pool.close();
      hb.server.destroy();
    }
  });

  it('releases a connection idle for idleReleaseMs and reuses it while busy', async () => {
    const hb = await startHbone(serverCtx);
    const pool = new HbonePool({ idleReleaseMs: 200 });
    try {
      const key = keyFor(hb.port);
      const open = (): Promise<Duplex> =>
        pool.connect({ key, authority: `127.0.0.1:${echo.port}`, tlsOptions: { secureContext: clientCtx } });
      const t1 = await open();
      t1.end('x');
      await readAll(t1);
      const t2 = await open();
      expect(getTunnelInfo(t2)!.connectionId).toBe(getTunnelInfo(t1)!.connectionId);
      // Busy for longer than idleReleaseMs: must not be released.
      await new Promise((r) => setTimeout(r, 350));
      expect(pool.connectionCount(key)).toBe(1);
      t2.end();
      await readAll(t2);
      await waitFor(() => pool.connectionCount(key) === 0 && hb.server.sessionCount === 0);
      const t3 = await open();
      expect(getTunnelInfo(t3)!.connectionId).not.toBe(getTunnelInfo(t1)!.connectionId);
      t3.destroy();
    } finally {
      await pool.close();
      hb.server.destroy();
    }
  });

  it('drops a connection on GOAWAY and opens a new one for later requests', async () => {
    const hb1 = await startHbone(serverCtx);
    const pool = new HbonePool();
    try {
      const key = keyFor(hb1.port);
      const t1 = await pool.connect({ key, authority: `127.0.0.1:${echo.port}`, tlsOptions: { secureContext: clientCtx } });
      const closing = hb1.server.close(2_000);
      await waitFor(() => pool.connectionCount(key) === 0);
      // The open tunnel still finishes during the graceful drain.
      const reply = readAll(t1);
      t1.end('drain-ok');
      expect((await reply).toString()).toBe('drain-ok');
      await closing;
    } finally {
      await pool.close();
      hb1.server.destroy();
    }
  });

  it('rejects connects after close with HBONE_POOL_CLOSED', async () => {
    const pool = new HbonePool();
    await pool.close();
    const err = await pool.connect({ key: keyFor(1), authority: '127.0.0.1:1', tlsOptions: { secureContext: clientCtx } })
      .catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('HBONE_POOL_CLOSED');
  });

  it('times out a CONNECT on a pooled connection whose peer never answers', async () => {
    let silent = false;
    const hb = await startHbone(serverCtx, {
      onConnect: (req) => {
        if (silent) return; // never accept() nor reject()
        loopbackForwarder(req);
      },
    });
    const pool = new HbonePool();
    try {
      const key = keyFor(hb.port);
      const first = await pool.connect({ key, authority: `127.0.0.1:${echo.port}`, tlsOptions: { secureContext: clientCtx } });
      silent = true;
      const started = Date.now();
      const err = await pool.connect({ key, authority: `127.0.0.1:${echo.port}`, tlsOptions: { secureContext: clientCtx }, connectTimeoutMs: 200 })
        .catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe('HBONE_CONNECT_TIMEOUT');
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(pool.connectionCount(key)).toBe(1); // the connection itself stays pooled
      first.destroy();
    } finally {
      await pool.close();
      await hb.server.close(0);
    }
  });
});

