/* global process */
// Network namespaces for the L4 benchmark: a client netns and a server netns joined by a veth pair.
// The plain pair carries the floor and the C peers; the pod pair gets Istio's in-pod redirection rules
// (the CNI golden file), so the ztunnel pair runs in its real in-pod shape.
import fs from 'node:fs';
import path from 'node:path';
import { addNetns, inNs, NS_PREFIX, sh } from './sys.mjs';

const INPOD_RULES = 'packages/cni/src/iptables/testdata/inpod_dns_disabled_v4.golden';

export const PLAIN = { client: { suffix: 'c', ip: '10.78.0.1' }, server: { suffix: 's', ip: '10.78.0.2' } };
export const PODS = { client: { suffix: 'pa', ip: '10.79.0.2' }, server: { suffix: 'pb', ip: '10.79.0.3' } };

function vethPair(a, b, tag) {
  const da = `mb${process.pid % 100000}${tag}a`;
  const db = `mb${process.pid % 100000}${tag}b`;
  sh('ip', ['link', 'add', da, 'netns', a.ns, 'type', 'veth', 'peer', 'name', db, 'netns', b.ns]);
  for (const [side, dev] of [[a, da], [b, db]]) {
    inNs(side.ns, 'ip', 'addr', 'add', `${side.ip}/24`, 'dev', dev);
    inNs(side.ns, 'ip', 'link', 'set', dev, 'up');
  }
}

export function createPlainPair() {
  const client = { ...PLAIN.client, ns: addNetns(PLAIN.client.suffix) };
  const server = { ...PLAIN.server, ns: addNetns(PLAIN.server.suffix) };
  vethPair(client, server, 'p');
  return { client, server };
}

/** Two pods with the in-pod iptables rules and ztunnel's policy routing (as istio-cni installs them). */
export function createPodPair(repoRoot) {
  const client = { ...PODS.client, ns: addNetns(PODS.client.suffix) };
  const server = { ...PODS.server, ns: addNetns(PODS.server.suffix) };
  vethPair(client, server, 'z');
  const rules = fs.readFileSync(path.join(repoRoot, INPOD_RULES));
  for (const p of [client, server]) {
    sh('ip', ['netns', 'exec', p.ns, 'iptables-restore', '--noflush'], { input: rules });
    inNs(p.ns, 'ip', '-4', 'rule', 'add', 'fwmark', '0x111/0xfff', 'pref', '32764', 'lookup', '100');
    inNs(p.ns, 'ip', '-4', 'route', 'replace', 'local', '0.0.0.0/0', 'dev', 'lo', 'table', '100');
  }
  return { client, server };
}

export { NS_PREFIX };
