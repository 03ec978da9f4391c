import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import type { TokenEntry } from './components';

/** Where each waypoint's token lives: the file it reads (TOKEN_FILE) and its entry for istiod's tokens file. */
export function waypointTokenDir(stateDir: string): string {
  return path.join(stateDir, 'waypoints');
}

export function waypointTokenFile(stateDir: string, namespace: string, name: string): string {
  return path.join(waypointTokenDir(stateDir), `${namespace}_${name}.token`);
}

function entryFile(stateDir: string, namespace: string, name: string): string {
  return path.join(waypointTokenDir(stateDir), `${namespace}_${name}.entry.yaml`);
}

/** A token for the waypoint's service account, without nodeName: it may only ask for its own identity. */
export function writeWaypointToken(stateDir: string, e: { namespace: string; name: string; serviceAccount: string; podName: string }): string {
  fs.mkdirSync(waypointTokenDir(stateDir), { recursive: true });
  const file = waypointTokenFile(stateDir, e.namespace, e.name);
  const token = randomBytes(24).toString('base64url');
  fs.writeFileSync(file, token + '\n', { mode: 0o600 });
  const entry: TokenEntry = { token, namespace: e.namespace, serviceAccount: e.serviceAccount, podName: e.podName };
  fs.writeFileSync(entryFile(stateDir, e.namespace, e.name), stringify(entry), { mode: 0o600 });
  return file;
}

export function removeWaypointToken(stateDir: string, namespace: string, name: string): void {
  fs.rmSync(waypointTokenFile(stateDir, namespace, name), { force: true });
  fs.rmSync(entryFile(stateDir, namespace, name), { force: true });
}

export function readWaypointTokens(stateDir: string): TokenEntry[] {
  let names: string[];
  try {
    names = fs.readdirSync(waypointTokenDir(stateDir));
  } catch {
    return [];
  }
  const out: TokenEntry[] = [];
  for (const n of names.filter((x) => x.endsWith('.entry.yaml')).sort()) {
    try {
      out.push(parse(fs.readFileSync(path.join(waypointTokenDir(stateDir), n), 'utf8')) as TokenEntry);
    } catch {
      // Removed while listing.
    }
  }
  return out;
}
