import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PodInfo } from '../drivers/types';
import { nsName, suite, twoNodes } from '../lib/context';
import { clientPod, namespace, serviceAccount, type K8sObject } from '../lib/manifests';
import { runOk } from '../lib/proc';
import { PROPAGATION_TIMEOUT_MS, deploy } from '../lib/scenario';
import { waitFor } from '../lib/wait';

const s = suite();

/** The made-up external host: no DNS anywhere, the client pins it to the ServiceEntry address (curl --resolve). */
const EXT_HOST = 'api.external.test';
/** The ServiceEntry's address, from Istio's auto-allocation range (240.240.0.0/16): no route leaves the pod for it, ztunnel captures it. */
const EXT_VIP = '240.240.10.20';
const EXT_PORT = 80;
const EXT_TLS_PORT = 8443;
const CURL_TIMEOUT_S = 5;
const BODY_MARK = '\n@@status=';
const WAYPOINT_STATS_PORT = 15020;
/** Image of the external server on kind (it runs `node -e`); on the local cluster the host's node runs it. */
const NODE_IMAGE = process.env['E2E_NODE_IMAGE'] ?? 'node:20-bookworm-slim';

/**
 * The external HTTPS server (not in the mesh): answers every request with what its TLS socket saw, so the test
 * can tell the waypoint originated TLS with the right SNI. Key and certificate arrive in the environment.
 */
const SERVER_JS = `
const https = require('node:https');
https.createServer({ key: process.env.TLS_KEY, cert: process.env.TLS_CERT, ALPNProtocols: ['http/1.1'] }, (req, res) => {
  const t = req.socket;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ tls: t.encrypted === true, sni: t.servername || '', protocol: t.getProtocol(), alpn: t.alpnProtocol || '', host: req.headers.host || '', path: req.url }));
}).listen(${EXT_TLS_PORT}, '0.0.0.0');
`;

interface Pki {
  dir: string;
  /** The CA that signed the server certificate, and one that did not. */
  caPath: string;
  wrongCaPath: string;
  key: string;
  cert: string;
}

/** A throwaway CA, a server certificate for EXT_HOST signed by it, and an unrelated CA (openssl on the test host). */
async function makePki(): Promise<Pki> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-e2e-egress-'));
  fs.chmodSync(dir, 0o755);
  const f = (n: string) => path.join(dir, n);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const o = { timeoutMs: 15_000 };
  await runOk(['openssl', 'req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '1', '-subj', '/CN=e2e egress CA'], o);
  await runOk(['openssl', 'req', '-x509', ...ec, '-keyout', f('wrong-ca.key'), '-out', f('wrong-ca.crt'), '-days', '1', '-subj', '/CN=e2e wrong CA'], o);
  await runOk(['openssl', 'req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', `/CN=${EXT_HOST}`], o);
  fs.writeFileSync(f('server.ext'), `subjectAltName=DNS:${EXT_HOST}\nextendedKeyUsage=serverAuth\n`);
  await runOk(['openssl', 'x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.crt'), '-days', '1', '-extfile', f('server.ext')], o);
  for (const n of ['ca.crt', 'wrong-ca.crt']) fs.chmodSync(f(n), 0o644);
  return { dir, caPath: f('ca.crt'), wrongCaPath: f('wrong-ca.crt'), key: fs.readFileSync(f('server.key'), 'utf8'), cert: fs.readFileSync(f('server.crt'), 'utf8') };
}

interface Reply {
  status: number;
  body: string;
  curlCode: number;
  stderr: string;
}

/**
 * Ambient egress through a waypoint: a ServiceEntry for a host outside the cluster with an inline endpoint
 * (an HTTPS server in a namespace outside the mesh), bound to the namespace waypoint with istio.io/use-waypoint;
 * the app sends plain HTTP to the ServiceEntry address, ztunnel hands it to the waypoint, which originates TLS
 * as the DestinationRule's `tls: SIMPLE` says (SNI, CA) and reports the request as reporter=waypoint.
 */
