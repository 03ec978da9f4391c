// Installs a build artefact that running programs may have mapped (the native addon beside the bundles).
import fs from 'node:fs';

function sameContent(a, b) {
  try {
    const sa = fs.statSync(a);
    const sb = fs.statSync(b);
    return sa.size === sb.size && fs.readFileSync(a).equals(fs.readFileSync(b));
  } catch {
    return false;
  }
}

/**
 * Copies `src` to `dest` by writing a temporary file beside `dest` and renaming it over. Never rewrites `dest`
 * in place: a process that dlopen()ed it (ztunnel and the CNI agent load mesh_netns.node from dist/) maps its
 * pages, and truncating and rewriting that inode under it makes its next call into the addon jump into
 * garbage (SIGSEGV, no log line). After a rename the running process keeps the old inode. An identical file
 * is left untouched. Returns whether `dest` changed.
 */
export function installFile(src, dest) {
  if (sameContent(src, dest)) return false;
  const tmp = `${dest}.${process.pid}.tmp`;
  try {
    fs.copyFileSync(src, tmp);
    fs.chmodSync(tmp, fs.statSync(src).mode & 0o777);
    fs.renameSync(tmp, dest);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return true;
}
