import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { installFile } from './install-file.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ADDON = path.join(repoRoot, 'packages', 'netns', 'build', 'Release', 'mesh_netns.node');
const CHILD_TIMEOUT_MS = 10_000;

let dirs = [];
afterEach(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); dirs = []; });
function tmpDir() {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'install-file-'));
  dirs.push(d);
  return d;
}

/** A node process that dlopen()s `addonPath`, then calls into it when told to: like a running ztunnel. */
function addonUser(addonPath) {
  const code = `
    const m = { exports: {} };
    process.dlopen(m, ${JSON.stringify(addonPath)});
    process.stdout.write('loaded\\n');
    process.stdin.once('data', () => {
      const fd = m.exports.openNetns('/proc/self/ns/net');
      m.exports.closeFd(fd);
      process.stdout.write('called\\n');
      process.exit(0);
    });`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const loaded = new Promise((resolve, reject) => {
    child.stdout.on('data', (b) => { out += b.toString(); if (out.includes('loaded')) resolve(); });
    child.once('exit', () => reject(new Error(`addon user exited before loading: ${out}`)));
  });
  const exited = new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.once('exit', (code, signal) => { clearTimeout(t); resolve({ code, signal, out }); });
  });
  return { child, loaded, exited };
}

describe.skipIf(!fs.existsSync(ADDON))('installFile', () => {
  it('replaces a loaded native addon without corrupting the process that has it mapped', async () => {
    const dir = tmpDir();
    const dest = path.join(dir, 'mesh_netns.node');
    expect(installFile(ADDON, dest)).toBe(true);
    const user = addonUser(dest);
    await user.loaded;
    // A rebuilt addon of the same size but different bytes: rewriting the mapped inode in place would
    // make the user's next call execute these bytes.
    const garbage = path.join(dir, 'rebuilt.node');
    fs.writeFileSync(garbage, Buffer.from(fs.readFileSync(ADDON).map((b) => b ^ 0xff)));
    expect(installFile(garbage, dest)).toBe(true);
    expect(fs.readFileSync(dest).equals(fs.readFileSync(garbage))).toBe(true);
    user.child.stdin.write('go\n');
    const r = await user.exited;
    expect(r).toMatchObject({ code: 0, signal: null });
    expect(r.out).toContain('called');
  });

  it('leaves an identical file alone (same inode) and keeps the source mode', () => {
    const dir = tmpDir();
    const dest = path.join(dir, 'mesh_netns.node');
    installFile(ADDON, dest);
    const before = fs.statSync(dest);
    expect(installFile(ADDON, dest)).toBe(false);
    expect(fs.statSync(dest).ino).toBe(before.ino);
    expect(before.mode & 0o777).toBe(fs.statSync(ADDON).mode & 0o777);
    expect(fs.readdirSync(dir)).toEqual(['mesh_netns.node']);
  });
});
