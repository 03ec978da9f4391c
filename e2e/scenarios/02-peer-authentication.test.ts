import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nsName, suite, twoNodes } from '../lib/context';
import { ECHO_HTTP_PORT, clientPod, echoPod, namespace, peerAuthentication, serviceAccount } from '../lib/manifests';
import { PROPAGATION_TIMEOUT_MS, deploy, waitHttpOk } from '../lib/scenario';
import { fmt, httpGet, httpOk } from '../lib/traffic';
import { waitFor } from '../lib/wait';

const s = suite();

/**
 * A caller outside the mesh reaches an enrolled pod in plaintext; ztunnel's inbound plaintext path checks
 * PeerAuthentication: STRICT rejects it, PERMISSIVE (Istio's default) lets it through.
 */
describe.skipIf(s.skipReason)('2. PeerAuthentication STRICT vs PERMISSIVE for a non-mesh caller', () => {
  const d = s.driver;
  const meshNs = nsName('e2e-pa');
  const outsideNs = nsName('e2e-pa-out');
  let cleanup = async () => undefined as void;
  let url = '';

  beforeAll(async () => {
    const [a, b] = await twoNodes(d);
    cleanup = await deploy(d, [
      namespace(meshNs, true),
      namespace(outsideNs, false),
      serviceAccount(meshNs, 'server'),
      serviceAccount(meshNs, 'client'),
      serviceAccount(outsideNs, 'outsider'),
      echoPod({ ns: meshNs, name: 'server', node: b.name }),
      clientPod({ ns: meshNs, name: 'client', node: a.name }),
      clientPod({ ns: outsideNs, name: 'outsider', node: a.name }),
    ]);
    url = `http://${(await d.pod(meshNs, 'server')).ip}:${ECHO_HTTP_PORT}/`;
    await waitHttpOk(d, outsideNs, 'outsider', url);
  });
  afterAll(async () => cleanup());

  it('STRICT refuses the plaintext caller while mesh callers keep working', async () => {
    const pa = peerAuthentication(meshNs, 'default', 'STRICT');
    await d.apply([pa]);
    const refused = await waitFor(async () => {
      const o = await httpGet(d, outsideNs, 'outsider', url);
      return httpOk(o) ? undefined : o;
    }, { timeoutMs: PROPAGATION_TIMEOUT_MS, what: 'STRICT to refuse the non-mesh caller' });
    expect(refused.status, fmt(refused)).not.toBe(200);
    const mesh = await httpGet(d, meshNs, 'client', url);
    expect(httpOk(mesh), `mesh caller under STRICT: ${fmt(mesh)}`).toBe(true);
  });

  it('PERMISSIVE lets the plaintext caller through again', async () => {
    await d.apply([peerAuthentication(meshNs, 'default', 'PERMISSIVE')]);
    const ok = await waitHttpOk(d, outsideNs, 'outsider', url);
    expect(ok.reply?.remoteAddress).toBe((await d.pod(outsideNs, 'outsider')).ip);
  });
});
