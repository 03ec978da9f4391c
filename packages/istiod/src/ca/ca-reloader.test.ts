import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateAuthority, generateWorkloadKey, makeIdentity } from '@mesh/identity';
import { afterAll, describe, expect, it } from 'vitest';
import { captureLogger } from '../testing/log-capture';
import { CaReloader, openCa, pluginCaReader, storedCaReader, type CaChange } from './ca-reloader';
import { directoryCaStore, loadOrCreateSelfSignedCa } from './ca-store';

const dir = mkdtempSync(join(tmpdir(), 'istiod-ca-reload-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Plugs a self-signed CA into a cacerts directory, as an operator rotating the Secret's files would. */
function plug(cacerts: string, ca: CertificateAuthority): void {
  writeFileSync(join(cacerts, 'ca-key.pem'), ca.caKeyPem);
  writeFileSync(join(cacerts, 'ca-cert.pem'), ca.caCertPem);
  writeFileSync(join(cacerts, 'root-cert.pem'), ca.rootCertPem);
}

const rootOfIssued = (ca: CertificateAuthority): string =>
  ca.issueWorkloadCert({ identity: makeIdentity('cluster.local', 'default', 'app'), publicKey: generateWorkloadKey().publicKey }).certChainPem.at(-1) as string;

describe('CaReloader', () => {
  it('keeps the CA while cacerts are unchanged, then swaps to rotated cacerts and reports the new root', async () => {
    const cacerts = mkdtempSync(join(dir, 'cacerts-'));
    const first = CertificateAuthority.selfSigned();
    plug(cacerts, first);
    const reloader = await openCa({ pluginDir: cacerts, store: () => directoryCaStore(join(dir, 'unused')), trustDomain: 'cluster.local', reloadIntervalMs: 0 });
    const changes: CaChange[] = [];
    reloader.onChange((c) => void changes.push(c));
    expect(await reloader.check()).toBe(false);
    expect(changes).toHaveLength(0);

    const second = CertificateAuthority.selfSigned();
    plug(cacerts, second);
    expect(await reloader.check()).toBe(true);
    expect(changes).toHaveLength(1);
    expect(changes[0]?.rootChanged).toBe(true);
    expect(changes[0]?.previous.rootCertPem).toBe(first.rootCertPem);
    expect(reloader.current().rootCertPem).toBe(second.rootCertPem);
    expect(rootOfIssued(reloader.current())).toBe(second.rootCertPem);
  });

  it('keeps the current CA when the cacerts update is half written (key of one CA, cert of another)', async () => {
    const cacerts = mkdtempSync(join(dir, 'cacerts-'));
    const first = CertificateAuthority.selfSigned();
    plug(cacerts, first);
    const cap = captureLogger();
    const reloader = new CaReloader({ initial: first, read: pluginCaReader(cacerts), intervalMs: 0, logger: cap.logger });
    writeFileSync(join(cacerts, 'ca-key.pem'), CertificateAuthority.selfSigned().caKeyPem);
    expect(await reloader.check()).toBe(false);
    expect(reloader.current()).toBe(first);
    expect(cap.lines().some((l) => /keeping the current CA/.test(JSON.stringify(l)))).toBe(true);
  });

  it('follows a persisted self-signed root replaced on disk, and polls on its interval', async () => {
    const state = join(dir, 'state');
    const initial = await loadOrCreateSelfSignedCa({ store: directoryCaStore(state), trustDomain: 'cluster.local' });
    const reloader = new CaReloader({ initial, read: storedCaReader(directoryCaStore(state)), intervalMs: 50 });
    const seen = new Promise<CaChange>((resolve) => reloader.onChange(resolve));
    reloader.start();
    try {
      const replacement = CertificateAuthority.selfSigned();
      writeFileSync(join(state, 'ca-key.pem'), replacement.caKeyPem);
      writeFileSync(join(state, 'ca-cert.pem'), replacement.caCertPem);
      const change = await seen;
      expect(change.rootChanged).toBe(true);
      expect(reloader.current().rootCertPem).toBe(replacement.rootCertPem);
    } finally {
      reloader.stop();
    }
  });
});

describe('self-signed root create-if-absent', () => {
  it('adopts the root another istiod persisted between load and save', async () => {
    const state = join(dir, 'race');
    const store = directoryCaStore(state);
    const winner = CertificateAuthority.selfSigned();
    // A store whose load() still sees nothing, as when two replicas start together.
    const racing = { ...store, load: async () => undefined };
    await store.save({ caCertPem: winner.caCertPem, caKeyPem: winner.caKeyPem });
    const ca = await loadOrCreateSelfSignedCa({ store: racing, trustDomain: 'cluster.local' });
    expect(ca.rootCertPem).toBe(winner.rootCertPem);
  });
});
