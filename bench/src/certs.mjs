// One ECDSA P-256 CA and two leaf certificates (client, server) made with openssl, so every TLS peer
// uses the same key type. The ztunnel pair signs its own workload certificates with the same CA.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sh, trackTempDir } from './sys.mjs';

function openssl(dir, ...args) {
  sh('openssl', args, { cwd: dir });
}

function leaf(dir, name) {
  openssl(dir, 'ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`);
  openssl(dir, 'req', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}.bench.local`, '-out', `${name}.csr`);
  fs.writeFileSync(path.join(dir, `${name}.ext`), `subjectAltName=DNS:${name}.bench.local\nextendedKeyUsage=serverAuth,clientAuth\n`);
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2',
    '-extfile', `${name}.ext`, '-out', `${name}.crt`);
  fs.writeFileSync(path.join(dir, `${name}.pem`), fs.readFileSync(path.join(dir, `${name}.crt`), 'utf8') + fs.readFileSync(path.join(dir, `${name}.key`), 'utf8'));
}

export function makeCerts() {
  const dir = trackTempDir(fs.mkdtempSync(path.join(os.tmpdir(), 'mbench-certs-')));
  openssl(dir, 'ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.ec.key');
  openssl(dir, 'pkcs8', '-topk8', '-nocrypt', '-in', 'ca.ec.key', '-out', 'ca.key');
  openssl(dir, 'req', '-x509', '-new', '-key', 'ca.key', '-subj', '/O=cluster.local', '-days', '2', '-out', 'ca.crt',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  leaf(dir, 'client');
  leaf(dir, 'server');
  return { dir, ca: path.join(dir, 'ca.crt'), caKey: path.join(dir, 'ca.key'), file: (n) => path.join(dir, n) };
}
