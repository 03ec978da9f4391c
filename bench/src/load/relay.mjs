/* global process */
// A trivial Node TCP relay, the floor reference for the ztunnel pair (`npm run bench -- l4 --peers
// direct,haproxy,node-plain,node-tls,ztunnel`): accept -> connect -> pipe both ways, TCP_NODELAY, nothing else
// (no HTTP/2, no policy, no metrics). mode plain: plaintext; tls-client: connects with TLS 1.3 mTLS; tls-server:
// accepts TLS 1.3 mTLS (ECDSA P-256 certs of the bench CA, the suites ztunnel and the C pairs use).
// Usage: node relay.mjs <plain|tls-client|tls-server> <certDir> <listenHost:port=targetHost:port> ...
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

const [mode, certDir, ...maps] = process.argv.slice(2);
const TLS13 = { minVersion: 'TLSv1.3', ciphers: 'TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256', ecdhCurve: 'X25519:P-256' };
const creds = (name) => ({ key: fs.readFileSync(`${certDir}/${name}.key`), cert: fs.readFileSync(`${certDir}/${name}.crt`), ca: fs.readFileSync(`${certDir}/ca.crt`) });
const split = (hp) => {
  const i = hp.lastIndexOf(':');
  return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) };
};

// Built once: the certificates do not change during a run, and a context per connection would inflate the
// floor this relay is there to show.
const clientContext = mode === 'tls-client' ? tls.createSecureContext({ ...TLS13, ...creds('client') }) : undefined;

function relay(a, to) {
  a.setNoDelay(true);
  const b = clientContext !== undefined
    ? tls.connect({ ...to, secureContext: clientContext, servername: 'server.bench.local' })
    : net.connect(to);
  b.setNoDelay(true);
  a.pipe(b);
  b.pipe(a);
  const close = () => {
    a.destroy();
    b.destroy();
  };
  for (const s of [a, b]) {
    s.on('error', close);
    s.on('close', close);
  }
}

for (const m of maps) {
  const [from, to] = m.split('=').map(split);
  const onConn = (a) => relay(a, to);
  const server = mode === 'tls-server'
    ? tls.createServer({ ...TLS13, ...creds('server'), requestCert: true, rejectUnauthorized: true }, onConn)
    : net.createServer(onConn);
  server.listen(from.port, from.host); // the harness probes every listener before it measures
}
