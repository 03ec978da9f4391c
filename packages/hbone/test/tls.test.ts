import net from 'node:net';
import tls, { type SecureContext } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bridge, HbonePool, trustDomainVerifier, type HboneError, type SocketAddress } from '../src/index';
import { keyFor, readAll, startEcho, startHbone } from './harness';
import { CLIENT_ID, createTestPki, SERVER_ID, type TestPki } from './pki';

let pki: TestPki;
let otherPki: TestPki;
let serverCtx: SecureContext;
let clientCtx: SecureContext;
let echo: Awaited<ReturnType<typeof startEcho>>;
let hb: Awaited<ReturnType<typeof startHbone>>;
let pool: HbonePool;

beforeAll(async () => {
  pki = createTestPki();
  otherPki = createTestPki('other-ca');
  serverCtx = pki.context(SERVER_ID);
  clientCtx = pki.context(CLIENT_ID);
  echo = await startEcho();
  hb = await startHbone(serverCtx);
  pool = new HbonePool();
});

afterAll(async () => {
  await pool?.close();
  hb?.server.destroy();
  await echo?.close();
  pki?.cleanup();
  otherPki?.cleanup();
});

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  const err = await p.then(() => undefined, (e: unknown) => e as HboneError);
  return err?.code;
}

function connectWith(port: number, secureContext: SecureContext, dst = SERVER_ID, connectTimeoutMs?: number) {
  return pool.connect({
    key: keyFor(port, dst),
    authority: `127.0.0.1:${echo.port}`,
    tlsOptions: { secureContext },
    connectTimeoutMs,
  });
}

describe('HBONE mutual TLS', () => {
  it('rejects a server whose URI SAN is not expected', async () => {
    expect(await codeOf(connectWith(hb.port, clientCtx, 'spiffe://cluster.local/ns/default/sa/someone-else')))
      .toBe('HBONE_IDENTITY_MISMATCH');
  });

  it('rejects a client without a certificate at TLS', async () => {
    const noCert = tls.createSecureContext({ ca: pki.caCert, minVersion: 'TLSv1.3' });
    const errorsBefore = hb.errors.length;
    expect(await codeOf(connectWith(hb.port, noCert))).toBe('HBONE_TLS_FAILED');
    expect(hb.errors.length).toBeGreaterThan(errorsBefore);
  });

  it('rejects a client certificate from another CA at TLS', async () => {
    // The client trusts our CA (so it accepts the server) but presents a foreign cert.
    const foreign = otherPki.context(CLIENT_ID, [pki.caCert]);
    const sessionsBefore = hb.server.sessionCount;
    expect(await codeOf(connectWith(hb.port, foreign))).toBe('HBONE_TLS_FAILED');
    expect(hb.server.sessionCount).toBe(sessionsBefore);
  });

  it('rejects a server certificate from another CA', async () => {
    const rogue = await startHbone(otherPki.context(SERVER_ID, [pki.caCert]));
    try {
      expect(await codeOf(connectWith(rogue.port, clientCtx))).toBe('HBONE_TLS_FAILED');
    } finally {
      rogue.server.destroy();
    }
  });

  it('drops a client outside the trust domain via verifyClient', async () => {
    const strict = await startHbone(serverCtx, { verifyClient: trustDomainVerifier('other.domain') });
    try {
      expect(await codeOf(connectWith(strict.port, clientCtx))).toBe('HBONE_TLS_FAILED');
      expect(strict.errors.some((e) => (e as HboneError).code === 'HBONE_IDENTITY_MISMATCH')).toBe(true);
    } finally {
      strict.server.destroy();
    }
  });

  it('refuses a TLS 1.2 client', async () => {
    const leaf = pki.issue('old', [CLIENT_ID]);
    const sock = tls.connect({
      host: '127.0.0.1', port: hb.port, key: leaf.key, cert: leaf.cert, ca: pki.caCert,
      maxVersion: 'TLSv1.2', ALPNProtocols: ['h2'], checkServerIdentity: () => undefined,
    });
    const outcome = await new Promise<string>((resolve) => {
      sock.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      sock.once('close', () => resolve('closed'));
    });
    expect(outcome).not.toBe('');
    sock.destroy();
  });

  it('sends no SNI and offers ALPN h2', async () => {
    let servername: string | false | null | undefined;
    let alpn: string | false | null | undefined;
    const leaf = pki.issue('sni', [SERVER_ID]);
    const server = tls.createServer({ key: leaf.key, cert: leaf.cert, ALPNProtocols: ['h2'] }, (s) => {
      servername = (s as unknown as { servername?: string | false | null }).servername;
      alpn = s.alpnProtocol;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      await connectWith((server.address() as net.AddressInfo).port, clientCtx).catch(() => undefined);
      expect(alpn).toBe('h2');
      expect(servername).toBeFalsy();
    } finally {
      server.close();
    }
  });

  it('selects the server context by local address', async () => {
    const asked: SocketAddress[] = [];
    const s = await startHbone(serverCtx, {
      secureContext: undefined,
      secureContextFor: (local) => {
        asked.push(local);
        return serverCtx;
      },
    });
    try {
      const t = await connectWith(s.port, clientCtx);
      t.end('via-ctx-for');
      expect((await readAll(t)).toString()).toBe('via-ctx-for');
      expect(asked[0]).toMatchObject({ address: '127.0.0.1', port: s.port });
    } finally {
      s.server.destroy();
    }
  });

  it('times out with HBONE_CONNECT_TIMEOUT against a silent peer', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const started = Date.now();
      expect(await codeOf(connectWith((silent.address() as net.AddressInfo).port, clientCtx, SERVER_ID, 200)))
        .toBe('HBONE_CONNECT_TIMEOUT');
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      silent.close();
    }
  });

  it('reports HBONE_CONNECTION_FAILED when nothing listens', async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((r) => closed.close(r));
    expect(await codeOf(connectWith(port, clientCtx))).toBe('HBONE_CONNECTION_FAILED');
  });

  it('aborts the tunnel (and the bridged socket) without crashing when the server dies mid-stream', async () => {
    const doomed = await startHbone(serverCtx);
    const local = new HbonePool();
    // The app side: a local TCP pair whose server end is bridged to the tunnel, as ztunnel outbound does.
    const appServer = net.createServer({ allowHalfOpen: true });
    await new Promise<void>((r) => appServer.listen(0, '127.0.0.1', r));
    try {
      const key = keyFor(doomed.port);
      const t = await local.connect({ key, authority: `127.0.0.1:${echo.port}`, tlsOptions: { secureContext: clientCtx } });
      const accepted = new Promise<net.Socket>((r) => appServer.once('connection', r));
      const app = net.connect((appServer.address() as net.AddressInfo).port, '127.0.0.1');
      bridge(t, await accepted);
      app.write('before');
      await new Promise((r) => app.once('data', r));
      const appOutcome = new Promise<string>((resolve) => {
        app.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
        app.once('end', () => resolve('clean-end'));
      });
      const tunnelClosed = new Promise((r) => t.once('close', r));
      doomed.server.destroy();
      await tunnelClosed;
      expect((t as unknown as { rstCode?: number }).rstCode).not.toBe(0);
      // TCP semantics: the app sees a reset, not a FIN that would look like a complete response.
      expect(await appOutcome).toBe('ECONNRESET');
      await waitUntil(() => local.connectionCount(key) === 0);
    } finally {
      appServer.close();
      await local.close();
    }
  });
});

async function waitUntil(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
