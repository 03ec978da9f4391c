import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDON_FILE_NAME, addonCandidates } from './addon';

const pkgDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const builtAddon = path.join(pkgDir, 'build', 'Release', ADDON_FILE_NAME);

describe('addon lookup', () => {
  it('prefers the file beside the module, then the node-gyp output', () => {
    const dir = '/opt/app/dist';
    expect(addonCandidates(dir)).toEqual([
      '/opt/app/dist/mesh_netns.node',
      '/opt/app/build/Release/mesh_netns.node',
      '/opt/netns/build/Release/mesh_netns.node',
    ]);
  });
});

// An esbuild bundle outside the repo, as tools/bundle.mjs produces it (addon external, copied beside).
describe('loading from an app bundle', () => {
  let dir: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `mesh-netns-bundle-${process.pid}-`));
    fs.writeFileSync(
      path.join(dir, 'entry.ts'),
      `import { openNetns, closeFd, isNetnsFd } from ${JSON.stringify(path.join(pkgDir, 'src', 'index.ts'))};
       try { const fd = openNetns('/proc/self/ns/net'); process.stdout.write(String(isNetnsFd(fd))); closeFd(fd); }
       catch (e) { process.stdout.write(e.code + ': ' + e.message); }`,
    );
    await build({
      entryPoints: [path.join(dir, 'entry.ts')],
      outfile: path.join(dir, 'dist', 'app.mjs'),
      bundle: true,
      platform: 'node',
      format: 'esm',
      external: ['*.node'],
      logLevel: 'silent',
    });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const run = (): string => execFileSync(process.execPath, [path.join(dir, 'dist', 'app.mjs')], { encoding: 'utf8' });

  it('explains how to build the addon when it is missing', () => {
    expect(run()).toMatch(/^NETNS_ADDON_MISSING: native addon not built: run npm run build:native -w @mesh\/netns/);
  });

  it.skipIf(!fs.existsSync(builtAddon))('loads dist/mesh_netns.node beside the bundle', () => {
    fs.copyFileSync(builtAddon, path.join(dir, 'dist', ADDON_FILE_NAME));
    expect(run()).toBe('true');
  });
});

// An exception thrown by a listener inside a poll callback must reach 'uncaughtException' like any
// other event-loop callback, not abort the process or get lost.
describe('exceptions thrown from readiness callbacks', () => {
  let dir: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `mesh-netns-throw-${process.pid}-`));
    fs.writeFileSync(
      path.join(dir, 'entry.ts'),
      `import { SeqpacketSocket } from ${JSON.stringify(path.join(pkgDir, 'src', 'index.ts'))};
       const [a, b] = SeqpacketSocket.pair();
       process.on('uncaughtException', (err) => {
         process.stdout.write('caught:' + err.message);
         a.close(); b.close();
       });
       b.on('message', () => { throw new Error('listener failed'); });
       a.send(Buffer.from('x'));`,
    );
    await build({
      entryPoints: [path.join(dir, 'entry.ts')],
      outfile: path.join(pkgDir, 'build', `throw-test-${process.pid}.mjs`),
      bundle: true,
      platform: 'node',
      format: 'esm',
      external: ['*.node'],
      logLevel: 'silent',
    });
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(path.join(pkgDir, 'build', `throw-test-${process.pid}.mjs`), { force: true });
  });

  it.skipIf(!fs.existsSync(builtAddon))('reaches process uncaughtException and the loop ends cleanly', () => {
    const out = execFileSync(process.execPath, [path.join(pkgDir, 'build', `throw-test-${process.pid}.mjs`)], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(out).toBe('caught:listener failed');
  });
});
