import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SecureContext } from 'node:tls';
import { createHboneSecureContext } from '../src/index';

/** A throwaway CA made with the openssl CLI, issuing P-256 leaves with SPIFFE URI SANs. */
export interface TestPki {
  caCert: string;
  issue(name: string, uris: string[]): { key: string; cert: string };
  /** A SecureContext for a new leaf with the given SPIFFE identity, trusting this CA. */
  context(identity: string, extraRoots?: string[]): SecureContext;
  cleanup(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function createTestPki(org = 'hbone-test-ca'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'hbone-pki-'));
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', `/O=${org}`, '-days', '2'], dir);
  const caCert = readFileSync(join(dir, 'ca.crt'), 'utf8');
  let serial = 1;
  const issue = (name: string, uris: string[]): { key: string; cert: string } => {
    const n = `${name}-${serial++}`;
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', `${n}.key`, '-out', `${n}.csr`, '-subj', `/O=${name}`], dir);
    const ext = [
      `subjectAltName=${uris.map((u) => `URI:${u}`).join(',')}`,
      'basicConstraints=CA:FALSE',
      'keyUsage=digitalSignature',
      'extendedKeyUsage=serverAuth,clientAuth',
    ].join('\n');
    writeFileSync(join(dir, `${n}.ext`), ext);
    openssl(['x509', '-req', '-in', `${n}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', String(serial),
      '-out', `${n}.crt`, '-days', '1', '-extfile', `${n}.ext`], dir);
    return { key: readFileSync(join(dir, `${n}.key`), 'utf8'), cert: readFileSync(join(dir, `${n}.crt`), 'utf8') };
  };
  return {
    caCert,
    issue,
    context(identity, extraRoots = []) {
      const leaf = issue('leaf', [identity]);
      return createHboneSecureContext({ key: leaf.key, certChain: leaf.cert, roots: [caCert, ...extraRoots] });
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export const SERVER_ID = 'spiffe://cluster.local/ns/default/sa/server';
export const CLIENT_ID = 'spiffe://cluster.local/ns/default/sa/client';
