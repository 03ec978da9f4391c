import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2E_SECRET_TTL_MS } from '../lib/config';
import { suite } from '../lib/context';
import { spiffe } from '../lib/manifests';
import { meshPair, openEchoStream, type MeshPair } from '../lib/mesh-pair';
import { fmt, httpGet, httpOk } from '../lib/traffic';
import { waitFor } from '../lib/wait';

const s = suite();

interface DumpedCert {
  identity: string;
  certChain?: Array<{ pem: string }>;
}

/**
 * The run's ztunnels request SECRET_TTL=20s workload certificates (set at cluster up); ztunnel renews
 * before expiry (Istio: at half life). A renewal must not disturb a running connection nor new ones.
 */
describe.skipIf(s.skipReason)('7. short-lived certificates rotate without breaking connections', () => {
  const d = s.driver;
  let p: MeshPair;

  beforeAll(async () => {
    p = await meshPair(d, 'e2e-rotate');
  });
  afterAll(async () => p?.cleanup());

  const serverCert = async (): Promise<X509Certificate | undefined> => {
    const dump = JSON.parse(await d.admin('ztunnel', p.serverNode, '/config_dump')) as { certificates?: DumpedCert[] };
    const pem = dump.certificates?.find((c) => c.identity === spiffe(p.ns, 'server'))?.certChain?.[0]?.pem;
    return pem ? new X509Certificate(pem) : undefined;
  };

  it('rotates the server identity while a stream stays up and new connections work', async () => {
    const first = await waitFor(serverCert, { timeoutMs: 10_000, what: "the server's certificate in ztunnel's config_dump" });
    const lifetimeMs = Date.parse(first.validTo) - Date.parse(first.validFrom);
    expect(lifetimeMs, `certificate lifetime ${lifetimeMs} ms: SECRET_TTL did not reach ztunnel or istiod ignored it`).toBeLessThanOrEqual(E2E_SECRET_TTL_MS + 60_000);
    const { stream, roundTrip } = await openEchoStream(d, p);
    try {
      await roundTrip('before-rotation');
      const next = await waitFor(async () => {
        const c = await serverCert();
        return c && c.serialNumber !== first.serialNumber ? c : undefined;
      }, { timeoutMs: lifetimeMs + 5_000, intervalMs: 1_000, what: 'a renewed server certificate (new serial)' });
      expect(Date.parse(next.validTo)).toBeGreaterThan(Date.parse(first.validTo));
      await roundTrip('after-rotation');
      const o = await httpGet(d, p.ns, 'client', p.url);
      expect(httpOk(o), `new connection after rotation: ${fmt(o)}`).toBe(true);
    } finally {
      await stream.close();
    }
  });
});
