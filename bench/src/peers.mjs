/* global process */
// The L4 contenders. Each peer exposes, for every upstream port, the address a client in its client netns
// dials: the floor dials the server directly; the stunnel and HAProxy pairs dial their client-side proxy
// on loopback (proxy A in the client netns, TLS 1.3 mTLS over the veth to proxy B in the server netns);
// the ztunnel pair dials the server pod IP and is captured by the in-pod rules, like a real pod.
import fs from 'node:fs';
import path from 'node:path';
import { hasCommand, startChild, tcpReady, waitFor } from './sys.mjs';
import { startZtunnelPair } from './ztunnel-peer.mjs';

export const PORTS = { http: 8080, iperf: 5201, echo: 9000, sink: 9001 };
// Each pair gets its own listener ports, so a peer that failed to start can never be measured through
// another peer's still-running listeners.
const PORT_BASE = {
  stunnel: { client: 11000, server: 12000 }, haproxy: { client: 13000, server: 14000 },
  'node-plain': { client: 15000, server: 16000 }, 'node-tls': { client: 17000, server: 18000 },
};
const READY_MS = 10_000;
// ztunnel's TLS 1.3 suites and groups (packages/hbone/src/tls/context.ts), so the handshakes cost the same.
const TLS13_SUITES = 'TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256';
const CURVES = 'X25519:P-256';
export const HTTP_BODY_BYTES = 1024;

let clientPort;
let serverPort;
function usePorts(peer) {
  clientPort = (i) => PORT_BASE[peer].client + i;
  serverPort = (i) => PORT_BASE[peer].server + i;
  const base = PORT_BASE[peer].client;
  return (port) => ({ host: '127.0.0.1', port: base + services().find((s) => s.port === port).i });
}
const services = () => Object.values(PORTS).map((port, i) => ({ port, i }));

async function readyAll(ns, host, ports, what, procs = []) {
  const alive = () => {
    const dead = procs.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    if (dead) throw new Error(`${dead.label} exited: ${dead.output.trim().split('\n').slice(-2).join(' ')}`);
  };
  for (const p of ports) {
    await waitFor(() => {
      alive();
      return tcpReady(ns, host, p);
    }, READY_MS, `${what} on ${host}:${p}`);
  }
  alive();
}

/** nginx (single process, one worker) or the node fallback for HTTP, plus node echo/sink servers. */
export async function startUpstreams(side, tmp, repoRoot) {
  const useNginx = hasCommand('nginx');
  const dir = fs.mkdtempSync(path.join(tmp, 'up-'));
  const loads = path.join(repoRoot, 'bench', 'src', 'load');
  startChild(`servers-${side.ns}`, process.execPath, [path.join(loads, 'servers.mjs'), PORTS.echo, PORTS.sink, useNginx ? 0 : PORTS.http, HTTP_BODY_BYTES].map(String), { ns: side.ns });
  if (useNginx) {
    const body = 'y'.repeat(HTTP_BODY_BYTES);
    fs.writeFileSync(path.join(dir, 'nginx.conf'), [
      'daemon off; master_process off; worker_processes 1; pid nginx.pid; error_log stderr warn;',
      'events { worker_connections 20000; }',
      'http { access_log off; keepalive_requests 10000000; keepalive_timeout 300s;',
      `  client_body_temp_path ${dir}/b; proxy_temp_path ${dir}/p; fastcgi_temp_path ${dir}/f; uwsgi_temp_path ${dir}/u; scgi_temp_path ${dir}/s;`,
      `  server { listen ${PORTS.http}; location / { default_type text/plain; return 200 "${body}"; } } }`,
    ].join('\n'));
    startChild(`nginx-${side.ns}`, 'nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', 'stderr'], { ns: side.ns });
  }
  await readyAll(side.ns, '127.0.0.1', [PORTS.http, PORTS.echo, PORTS.sink], 'upstreams');
  return { http: useNginx ? 'nginx (1 worker)' : 'node:http' };
}

export function directPeer(pair) {
  return { name: 'direct', ns: pair.client.ns, procs: [], target: (port) => ({ host: pair.server.ip, port }) };
}

function stunnelConf(client, pair, certs) {
  const lines = ['foreground = yes', 'pid =', 'debug = 4', 'socket = l:TCP_NODELAY=1', 'socket = r:TCP_NODELAY=1'];
  for (const { port, i } of services()) {
    lines.push(`[s${port}]`, `client = ${client ? 'yes' : 'no'}`);
    lines.push(client ? `accept = 127.0.0.1:${clientPort(i)}` : `accept = ${pair.server.ip}:${serverPort(i)}`);
    lines.push(client ? `connect = ${pair.server.ip}:${serverPort(i)}` : `connect = 127.0.0.1:${port}`);
    lines.push(`cert = ${certs.file(client ? 'client.crt' : 'server.crt')}`, `key = ${certs.file(client ? 'client.key' : 'server.key')}`);
    lines.push(`CAfile = ${certs.ca}`, 'verifyChain = yes', 'sslVersionMin = TLSv1.3', `ciphersuites = ${TLS13_SUITES}`, `curves = ${CURVES}`);
    if (client) lines.push('checkHost = server.bench.local');
  }
  return `${lines.join('\n')}\n`;
}

