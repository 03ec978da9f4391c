/* global process */
// L7 contenders on loopback, all forwarding to one upstream nginx: HAProxy (mode http, nbthread 1), nginx
// (proxy_pass with an upstream keepalive pool, 1 worker) and the waypoint path (front -> HBONE -> waypoint ->
// HBONE -> back -> upstream, see waypoint-node.ts). Each resolves { name, port, procs, cpuProcs }.
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from './cp-procs.mjs';
import { hasCommand, startChild, waitFor } from './sys.mjs';

const READY_MS = 20_000;
const BANNER = "import { createRequire as __c } from 'node:module'; const require = __c(import.meta.url);";
export const L7_BODY_BYTES = 1024;

async function tcpOpen(port) {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

async function ready(proc, port, what) {
  await waitFor(async () => {
    if (proc.child.exitCode !== null) throw new Error(`${proc.label} exited: ${proc.output.slice(-400)}`);
    return tcpOpen(port);
  }, READY_MS, what).catch((e) => {
    throw new Error(`${e.message}; output: ${proc.output.slice(-300).trim()}`);
  });
}

function nginxConf(dir, body) {
  return ['daemon off; master_process off; worker_processes 1; pid nginx.pid; error_log stderr warn;',
    'events { worker_connections 20000; }',
    'http { access_log off; keepalive_requests 10000000; keepalive_timeout 300s;',
    `  client_body_temp_path ${dir}/b; proxy_temp_path ${dir}/p; fastcgi_temp_path ${dir}/f; uwsgi_temp_path ${dir}/u; scgi_temp_path ${dir}/s;`,
    body, '}'].join('\n');
}

export async function startUpstream(tmp) {
  if (!hasCommand('nginx')) throw new Error('nginx is not installed (the shared upstream and the nginx peer)');
  const dir = fs.mkdtempSync(path.join(tmp, 'l7-up-'));
  const port = await freePort();
  fs.writeFileSync(path.join(dir, 'nginx.conf'), nginxConf(dir, `  server { listen 127.0.0.1:${port}; location / { default_type text/plain; return 200 "${'y'.repeat(L7_BODY_BYTES)}"; } }`));
  const proc = startChild('l7-upstream', 'nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', 'stderr']);
  await ready(proc, port, 'upstream nginx');
  return { port, proc, desc: 'nginx (1 worker), 1 KB response' };
}

export async function startHaproxy(tmp, upstreamPort) {
  if (!hasCommand('haproxy')) throw new Error('haproxy is not installed');
  const dir = fs.mkdtempSync(path.join(tmp, 'l7-haproxy-'));
  const port = await freePort();
  const cfg = ['global', '  nbthread 1', '  maxconn 8000', 'defaults', '  mode http', '  timeout connect 5s', '  timeout client 60s', '  timeout server 60s',
    '  option http-keep-alive', `frontend fe`, `  bind 127.0.0.1:${port}`, '  default_backend be', 'backend be', '  http-reuse always', `  server up 127.0.0.1:${upstreamPort}`].join('\n');
  fs.writeFileSync(path.join(dir, 'haproxy.cfg'), `${cfg}\n`);
  const proc = startChild('haproxy-l7', 'haproxy', ['-db', '-f', path.join(dir, 'haproxy.cfg')]);
  await ready(proc, port, 'haproxy');
  return { name: 'haproxy', port, procs: [proc], cpuProcs: [proc] };
}

export async function startNginxProxy(tmp, upstreamPort) {
  const dir = fs.mkdtempSync(path.join(tmp, 'l7-nginx-'));
  const port = await freePort();
  fs.writeFileSync(path.join(dir, 'nginx.conf'), nginxConf(dir, [
    `  upstream up { server 127.0.0.1:${upstreamPort}; keepalive 64; }`,
    `  server { listen 127.0.0.1:${port}; location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; } }`,
  ].join('\n')));
  const proc = startChild('nginx-l7', 'nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', 'stderr']);
  await ready(proc, port, 'nginx proxy');
  return { name: 'nginx', port, procs: [proc], cpuProcs: [proc] };
}

export async function bundleWaypointNode(repoRoot) {
  const { build } = await import('esbuild');
  const outfile = path.join(repoRoot, 'bench', 'dist', 'waypoint-node.mjs');
  await build({
    entryPoints: [path.join(repoRoot, 'bench', 'src', 'waypoint-node.ts')], outfile, bundle: true, platform: 'node',
    target: 'node20', format: 'esm', banner: { js: BANNER }, logLevel: 'error', absWorkingDir: repoRoot,
  });
  return outfile;
}

async function role(bundle, name, opts) {
  const proc = startChild(`wp-${name}`, process.execPath, [bundle], { env: { BENCH_WP: JSON.stringify({ role: name, ...opts }) } });
  await waitFor(() => {
    if (proc.child.exitCode !== null) throw new Error(`${name} exited: ${proc.output.slice(-400)}`);
    return /READY \d+/.test(proc.output);
  }, READY_MS, `waypoint path: ${name}`);
  return { proc, port: Number(/READY (\d+)/.exec(proc.output)[1]) };
}

export async function startWaypointPath(bundle, certs, upstreamPort, { portProtocol = '' } = {}) {
  const base = { caCertFile: certs.ca, caKeyFile: certs.caKey };
  const back = await role(bundle, 'back', { ...base, upstreamPort });
  const wp = await role(bundle, 'waypoint', { ...base, backPort: back.port, portProtocol });
  const front = await role(bundle, 'front', { ...base, waypointPort: wp.port });
  return { name: 'waypoint', port: front.port, procs: [front.proc, wp.proc, back.proc], cpuProcs: [wp.proc], standIns: [front.proc, back.proc] };
}
