/* eslint-disable no-console -- a CLI benchmark script prints its results */
/**
 * Throughput sanity check (not a test): pushes TOTAL_BYTES through one HBONE tunnel on loopback
 * (client pool -> HBONE server -> bridge -> TCP sink) and through the same shape with a plain
 * mTLS socket instead of HTTP/2 CONNECT, in one process, and prints MB/s and the ratio.
 *
 *   npx esbuild packages/hbone/bench/throughput.ts --bundle --platform=node --format=esm \
 *     --outfile=/tmp/hbone-bench.mjs && node /tmp/hbone-bench.mjs [GiB]
 */
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import type { Writable } from 'node:stream';
import tls from 'node:tls';
import { bridge, createHboneServer, HbonePool } from '../src/index';
import { CLIENT_ID, createTestPki, SERVER_ID } from '../test/pki';

const GIB = 1024 ** 3;
const TOTAL_BYTES = Math.round(Number(process.argv[2] ?? '1') * GIB);
const CHUNK_BYTES = 64 * 1024;

async function startSink(): Promise<{ port: number; done: () => Promise<void>; close: () => void }> {
  let waiter: (() => void) | undefined;
  const server = net.createServer((s) => {
    let got = 0;
    s.on('data', (c: Buffer) => {
      got += c.length;
      if (got >= TOTAL_BYTES) waiter?.();
    });
    s.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    done: () => new Promise<void>((r) => (waiter = r)),
    close: () => server.close(),
  };
}

function pump(dst: Writable): void {
  const chunk = Buffer.alloc(CHUNK_BYTES, 7);
  let sent = 0;
  const more = (): void => {
    while (sent < TOTAL_BYTES) {
      sent += chunk.length;
      if (!dst.write(chunk)) return void dst.once('drain', more);
    }
  };
  more();
}

async function timed(label: string, run: (sinkPort: number) => Promise<() => void>, done: Promise<void>, sinkPort: number): Promise<number> {
  const started = process.hrtime.bigint();
  const cleanup = await run(sinkPort);
  await done;
  const secs = Number(process.hrtime.bigint() - started) / 1e9;
  const mbps = TOTAL_BYTES / 1e6 / secs;
  console.log(`${label.padEnd(10)} ${(TOTAL_BYTES / GIB).toFixed(2)} GiB in ${secs.toFixed(2)} s = ${mbps.toFixed(0)} MB/s`);
  cleanup();
  return mbps;
}

async function main(): Promise<void> {
  const pki = createTestPki();
  const serverCtx = pki.context(SERVER_ID);
  const clientCtx = pki.context(CLIENT_ID);

  const hbone = createHboneServer({
    secureContext: serverCtx,
    onConnect: (req) => {
      const up = net.connect({ host: '127.0.0.1', port: req.target.port, noDelay: true });
      up.once('connect', () => bridge(req.accept(), up));
      up.once('error', () => !req.responded && req.reject(503));
    },
  });
  const hbPort = (await hbone.listen({ port: 0, host: '127.0.0.1' })).port;
  // Plain mTLS relay with the same shape: TLS termination then a TCP leg to the sink.
  const leaf = pki.issue('plain', [SERVER_ID]);
  const tlsServer = tls.createServer({ key: leaf.key, cert: leaf.cert, ca: pki.caCert, requestCert: true, minVersion: 'TLSv1.3' }, (s) => {
    const up = net.connect({ host: '127.0.0.1', port: Number(tlsTarget), noDelay: true });
    bridge(s, up);
  });
  let tlsTarget = 0;
  tlsServer.listen(0, '127.0.0.1');
  await once(tlsServer, 'listening');
  const pool = new HbonePool();
  const results: Record<string, number[]> = { hbone: [], tls: [] };

  for (let round = 0; round < 2; round++) {
    const s1 = await startSink();
    results.hbone!.push(await timed('hbone', async (port) => {
      const t = await pool.connect({
        key: { srcIdentity: CLIENT_ID, dstIdentities: [SERVER_ID], nextHop: `127.0.0.1:${hbPort}`, srcIp: '127.0.0.1' },
        authority: `127.0.0.1:${port}`,
        tlsOptions: { secureContext: clientCtx },
      });
      pump(t);
      return () => t.destroy();
    }, s1.done(), s1.port));
    s1.close();
    const s2 = await startSink();
    tlsTarget = s2.port;
    results.tls!.push(await timed('plain-tls', async () => {
      const c = tls.connect({ host: '127.0.0.1', port: (tlsServer.address() as AddressInfo).port, secureContext: clientCtx, checkServerIdentity: () => undefined });
      c.setNoDelay(true);
      await once(c, 'secureConnect');
      pump(c);
      return () => c.destroy();
    }, s2.done(), s2.port));
    s2.close();
  }
  const best = (xs: number[]): number => Math.max(...xs);
  console.log(`ratio hbone/plain-tls (best of rounds): ${(best(results.hbone!) / best(results.tls!)).toFixed(2)}`);
  await pool.close();
  hbone.destroy();
  tlsServer.close();
  pki.cleanup();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
