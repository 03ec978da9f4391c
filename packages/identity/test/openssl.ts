import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Run `fn` with a scratch directory that is always removed. */
export function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'mesh-identity-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `openssl verify` of a leaf against a root with optional intermediates; returns {ok, output}. */
export function opensslVerify(rootPem: string, chain: string[], purpose?: string): { ok: boolean; output: string } {
  return withTempDir((dir) => {
    const [leaf = '', ...intermediates] = chain;
    writeFileSync(join(dir, 'root.pem'), rootPem);
    writeFileSync(join(dir, 'leaf.pem'), leaf);
    const args = ['verify', '-CAfile', join(dir, 'root.pem')];
    if (intermediates.length > 0) {
      writeFileSync(join(dir, 'untrusted.pem'), intermediates.join(''));
      args.push('-untrusted', join(dir, 'untrusted.pem'));
    }
    if (purpose !== undefined) args.push('-purpose', purpose);
    args.push(join(dir, 'leaf.pem'));
    const r = spawnSync('openssl', args, { encoding: 'utf8' });
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
  });
}

export function opensslText(pem: string): string {
  return withTempDir((dir) => {
    writeFileSync(join(dir, 'c.pem'), pem);
    return execFileSync('openssl', ['x509', '-in', join(dir, 'c.pem'), '-noout', '-text'], { encoding: 'utf8' });
  });
}

/** A root and an intermediate CA made by the openssl CLI, as an operator would for the `cacerts` Secret. */
export function opensslPluginCa(): { rootCertPem: string; caCertPem: string; caKeyPem: string } {
  return withTempDir((dir) => {
    const p = (f: string): string => join(dir, f);
    const run = (...args: string[]): void => {
      execFileSync('openssl', args, { stdio: 'ignore' });
    };
    writeFileSync(p('ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
    run('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', p('root.key'));
    run('req', '-x509', '-new', '-key', p('root.key'), '-days', '3650', '-subj', '/O=Istio/CN=Root CA', '-out', p('root.pem'));
    run('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', p('ca.key.sec1'));
    run('pkcs8', '-topk8', '-nocrypt', '-in', p('ca.key.sec1'), '-out', p('ca.key'));
    run('req', '-new', '-key', p('ca.key'), '-subj', '/O=Istio/CN=Intermediate CA/L=cluster1', '-out', p('ca.csr'));
    run('x509', '-req', '-in', p('ca.csr'), '-CA', p('root.pem'), '-CAkey', p('root.key'), '-CAcreateserial', '-days', '730', '-extfile', p('ca.ext'), '-out', p('ca.pem'));
    const read = (f: string): string => execFileSync('cat', [p(f)], { encoding: 'utf8' });
    return { rootCertPem: read('root.pem'), caCertPem: read('ca.pem'), caKeyPem: read('ca.key') };
  });
}
