import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const addon = path.join(pkgDir, 'build', 'Release', 'mesh_netns.node');

function newestSourceMtimeMs(): number {
  const dir = path.join(pkgDir, 'native');
  const files = [...fs.readdirSync(dir).map((f) => path.join(dir, f)), path.join(pkgDir, 'binding.gyp')];
  return Math.max(...files.map((f) => fs.statSync(f).mtimeMs));
}

export default function setup(): void {
  if (fs.existsSync(addon) && fs.statSync(addon).mtimeMs >= newestSourceMtimeMs()) return;
  execFileSync(process.execPath, [path.join(pkgDir, 'scripts', 'build-native.mjs')], { cwd: pkgDir, stdio: 'inherit' });
}
