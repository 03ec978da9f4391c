import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  ca: Buffer;
  serverCert: Buffer;
  serverKey: Buffer;
  clientCert: Buffer;
  clientKey: Buffer;
}

/** Test-only PKI made with the openssl CLI: a CA, an istiod serving cert and a ztunnel client cert. */
export function makeTestPki(serverSan = 'istiod.istio-system.svc', clientSpiffe = 'spiffe://cluster.local/ns/istio-system/sa/ztunnel'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'xds-pki-'));
  const p = (f: string): string => join(dir, f);
  const ssl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    ssl('req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.crt'), '-days', '1', '-subj', '/CN=xds-test-ca',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    const leaf = (name: string, ext: string): void => {
      writeFileSync(p(`${name}.ext`), ext);
      ssl('req', ...ec, '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`), '-subj', `/CN=${name}`);
      ssl('x509', '-req', '-in', p(`${name}.csr`), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial',
        '-out', p(`${name}.crt`), '-days', '1', '-extfile', p(`${name}.ext`));
    };
    leaf('server', `subjectAltName=DNS:${serverSan}\nextendedKeyUsage=serverAuth\n`);
    leaf('client', `subjectAltName=URI:${clientSpiffe}\nextendedKeyUsage=clientAuth\n`);
    return {
      ca: readFileSync(p('ca.crt')),
      serverCert: readFileSync(p('server.crt')),
      serverKey: readFileSync(p('server.key')),
      clientCert: readFileSync(p('client.crt')),
      clientKey: readFileSync(p('client.key')),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
