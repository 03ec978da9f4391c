/**
 * Workload certificate issuance throughput (goal: >= 1,000 certs/s on 2 cores).
 * Run: npx vitest bench --run --root packages/identity
 */
import { bench, describe } from 'vitest';
import { CertificateAuthority } from '../src/ca/authority';
import { buildCsr } from '../src/pki/csr';
import { generateWorkloadKey } from '../src/pki/keys';

const identity = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'bench' };
const ca = CertificateAuthority.selfSigned();
const rsaCa = CertificateAuthority.selfSigned({ keyAlgorithm: 'rsa-2048' });
const keys = generateWorkloadKey();
const csrPem = buildCsr(identity, keys.privateKey, keys.publicKey);

describe('issueWorkloadCert', () => {
  bench('P-256 CA, from CSR (parse + verify CSR, sign leaf)', () => {
    ca.issueWorkloadCert({ identity, csrPem, ttlMs: 86_400_000 });
  });
  bench('P-256 CA, from public key', () => {
    ca.issueWorkloadCert({ identity, publicKey: keys.publicKey, ttlMs: 86_400_000 });
  });
  bench('RSA-2048 CA (istiod self-signed default), from CSR', () => {
    rsaCa.issueWorkloadCert({ identity, csrPem, ttlMs: 86_400_000 });
  });
});

describe('client side', () => {
  bench('generate P-256 key + CSR (ztunnel per fetch)', () => {
    const k = generateWorkloadKey();
    buildCsr(identity, k.privateKey, k.publicKey);
  });
});
