import { describe, expect, it } from 'vitest';
import type { Identity, WorkloadCertificate } from '@mesh/identity';
import { RemoteCertificates } from './remote-certificates';

const alice: Identity = { trustDomain: 'cluster.local', namespace: 'ns', serviceAccount: 'alice' };

function cert(notBeforeMs: number, notAfterMs: number): WorkloadCertificate {
  return { identity: alice, certChainPem: [`leaf-${notBeforeMs}`], keyPem: 'key', rootsPem: 'root', notBeforeMs, notAfterMs };
}

describe('RemoteCertificates (a worker asking the main thread)', () => {
  it('asks once for concurrent callers, then serves from the cache until expiry', async () => {
    let now = 1_000;
    const asked: number[] = [];
    const certs = new RemoteCertificates(async () => {
      asked.push(now);
      return cert(now, now + 100);
    }, () => now);
    const [a, b] = await Promise.all([certs.get(alice), certs.get(alice)]);
    expect(a).toBe(b);
    expect(asked).toEqual([1_000]);
    now = 1_050;
    expect(await certs.get(alice)).toBe(a);
    now = 1_100;
    expect((await certs.get(alice)).notBeforeMs).toBe(1_100);
    expect(asked).toEqual([1_000, 1_100]);
  });

  it('takes a pushed rotation at once and ignores an older certificate', async () => {
    const certs = new RemoteCertificates(() => Promise.reject(new Error('main thread not asked')), () => 10);
    certs.store(cert(5, 1_000));
    certs.store(cert(1, 1_000));
    expect((await certs.get(alice)).notBeforeMs).toBe(5);
    certs.store(cert(8, 2_000));
    expect((await certs.get(alice)).notBeforeMs).toBe(8);
  });
});
