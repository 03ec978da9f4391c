// Starts a real Kubernetes API server (v1.20, built by tools/kube/build-apiserver.sh from Debian's source
// package) on top of Debian's etcd, on loopback ports, for tests. No scheduler, controllers or kubelet run:
// what tests create is exactly what exists. See /work/shared/reference/real-kube-apiserver.md.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const DEFAULT_APISERVER_BIN = '/var/cache/mesh-kube/kube-apiserver';
export const ETCD_BIN = '/usr/bin/etcd';
export const STARTUP_TIMEOUT_MS = 60_000;
export const STOP_GRACE_MS = 5_000;
export const ADMIN_TOKEN = 'mesh-test-admin-token';
const SERVICE_CIDR = '10.96.0.0/12';
const ISSUER = 'https://kubernetes.default.svc.cluster.local';
const LOG_TAIL_CHARS = 4_000;

/** Path of the built kube-apiserver (MESH_KUBE_APISERVER overrides), or undefined when it is not built. */
export function apiServerBinary() {
  const bin = process.env.MESH_KUBE_APISERVER || DEFAULT_APISERVER_BIN;
  return existsSync(bin) && existsSync(ETCD_BIN) ? bin : undefined;
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function openssl(cwd, args) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** CA, serving cert for 127.0.0.1/localhost, service-account key pair, static admin token. */
function makePki(dir) {
  mkdirSync(dir, { recursive: true });
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=mesh-test-kube-ca']);
  writeFileSync(join(dir, 'san.cnf'), [
    '[req]', 'distinguished_name=dn', '[dn]', '[ext]',
    'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc',
    'keyUsage=digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth', '',
  ].join('\n'));
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=kube-apiserver', '-config', 'san.cnf']);
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.cnf', '-extensions', 'ext']);
  openssl(dir, ['genrsa', '-out', 'sa.key', '2048']);
  openssl(dir, ['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub']);
  writeFileSync(join(dir, 'tokens.csv'), `${ADMIN_TOKEN},mesh-admin,mesh-admin-uid,system:masters\n`);
}

function spawnLogged(bin, args, logFile) {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = { text: '' };
  const append = (b) => {
    log.text += b.toString();
    if (log.text.length > 4 * LOG_TAIL_CHARS) log.text = log.text.slice(-2 * LOG_TAIL_CHARS);
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  child.on('exit', () => writeFileSync(logFile, log.text));
  return { child, log };
}

async function waitUntil(what, proc, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(`${what} exited (${proc.child.exitCode ?? proc.child.signalCode}) while starting; last output:\n${proc.log.text.slice(-LOG_TAIL_CHARS)}`);
    }
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) {
      throw new Error(`${what} not ready within ${timeoutMs} ms; last output:\n${proc.log.text.slice(-LOG_TAIL_CHARS)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stopProc(proc) {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  const exited = new Promise((r) => proc.child.once('exit', r));
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/** GET over TLS with the test CA and admin token; resolves { status, body }. */
export function kubeGet(url, caPem, token, path) {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(new URL(path, url), { ca: caPem, headers: { authorization: `Bearer ${token}` }, timeout: 5_000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

async function startEtcd(root, timeoutMs) {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const etcdUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const proc = spawnLogged(ETCD_BIN, [
    '--name=mesh-test', `--data-dir=${join(root, 'etcd-data')}`,
    `--listen-client-urls=${etcdUrl}`, `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=${peerUrl}`, `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=mesh-test=${peerUrl}`, '--log-level=warn', '--logger=zap',
  ], join(root, 'etcd.log'));
  await waitUntil('etcd', proc, async () => (await fetch(`${etcdUrl}/health`)).ok, timeoutMs);
  return { proc, etcdUrl };
}

function apiServerArgs(pki, etcdUrl, port, extraArgs) {
  return [
    `--etcd-servers=${etcdUrl}`, `--secure-port=${port}`, '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1',
    '--insecure-port=0', `--cert-dir=${pki}`,
    `--tls-cert-file=${join(pki, 'server.crt')}`, `--tls-private-key-file=${join(pki, 'server.key')}`,
    `--client-ca-file=${join(pki, 'ca.crt')}`,
    '--authorization-mode=RBAC', `--token-auth-file=${join(pki, 'tokens.csv')}`,
    `--service-account-key-file=${join(pki, 'sa.pub')}`, `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
    `--service-account-issuer=${ISSUER}`, `--api-audiences=${ISSUER}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    // No controller-manager or reconciler runs: ServiceAccount admission would reject every pod (no
    // default SA token controller), and the endpoint reconciler would fight over the kubernetes Service.
    '--endpoint-reconciler-type=none', '--disable-admission-plugins=ServiceAccount',
    '--profiling=false', '--v=1',
    ...extraArgs,
  ];
}

/**
 * Starts etcd (unless `etcdUrl`+`pkiDir` of a running cluster are given, to add a second API server on the
 * same storage) and kube-apiserver, and waits for /readyz.
 * Options: { dir?, etcdUrl?, pkiDir?, extraArgs?: string[], startupTimeoutMs? }.
 */
export async function startApiServer(options = {}) {
  const bin = apiServerBinary();
  if (!bin) throw new Error(`kube-apiserver not built (${DEFAULT_APISERVER_BIN}) or etcd missing; run tools/kube/build-apiserver.sh`);
  const timeoutMs = options.startupTimeoutMs ?? STARTUP_TIMEOUT_MS;
  const root = mkdtempSync(join(options.dir ?? tmpdir(), 'mesh-kube-'));
  const pki = options.pkiDir ?? join(root, 'pki');
  let etcd;
  let api;
  try {
    if (!options.pkiDir) makePki(pki);
    etcd = options.etcdUrl ? undefined : await startEtcd(root, timeoutMs);
    const etcdUrl = options.etcdUrl ?? etcd.etcdUrl;
    const caPem = readFileSync(join(pki, 'ca.crt'), 'utf8');
    const port = options.port ?? (await freePort());
    const url = `https://127.0.0.1:${port}`;
    const args = apiServerArgs(pki, etcdUrl, port, options.extraArgs ?? []);
    const readyz = async () => (await kubeGet(url, caPem, ADMIN_TOKEN, '/readyz')).status === 200;
    const launch = async () => {
      api = spawnLogged(bin, args, join(root, 'kube-apiserver.log'));
      await waitUntil('kube-apiserver', api, readyz, timeoutMs);
    };
    await launch();
    const kubeconfigPath = join(root, 'kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfig(url, caPem));
    return {
      url, token: ADMIN_TOKEN, kubeconfigPath, caPem, etcdUrl, pkiDir: pki, port,
      /** Stops only the API server (etcd keeps the data); `resumeApiServer` starts it again on the same port. */
      pauseApiServer: () => stopProc(api),
      resumeApiServer: launch,
      logs: () => api?.log.text ?? '',
      stop: async () => {
        await stopProc(api);
        await stopProc(etcd?.proc);
        rmSync(root, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await stopProc(api);
    await stopProc(etcd?.proc);
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
}

function kubeconfig(url, caPem) {
  const ca = Buffer.from(caPem).toString('base64');
  return [
    'apiVersion: v1', 'kind: Config', 'current-context: mesh-test',
    'clusters:', '- name: mesh-test', '  cluster:', `    server: ${url}`, `    certificate-authority-data: ${ca}`,
    'users:', '- name: mesh-admin', '  user:', `    token: ${ADMIN_TOKEN}`,
    'contexts:', '- name: mesh-test', '  context: {cluster: mesh-test, user: mesh-admin}', '',
  ].join('\n');
}

/** Compacts etcd's history up to its current revision (what makes watches from older versions get 410 Gone). */
export async function compactEtcd(etcdUrl) {
  const range = await fetch(`${etcdUrl}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from('/').toString('base64') }) });
  const revision = (await range.json()).header.revision;
  const res = await fetch(`${etcdUrl}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision, physical: true }) });
  if (!res.ok) throw new Error(`etcd compaction to ${revision} failed: ${res.status} ${await res.text()}`);
  return Number(revision);
}
