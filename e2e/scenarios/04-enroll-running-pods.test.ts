import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaptureResult } from '../drivers/types';
import { nsName, suite, twoNodes } from '../lib/context';
import { AMBIENT_LABEL, ECHO_HTTP_PORT, clientPod, echoPod, namespace, serviceAccount } from '../lib/manifests';
import { PROPAGATION_TIMEOUT_MS, deploy, hboneLines, linesWithPort, waitHttpOk } from '../lib/scenario';
import { httpGet } from '../lib/traffic';
import { waitFor } from '../lib/wait';

const s = suite();

/**
 * Ambient enrollment is a namespace label: the CNI agent hands running pods' netns to ztunnel (and takes
 * them back) without restarting them, so the same processes switch between plaintext and HBONE.
 */
describe.skipIf(s.skipReason)('4. enrolling and unenrolling a namespace of running pods', () => {
  const d = s.driver;
  const ns = nsName('e2e-enroll');
  let cleanup = async () => undefined as void;
  let url = '';
  let serverIp = '';
  let clientNode = '';
  const pids: Record<string, string> = {};

  const captureRequest = (): Promise<CaptureResult> =>
    d.capture({ node: clientNode, filter: `tcp and host ${serverIp}`, durationMs: 10_000 }, async () => {
      await httpGet(d, ns, 'client', url);
    });

  const pidsUnchanged = async () => {
    for (const pod of ['server', 'client']) expect(await d.podProcessId(ns, pod), `${pod} was restarted`).toBe(pids[pod]);
  };

  beforeAll(async () => {
    const [a, b] = await twoNodes(d);
    clientNode = a.name;
    cleanup = await deploy(d, [
      namespace(ns, false),
      serviceAccount(ns, 'server'),
      serviceAccount(ns, 'client'),
      echoPod({ ns, name: 'server', node: b.name }),
      clientPod({ ns, name: 'client', node: a.name }),
    ]);
    serverIp = (await d.pod(ns, 'server')).ip;
    url = `http://${serverIp}:${ECHO_HTTP_PORT}/`;
    await waitHttpOk(d, ns, 'client', url);
    for (const pod of ['server', 'client']) pids[pod] = await d.podProcessId(ns, pod);
  });
  afterAll(async () => cleanup());

  it('starts as plaintext on the app port', async () => {
    const cap = await captureRequest();
    expect(linesWithPort(cap, ECHO_HTTP_PORT).length, cap.lines.join('\n')).toBeGreaterThan(0);
    expect(hboneLines(cap)).toEqual([]);
  });

  it('after labelling the namespace the same pods talk HBONE on :15008', async () => {
    await d.label(ns, { [AMBIENT_LABEL]: 'ambient' });
    const cap = await waitFor(async () => {
      const c = await captureRequest();
      return hboneLines(c).length > 0 && linesWithPort(c, ECHO_HTTP_PORT).length === 0 ? c : undefined;
    }, { timeoutMs: PROPAGATION_TIMEOUT_MS, what: 'cross-node traffic to switch to :15008' });
    expect(hboneLines(cap).length).toBeGreaterThan(0);
    await pidsUnchanged();
  });

  it('after removing the label traffic is plaintext again, still without restarts', async () => {
    await d.label(ns, { [AMBIENT_LABEL]: null });
    const cap = await waitFor(async () => {
      const c = await captureRequest();
      return linesWithPort(c, ECHO_HTTP_PORT).length > 0 && hboneLines(c).length === 0 ? c : undefined;
    }, { timeoutMs: PROPAGATION_TIMEOUT_MS, what: 'cross-node traffic to return to plaintext :8080' });
    expect(linesWithPort(cap, ECHO_HTTP_PORT).length).toBeGreaterThan(0);
    await pidsUnchanged();
  });
});
