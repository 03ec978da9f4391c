import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suite } from '../lib/context';
import { meshPair, type MeshPair } from '../lib/mesh-pair';
import { fmt, httpGet, httpOk, type HttpOutcome } from '../lib/traffic';

const s = suite();
const RECOVERY_BUDGET_MS = 2_000;
const POLL_LIMIT_MS = 15_000;

/**
 * After a ztunnel restart the CNI agent re-sends its pod snapshot over ZDS and ztunnel re-creates the in-pod
 * listeners: new connections must work again within 2 s of the new ztunnel reporting ready.
 */
describe.skipIf(s.skipReason)('6. ztunnel restart on a node', () => {
  const d = s.driver;
  let p: MeshPair;

  beforeAll(async () => {
    p = await meshPair(d, 'e2e-zrestart');
  });
  afterAll(async () => p?.cleanup());

  const recoveryAfterRestart = async (node: string): Promise<number> => {
    await d.restart('ztunnel', node);
    const ready = Date.now();
    let last: HttpOutcome | undefined;
    while (Date.now() - ready < POLL_LIMIT_MS) {
      last = await httpGet(d, p.ns, 'client', p.url);
      if (httpOk(last)) return Date.now() - ready;
    }
    throw new Error(`no successful connection within ${POLL_LIMIT_MS} ms of ztunnel on ${node} restarting; last: ${last ? fmt(last) : 'none'}`);
  };

  it("client node's ztunnel (outbound side)", async () => {
    expect(await recoveryAfterRestart(p.clientNode)).toBeLessThanOrEqual(RECOVERY_BUDGET_MS);
  });

  it("server node's ztunnel (inbound side)", async () => {
    expect(await recoveryAfterRestart(p.serverNode)).toBeLessThanOrEqual(RECOVERY_BUDGET_MS);
  });
});
