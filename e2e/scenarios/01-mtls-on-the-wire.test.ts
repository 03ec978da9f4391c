import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nsName, suite, twoNodes } from '../lib/context';
import { ECHO_HTTP_PORT, clientPod, echoPod, namespace, serviceAccount } from '../lib/manifests';
import { containsMarker, deploy, hboneLines, linesWithPort, waitHttpOk } from '../lib/scenario';
import { httpGet } from '../lib/traffic';

const s = suite();

/**
 * Istio ambient: traffic between enrolled pods on different nodes leaves the node only as HBONE (mTLS,
 * HTTP/2 CONNECT) to the destination pod's :15008; the app port never appears on the wire, and ztunnel
 * spoofs the original source IP on the server side, so the app sees the real caller.
 */
describe.skipIf(s.skipReason)('1. mTLS on the wire between nodes', () => {
  const d = s.driver;
  const ns = nsName('e2e-mtls');
  let cleanup = async () => undefined as void;
  let serverIp = '';
  let clientIp = '';
  let clientNode = '';

  beforeAll(async () => {
    const [a, b] = await twoNodes(d);
    clientNode = a.name;
    cleanup = await deploy(d, [
      namespace(ns, true),
      serviceAccount(ns, 'server'),
      serviceAccount(ns, 'client'),
      echoPod({ ns, name: 'server', node: b.name }),
      clientPod({ ns, name: 'client', node: a.name }),
    ]);
    serverIp = (await d.pod(ns, 'server')).ip;
    clientIp = (await d.pod(ns, 'client')).ip;
    await waitHttpOk(d, ns, 'client', `http://${serverIp}:${ECHO_HTTP_PORT}/ready`);
  });
  afterAll(async () => cleanup());

  it('carries cross-node traffic only as TLS on :15008, without the plaintext marker, and keeps the source IP', async () => {
    const marker = `plaintext-marker-${Date.now()}`;
    let reply: Awaited<ReturnType<typeof httpGet>> | undefined;
    const cap = await d.capture({ node: clientNode, filter: `tcp and host ${serverIp}`, durationMs: 15_000 }, async () => {
      reply = await httpGet(d, ns, 'client', `http://${serverIp}:${ECHO_HTTP_PORT}/${marker}`, { 'x-marker': marker });
    });
    expect(reply?.status, `request failed: ${reply?.error}`).toBe(200);
    expect(reply?.reply?.remoteAddress, 'the app must see the caller pod IP (ztunnel source spoofing)').toBe(clientIp);
    expect(hboneLines(cap).length, `no :15008 packets captured:\n${cap.lines.join('\n')}`).toBeGreaterThan(0);
    expect(linesWithPort(cap, ECHO_HTTP_PORT), 'the app port must not cross the node link').toEqual([]);
    expect(containsMarker(cap, marker), 'the plaintext marker crossed the wire unencrypted').toBe(false);
  });
});
