import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suite } from '../lib/context';
import { meshPair, openEchoStream, type MeshPair } from '../lib/mesh-pair';
import { fmt, httpGet, httpOk } from '../lib/traffic';
import { sleep } from '../lib/wait';

const s = suite();
/** Long enough to outlive xDS/CA reconnect attempts, short against the run's 20 s certificates. */
const OUTAGE_MS = 4_000;

/**
 * The data plane runs from ztunnel's cached state: istiod going away (kill -9) must neither cut established
 * connections nor stop new ones; when istiod returns ztunnel reconnects and resyncs.
 */
describe.skipIf(s.skipReason)('5. istiod killed and restarted during traffic', () => {
  const d = s.driver;
  let p: MeshPair;
  let istiodDown = false;

  beforeAll(async () => {
    p = await meshPair(d, 'e2e-istiod');
  });
  afterAll(async () => {
    if (istiodDown) await d.restart('istiod');
    await p?.cleanup();
  });

  it('keeps an established stream and serves new connections from cached config', async () => {
    const { stream, roundTrip } = await openEchoStream(d, p);
    try {
      await roundTrip('before-kill');
      await d.kill('istiod', 'SIGKILL');
      istiodDown = true;
      await roundTrip('istiod-down');
      for (const at of [0, OUTAGE_MS]) {
        await sleep(at);
        const o = await httpGet(d, p.ns, 'client', p.url);
        expect(httpOk(o), `new connection with istiod down (${at} ms in): ${fmt(o)}`).toBe(true);
      }
      await roundTrip('istiod-still-down');
      await d.restart('istiod');
      istiodDown = false;
      await roundTrip('istiod-back');
      const after = await httpGet(d, p.ns, 'client', p.url);
      expect(httpOk(after), `new connection after istiod returned: ${fmt(after)}`).toBe(true);
    } finally {
      await stream.close();
    }
  });
});
