// Test-only: spawn the bundled istiod / ztunnel processes and wait for them. Spawning a bundle is not an
// import, so the app boundary (apps never import each other) holds.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const REPO = path.resolve(__dirname, '../../..');
export const ISTIOD_BUNDLE = path.join(REPO, 'packages/istiod/dist/istiod.mjs');
export const ZTUNNEL_BUNDLE = path.join(REPO, 'packages/ztunnel/dist/ztunnel.mjs');

export function bundle(app: 'istiod' | 'ztunnel'): void {
  execFileSync(process.execPath, [path.join(REPO, 'tools/bundle.mjs'), app], { cwd: REPO, stdio: 'pipe' });
}

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function tcpAccepting(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(undefined));
  });
}

/** A directory-mode istiod with manifests in `<dir>/config`, tokens in `<dir>/tokens.yaml`, root out to `<dir>/root-cert.pem`. */
export class IstiodProcess {
  child: ChildProcess | undefined;
  stderr = '';

  constructor(readonly dir: string, readonly grpcPort: number) {}

  get rootCertPath(): string {
    return path.join(this.dir, 'root-cert.pem');
  }

  static prepare(dir: string, manifests: string, tokens: { token: string; nodeName: string }[]): void {
    fs.mkdirSync(path.join(dir, 'config'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'config', 'mesh.yaml'), manifests);
    fs.writeFileSync(path.join(dir, 'tokens.yaml'), `tokens:\n${tokens.map((t) =>
      `- {token: ${t.token}, namespace: istio-system, serviceAccount: ztunnel, podName: ztunnel-${t.nodeName}, nodeName: ${t.nodeName}}\n`).join('')}`);
  }

  async start(): Promise<void> {
    this.child = spawn(process.execPath, [ISTIOD_BUNDLE], {
      env: {
        PATH: process.env.PATH ?? '',
        CONFIG_SOURCE: `dir:${path.join(this.dir, 'config')}`,
        AUTH_TOKENS_FILE: path.join(this.dir, 'tokens.yaml'),
        CA_STATE_DIR: path.join(this.dir, 'ca'),
        ROOT_CERT_OUTPUT: this.rootCertPath,
        BIND_ADDRESS: '127.0.0.1',
        GRPC_PORT: String(this.grpcPort),
        MONITORING_PORT: '0',
        READINESS_PORT: '0',
        PILOT_DEBOUNCE_AFTER: '10ms',
        PROCESS_METRICS: 'false',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    await until(`istiod root cert (stderr: ${this.stderr})`, () => (fs.existsSync(this.rootCertPath) ? true : undefined));
    await until('istiod gRPC port', () => tcpAccepting(this.grpcPort));
  }

  async kill(): Promise<void> {
    const c = this.child;
    if (c === undefined || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  }
}

/** The env of a bundled ztunnel fed by `istiod` (xDS + CA), ZDS from `zdsPath`, ops endpoints on loopback. */
export function ztunnelEnv(istiod: IstiodProcess, o: {
  tokenFile: string; node: string; zdsPath: string; workers: number; ports: { admin: number; stats: number; readiness: number };
}): NodeJS.ProcessEnv {
  const addr = `127.0.0.1:${istiod.grpcPort}`;
  return {
    PATH: process.env.PATH ?? '',
    XDS_ADDRESS: addr, CA_ADDRESS: addr, ROOT_CERT: istiod.rootCertPath, TOKEN_FILE: o.tokenFile,
    NODE_NAME: o.node, POD_NAME: `ztunnel-${o.node}`, INPOD_UDS: o.zdsPath, IPV6_ENABLED: 'false',
    ADMIN_ADDR: '127.0.0.1', ADMIN_PORT: String(o.ports.admin), STATS_ADDR: '127.0.0.1', STATS_PORT: String(o.ports.stats),
    READINESS_ADDR: '127.0.0.1', READINESS_PORT: String(o.ports.readiness), LOG_LEVEL: 'warn',
    ZTUNNEL_WORKER_THREADS: String(o.workers),
  };
}

export function podManifest(p: { name: string; namespace: string; sa: string; ip: string; node: string; app: string }): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${p.name}, namespace: ${p.namespace}, labels: {app: ${p.app}}, annotations: {ambient.istio.io/redirection: enabled}}
spec: {nodeName: ${p.node}, serviceAccountName: ${p.sa}, containers: [{name: app, image: x}]}
status: {phase: Running, podIP: ${p.ip}, conditions: [{type: Ready, status: "True"}]}`;
}
