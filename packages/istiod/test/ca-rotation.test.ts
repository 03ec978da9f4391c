// Plug-in CA rotation through the whole istiod app (directory mode, in process): when the cacerts files change,
// istiod signs with the new CA, re-issues its serving certificate (new TLS handshakes chain to the new root),
// and rewrites ROOT_CERT_OUTPUT, so clients holding the new root see it everywhere.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateAuthority, createCaClient, makeIdentity } from '@mesh/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { istiodConfig, startIstiod, type RunningIstiod } from '../src/app';
import { captureLogger } from '../src/testing/log-capture';

const SERVER_NAME = 'istiod.istio-system.svc';
const app = makeIdentity('cluster.local', 'default', 'app');

function plug(cacerts: string, ca: CertificateAuthority): void {
  writeFileSync(join(cacerts, 'ca-key.pem'), ca.caKeyPem);
  writeFileSync(join(cacerts, 'ca-cert.pem'), ca.caCertPem);
  writeFileSync(join(cacerts, 'root-cert.pem'), ca.rootCertPem);
}

async function waitFor(what: string, pred: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('istiod follows a rotated plug-in CA', () => {
  let dir: string;
  let istiod: RunningIstiod;
  const first = CertificateAuthority.selfSigned({ organization: 'first root' });
  const second = CertificateAuthority.selfSigned({ organization: 'second root' });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'istiod-ca-rotation-'));
    mkdirSync(join(dir, 'config'));
    mkdirSync(join(dir, 'cacerts'));
    plug(join(dir, 'cacerts'), first);
    writeFileSync(join(dir, 'tokens.yaml'), '- {token: zt1, namespace: istio-system, serviceAccount: ztunnel, podName: ztunnel-1, nodeName: node-1}\n');
    writeFileSync(join(dir, 'config', 'pods.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: {name: app-1, namespace: default}\nspec: {nodeName: node-1, serviceAccountName: app, containers: [{name: a, image: x}]}\nstatus: {phase: Running, podIP: 10.0.0.5}\n');
    const config = istiodConfig.parse({
      CONFIG_SOURCE: `dir:${join(dir, 'config')}`, AUTH_TOKENS_FILE: join(dir, 'tokens.yaml'), CACERTS_DIR: join(dir, 'cacerts'),
      ROOT_CERT_OUTPUT: join(dir, 'out', 'root-cert.pem'), CA_RELOAD_INTERVAL: '100ms', BIND_ADDRESS: '127.0.0.1',
      GRPC_PORT: '0', MONITORING_PORT: '0', READINESS_PORT: '0', PROCESS_METRICS: 'false',
    });
    istiod = await startIstiod({ config, logger: captureLogger().logger });
  }, 60_000);

  afterAll(async () => {
    await istiod?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const fetchWith = async (rootCertPem: string): Promise<{ rootsPem: string }> => {
    const client = createCaClient({ address: `127.0.0.1:${istiod.grpcPort}`, rootCertPem, serverName: SERVER_NAME, token: 'zt1', callTimeoutMs: 3_000 });
    try {
      return await client.fetchCertificate(app);
    } finally {
      client.close();
    }
  };

  it('serves the first root, then the second after the cacerts files are replaced', async () => {
    const rootFile = join(dir, 'out', 'root-cert.pem');
    expect(readFileSync(rootFile, 'utf8')).toBe(first.rootCertPem);
    expect((await fetchWith(first.rootCertPem)).rootsPem).toBe(first.rootCertPem);

    plug(join(dir, 'cacerts'), second);
    await waitFor('the published root to change', () => readFileSync(rootFile, 'utf8') === second.rootCertPem);
    expect(istiod.ca.rootCertPem).toBe(second.rootCertPem);
    // The serving cert follows (re-issued right after the swap): a client trusting only the new root
    // completes the handshake and is handed the new root...
    let got: { rootsPem: string } | undefined;
    for (let i = 0; i < 20 && got === undefined; i++) {
      got = await fetchWith(second.rootCertPem).catch(() => new Promise<undefined>((r) => setTimeout(() => r(undefined), 100)));
    }
    expect(got?.rootsPem).toBe(second.rootCertPem);
    // ...and one that trusts only the old root no longer does.
    await expect(fetchWith(first.rootCertPem)).rejects.toThrow();
  });
});
