import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyInPodRedirection, removeInPodRedirection } from './applier';
import { canUseKernel, createNetns, deleteNetns, FIXTURE_DIR, sh, startInNetns } from './netns.test-helper';

// Two netns joined by a veth pair: "pod" gets the redirection, "peer" plays a remote client/server.
const POD_IP = '10.77.0.1';
const PEER_IP = '10.77.0.2';
const SERVER = join(FIXTURE_DIR, 'origdst_server.py');
const CLIENT = join(FIXTURE_DIR, 'mark_client.py');

function connect(ns: string, host: string, port: number, mark?: string): string {
  return sh(ns, ['python3', CLIENT, host, String(port), ...(mark ? [mark] : [])]).trim();
}

describe.skipIf(!canUseKernel()).each([
  ['iptables', false],
  ['native nftables', true],
] as const)('in-pod redirection moves real traffic (%s)', (_backend, nativeNftables) => {
  const children: ChildProcess[] = [];
  const namespaces: string[] = [];
  let pod = '';
  let peer = '';

  beforeAll(async () => {
    pod = createNetns('fpod');
    peer = createNetns('fpeer');
    namespaces.push(pod, peer);
    const tag = nativeNftables ? 'n' : 'i';
    const vethPod = `mvp${tag}${process.pid % 100000}`;
    const vethPeer = `mvq${tag}${process.pid % 100000}`;
    sh(pod, ['ip', 'link', 'add', vethPod, 'type', 'veth', 'peer', 'name', vethPeer, 'netns', peer]);
    sh(pod, ['ip', 'addr', 'add', `${POD_IP}/24`, 'dev', vethPod]);
    sh(pod, ['ip', 'link', 'set', vethPod, 'up']);
    sh(pod, ['ip', 'route', 'add', 'default', 'via', PEER_IP]);
    sh(peer, ['ip', 'addr', 'add', `${PEER_IP}/24`, 'dev', vethPeer]);
    sh(peer, ['ip', 'link', 'set', vethPeer, 'up']);
    // "ztunnel" listeners plus an app port in the pod; a plain server in the peer.
    children.push(await startInNetns(pod, ['python3', SERVER, '15001', '15006', '15008', '8080']));
    children.push(await startInNetns(peer, ['python3', SERVER, '9090']));
    await applyInPodRedirection(pod, { nativeNftables });
  });

  afterAll(() => {
    for (const c of children) c.stdin?.end();
    for (const c of children) c.kill();
    namespaces.forEach(deleteNetns);
  });

  it('captures outbound connections to any IP on 15001, keeping the original destination', () => {
    expect(connect(pod, '10.99.99.99', 80)).toBe('15001 10.99.99.99:80');
    expect(connect(pod, PEER_IP, 9090)).toBe(`15001 ${PEER_IP}:9090`);
  });

  it('captures inbound plaintext on 15006', () => {
    expect(connect(peer, POD_IP, 8080)).toBe(`15006 ${POD_IP}:8080`);
  });

  it('lets inbound HBONE reach 15008 directly', () => {
    // Answered by the 15008 listener itself, with its own address as the (un-NATed) destination.
    expect(connect(peer, POD_IP, 15008)).toBe(`15008 ${POD_IP}:15008`);
  });

  it('does not redirect sockets carrying ztunnel mark 0x539', () => {
    expect(connect(pod, PEER_IP, 9090, '0x539')).toBe('9090 none');
  });

  it('does not capture the app talking to localhost', () => {
    expect(connect(pod, '127.0.0.1', 8080)).toBe('8080 127.0.0.1:8080');
  });

  it('after removal traffic flows untouched again', async () => {
    await removeInPodRedirection(pod);
    expect(connect(pod, PEER_IP, 9090)).toBe('9090 none');
    expect(connect(peer, POD_IP, 8080)).toBe('8080 none');
  });
});