export async function stunnelPeer(pair, certs) {
  const target = usePorts('stunnel');
  const procs = [];
  for (const [client, ns] of [[false, pair.server.ns], [true, pair.client.ns]]) {
    const conf = certs.file(`stunnel-${client ? 'a' : 'b'}.conf`);
    fs.writeFileSync(conf, stunnelConf(client, pair, certs));
    procs.push(startChild(`stunnel-${client ? 'a' : 'b'}`, 'stunnel4', [conf], { ns }));
  }
  await readyAll(pair.client.ns, '127.0.0.1', services().map((s) => clientPort(s.i)), 'stunnel', procs);
  return { name: 'stunnel', ns: pair.client.ns, procs, target };
}

function haproxyConf(client, pair, certs) {
  const lines = [
    'global', '  nbthread 1', '  maxconn 8000', `  ssl-default-bind-ciphersuites ${TLS13_SUITES}`, '  ssl-default-bind-options ssl-min-ver TLSv1.3',
    `  ssl-default-server-ciphersuites ${TLS13_SUITES}`, '  ssl-default-server-options ssl-min-ver TLSv1.3',
    'defaults', '  mode tcp', '  timeout connect 5s', '  timeout client 300s', '  timeout server 300s',
  ];
  for (const { port, i } of services()) {
    if (client) {
      lines.push(`listen l${port}`, `  bind 127.0.0.1:${clientPort(i)}`,
        `  server s ${pair.server.ip}:${serverPort(i)} ssl crt ${certs.file('client.pem')} ca-file ${certs.ca} verify required verifyhost server.bench.local`);
    } else {
      lines.push(`listen l${port}`, `  bind ${pair.server.ip}:${serverPort(i)} ssl crt ${certs.file('server.pem')} ca-file ${certs.ca} verify required curves ${CURVES}`,
        `  server u 127.0.0.1:${port}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export async function haproxyPeer(pair, certs) {
  const target = usePorts('haproxy');
  const procs = [];
  for (const [client, ns] of [[false, pair.server.ns], [true, pair.client.ns]]) {
    const conf = certs.file(`haproxy-${client ? 'a' : 'b'}.cfg`);
    fs.writeFileSync(conf, haproxyConf(client, pair, certs));
    procs.push(startChild(`haproxy-${client ? 'a' : 'b'}`, 'haproxy', ['-db', '-f', conf], { ns }));
  }
  await readyAll(pair.client.ns, '127.0.0.1', services().map((s) => clientPort(s.i)), 'haproxy', procs);
  return { name: 'haproxy', ns: pair.client.ns, procs, target };
}

export async function ztunnelPeer(pods, certs, bundle) {
  const { procs } = await startZtunnelPair({ bundle, pods, certs, tmpDir: certs.dir });
  return { name: 'ztunnel', ns: pods.client.ns, procs, target: (port) => ({ host: pods.server.ip, port }) };
}

/**
 * Reference pairs for Node's own floor (only when asked for with --peers): two node processes relaying with
 * net/tls + pipe() and nothing else, plaintext (node-plain) or TLS 1.3 mTLS per connection (node-tls) between them.
 */
export async function nodeRelayPeer(name, pair, certs, repoRoot) {
  const target = usePorts(name);
  const script = path.join(repoRoot, 'bench', 'src', 'load', 'relay.mjs');
  const tlsPair = name === 'node-tls';
  const procs = [];
  for (const client of [false, true]) {
    const maps = services().map(({ port, i }) => (client
      ? `127.0.0.1:${clientPort(i)}=${pair.server.ip}:${serverPort(i)}`
      : `${pair.server.ip}:${serverPort(i)}=127.0.0.1:${port}`));
    const mode = !tlsPair ? 'plain' : client ? 'tls-client' : 'tls-server';
    procs.push(startChild(`${name}-${client ? 'a' : 'b'}`, process.execPath, [script, mode, certs.dir, ...maps], { ns: client ? pair.client.ns : pair.server.ns }));
  }
  await readyAll(pair.server.ns, pair.server.ip, services().map((s) => serverPort(s.i)), name, procs);
  await readyAll(pair.client.ns, '127.0.0.1', services().map((s) => clientPort(s.i)), name, procs);
  return { name, ns: pair.client.ns, procs, target };
}

export const PEER_TOOLS = { stunnel: 'stunnel4', haproxy: 'haproxy' };