describe.skipIf(s.skipReason)('10. egress through a waypoint (ServiceEntry + DestinationRule TLS origination)', () => {
  const d = s.driver;
  const ns = nsName('e2e-egr');
  const extNs = nsName('e2e-ext');
  let cleanup = async () => undefined as void;
  let pki: Pki | undefined;
  let waypoint: PodInfo;
  let external: PodInfo;
  const applied: K8sObject[] = [];

  const serviceEntry = (endpoint: string): K8sObject => ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: { name: 'external-api', namespace: ns, labels: { 'istio.io/use-waypoint': 'waypoint' } },
    spec: {
      hosts: [EXT_HOST],
      addresses: [EXT_VIP],
      location: 'MESH_EXTERNAL',
      resolution: 'STATIC',
      ports: [{ number: EXT_PORT, name: 'http', protocol: 'HTTP', targetPort: EXT_TLS_PORT }],
      endpoints: [{ address: endpoint }],
    },
  });
  /**
   * The local cluster's waypoint is a process on this host and reads the scenario's CA files directly; a kind
   * waypoint pod cannot see them (no Secret/ConfigMap mounts into it), so there the good case skips verification
   * and the bad case leaves the CA to the default roots, which do not know the scenario's CA either.
   */
  const destinationRule = (ca: 'right' | 'wrong'): K8sObject => {
    const local = d.kind === 'local';
    const tls: Record<string, unknown> = { mode: 'SIMPLE', sni: EXT_HOST };
    if (ca === 'right') Object.assign(tls, local ? { caCertificates: pki!.caPath } : { insecureSkipVerify: true });
    else if (local) tls['caCertificates'] = pki!.wrongCaPath;
    return {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'external-api', namespace: ns },
      spec: { host: EXT_HOST, trafficPolicy: { tls } },
    };
  };

  /** Plain HTTP from the app: the name is pinned to the ServiceEntry address, as a DNS proxy would answer it. */
  const get = async (p = '/'): Promise<Reply> => {
    const argv = ['curl', '-sS', '-m', String(CURL_TIMEOUT_S), '--resolve', `${EXT_HOST}:${EXT_PORT}:${EXT_VIP}`, '-w', `${BODY_MARK}%{http_code}`, `http://${EXT_HOST}${p}`];
    const r = await d.exec(ns, 'client', argv, { timeoutMs: (CURL_TIMEOUT_S + 10) * 1000 });
    const at = r.stdout.lastIndexOf(BODY_MARK);
    return { status: at >= 0 ? Number(r.stdout.slice(at + BODY_MARK.length).trim()) : 0, body: at >= 0 ? r.stdout.slice(0, at) : r.stdout, curlCode: r.code, stderr: r.stderr.trim() };
  };
  /** Polls (bounded) until a request answers as `ok` says; a timeout names the last reply. */
  const until = (what: string, p: string, ok: (r: Reply) => boolean): Promise<Reply> =>
    waitFor(async () => {
      const r = await get(p);
      if (!ok(r)) throw new Error(JSON.stringify(r));
      return r;
    }, { timeoutMs: PROPAGATION_TIMEOUT_MS, what });
  const config = async (...objs: K8sObject[]) => {
    await d.apply(objs);
    for (const o of objs) if (!applied.includes(o)) applied.push(o);
  };

  beforeAll(async () => {
    const [a, b] = await twoNodes(d);
    pki = await makePki();
    cleanup = await deploy(d, [
      namespace(ns, true),
      namespace(extNs, false),
      serviceAccount(ns, 'client'),
      serviceAccount(extNs, 'external'),
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'external', namespace: extNs, labels: { app: 'external' } },
        spec: {
          nodeName: b.name,
          serviceAccountName: 'external',
          terminationGracePeriodSeconds: 0,
          containers: [
            {
              name: 'server',
              image: NODE_IMAGE,
              command: [d.kind === 'local' ? process.execPath : 'node', '-e', SERVER_JS],
              env: [
                { name: 'TLS_KEY', value: pki.key },
                { name: 'TLS_CERT', value: pki.cert },
              ],
              ports: [{ name: 'https', containerPort: EXT_TLS_PORT }],
            },
          ],
        },
      },
      clientPod({ ns, name: 'client', node: a.name }),
    ]);
    external = await d.pod(extNs, 'external');
    waypoint = await d.waypointApply(ns);
  });
  afterEach(async () => {
    if (applied.length) await d.delete(applied.splice(0).reverse());
  });
  afterAll(async () => {
    if (applied.length) await d.delete(applied).catch(() => undefined);
    await cleanup();
    if (pki) fs.rmSync(pki.dir, { recursive: true, force: true });
  });

  it('plain HTTP from the app reaches the external HTTPS server with TLS and SNI originated by the waypoint; istio_requests_total has it', async () => {
    await config(serviceEntry(external.ip), destinationRule('right'));
    const r = await until(`http://${EXT_HOST}/ (SE ${EXT_VIP} -> ${external.ip}:${EXT_TLS_PORT}) to answer 200`, '/egress-probe', (x) => x.status === 200);
    const seen = JSON.parse(r.body) as { tls: boolean; sni: string; protocol: string; alpn: string; host: string; path: string };
    expect(seen.tls).toBe(true);
    expect(seen.sni).toBe(EXT_HOST);
    expect(seen.protocol).toMatch(/^TLSv1\.[23]$/);
    expect(seen.alpn).toBe('http/1.1');
    expect(seen.host).toBe(EXT_HOST);
    expect(seen.path).toBe('/egress-probe');

    const want = ['reporter="waypoint"', 'response_code="200"', 'source_workload="client"', `destination_service="${EXT_HOST}"`];
    const matching = (t: string) => t.split('\n').filter((l) => l.startsWith('istio_requests_total{') && want.every((w) => l.includes(w)));
    let text = '';
    // The record is written when the exchange ends, which may be just after curl has its response: poll.
    await waitFor(async () => {
      // Inside the waypoint pod, as in scenario 9 (from an enrolled pod ztunnel would tunnel the scrape).
      const m = await d.exec(ns, waypoint.name, ['curl', '-sS', '-m', '5', `http://127.0.0.1:${WAYPOINT_STATS_PORT}/metrics`], { timeoutMs: 15_000 });
      text = m.stdout || m.stderr;
      return matching(text).length > 0;
    }, { timeoutMs: PROPAGATION_TIMEOUT_MS, what: `istio_requests_total{${want.join(',')}} on waypoint ${waypoint.name}` }).catch(() => undefined);
    const lines = matching(text);
    expect(lines.length, `istio_requests_total with ${want.join(',')} in:\n${text.split('\n').filter((l) => l.startsWith('istio_requests_total{')).join('\n').slice(0, 3000)}`).toBeGreaterThan(0);
    expect(lines.reduce((n, l) => n + Number(l.slice(l.lastIndexOf('}') + 1)), 0)).toBeGreaterThanOrEqual(1);
  });

  it('a CA that did not sign the server certificate: 503 with the TLS failure as the transport failure reason', async () => {
    await config(serviceEntry(external.ip), destinationRule('wrong'));
    const r = await until('the waypoint to refuse the unverified server with 503', '/', (x) => x.status === 503);
    expect(r.body).toContain('upstream connect error');
    expect(r.body).toMatch(/TLS_error/);
  });
});
