import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HbonePool } from '../src/index';
import { keyFor, readAll, startEcho } from './harness';
import { CLIENT_ID, createTestPki, SERVER_ID, type TestPki } from './pki';

let pki: TestPki;
let dir: string;
let child: ChildProcess | undefined;
let echo: Awaited<ReturnType<typeof startEcho>>;

beforeAll(async () => {
  pki = createTestPki();
  echo = await startEcho();
  dir = mkdtempSync(join(tmpdir(), 'hbone-fd-'));
  await build({
    entryPoints: [join(__dirname, 'fixtures/fd-server.ts')],
    bundle: true, platform: 'node', format: 'esm', outfile: join(dir, 'fd-server.mjs'), logLevel: 'silent',
  });
});

afterAll(async () => {
  child?.kill('SIGTERM');
  await echo?.close();
  pki?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('serves HBONE on a listening socket inherited as an fd', async () => {
  // The parent creates the listening socket; the child only ever sees fd 3.
  const listener = net.createServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const port = (listener.address() as AddressInfo).port;
  const fd = (listener as unknown as { _handle: { fd: number } })._handle.fd;
  const leaf = pki.issue('server', [SERVER_ID]);
  child = spawn(process.execPath, [join(dir, 'fd-server.mjs')], {
    stdio: ['ignore', 'pipe', 'inherit', fd],
    env: { ...process.env, HBONE_TEST_KEY: leaf.key, HBONE_TEST_CERT: leaf.cert, HBONE_TEST_CA: pki.caCert },
  });
  await new Promise<void>((resolve, reject) => {
    child!.stdout!.once('data', () => resolve());
    child!.once('exit', (code) => reject(new Error(`child exited ${code}`)));
  });
  // Stop accepting in this process so every connection reaches the child.
  listener.close();
  const pool = new HbonePool();
  try {
    const t = await pool.connect({
      key: keyFor(port),
      authority: `127.0.0.1:${echo.port}`,
      tlsOptions: { secureContext: pki.context(CLIENT_ID) },
    });
    t.end('through-fd');
    expect((await readAll(t)).toString()).toBe('through-fd');
  } finally {
    await pool.close();
  }
}, 30_000);
