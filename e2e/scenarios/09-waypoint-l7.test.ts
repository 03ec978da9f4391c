import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PodInfo } from '../drivers/types';
import { nsName, suite, twoNodes } from '../lib/context';
import { ECHO_HTTP_PORT, clientPod, echoPod, namespace, serviceAccount, service, type K8sObject } from '../lib/manifests';
import { PROPAGATION_TIMEOUT_MS, deploy, waitHttpOk } from '../lib/scenario';
import { waitFor } from '../lib/wait';

const s = suite();

/** One request as curl's write-out reports it (the echo app names its version in `x-echo-version`). */
interface Hit {
  status: number;
  version: string;
  seconds: number;
  body: string;
}

const CURL_TIMEOUT_S = 5;
const BODY_MARK = '\n@@hit ';
const CANARY_REQUESTS = 400;
/** 90/10 over 400 requests: mean 40, sd 6; the bounds are ~4.5 sd so a correct split fails ~1 in 10^5 runs. */
const CANARY_V2_MIN = 13;
const CANARY_V2_MAX = 67;
const FAULT_DELAY_S = 1;
const ROUTE_TIMEOUT_S = 0.5;
/** Parallel requests against a pool of 1 connection + 1 pending, each holding the upstream this long. */
const CB_BURST = 6;
const CB_HOLD_MS = 1500;
/** Istio's waypoint pod: merged Prometheus metrics on :15020. */
const WAYPOINT_STATS_PORT = 15020;

function meta(ns: string, name: string) {
  return { name, namespace: ns };
}

/** Policies attached to the waypoint (Istio: targetRefs to the Gateway, enforced by the waypoint at L7). */
const gatewayRef = [{ kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'waypoint' }];

function echoVersion(ns: string, name: string, node: string, version: string, extraArgs: string[] = []): K8sObject {
  const pod = echoPod({ ns, name, node, labels: { app: name.startsWith('flaky') ? 'flaky' : 'echo', version } }) as {
    spec: { containers: Array<{ args: string[] }> };
  };
  pod.spec.containers[0]!.args.push('--version', version, ...extraArgs);
  return pod as unknown as K8sObject;
}

/**
 * L7 through a namespace waypoint (istioctl waypoint apply --enroll-namespace): the client calls the Service
 * name, ztunnel sends the connection to the waypoint, which routes (VirtualService/DestinationRule),
 * injects faults, enforces L7 AuthorizationPolicy/RequestAuthentication and reports istio_requests_total.
 */
describe.skipIf(s.skipReason)('9. waypoint L7', () => {
  const d = s.driver;
  const ns = nsName('e2e-wp');
  const host = `echo.${ns}.svc.cluster.local`;
  const url = (p = '/') => `http://${host}:${ECHO_HTTP_PORT}${p}`;
  let cleanup = async () => undefined as void;
  let waypoint: PodInfo;
  const applied: K8sObject[] = [];

  /** `count` sequential requests in one exec (one process per request: a new connection each). */
  const hits = async (target: string, count: number, headers: Record<string, string> = {}): Promise<Hit[]> => {
    const h = Object.entries(headers).map(([k, v]) => `-H '${k}: ${v}'`).join(' ');
    const wo = `${BODY_MARK}%{http_code} %header{x-echo-version} %{time_total}\\n`;
    const script = `for i in $(seq ${count}); do curl -s -m ${CURL_TIMEOUT_S} ${h} -w '${wo}' '${target}'; done`;
    const r = await d.exec(ns, 'client', ['sh', '-c', script], { timeoutMs: count * (CURL_TIMEOUT_S + 1) * 1000 + 10_000 });
    const out: Hit[] = [];
    let rest = r.stdout;
    for (let at = rest.indexOf(BODY_MARK); at >= 0; at = rest.indexOf(BODY_MARK)) {
      const body = rest.slice(0, at);
      const end = rest.indexOf('\n', at + BODY_MARK.length);
      const [status = '0', version = '', secs = '0'] = rest.slice(at + BODY_MARK.length, end).split(' ');
      out.push({ status: Number(status), version, seconds: Number(secs), body });
      rest = rest.slice(end + 1);
    }
    return out;
  };
  const one = async (target: string, headers: Record<string, string> = {}): Promise<Hit> => (await hits(target, 1, headers))[0] ?? { status: 0, version: '', seconds: 0, body: '' };

  /** Polls (bounded) until a request answers as `ok` says: config reached the waypoint. */
  const until = async (what: string, target: string, ok: (h: Hit) => boolean, headers: Record<string, string> = {}): Promise<Hit> => {
    let last: Hit | undefined;
    try {
      return await waitFor(async () => {
        last = await one(target, headers);
        return ok(last) ? last : undefined;
      }, { timeoutMs: PROPAGATION_TIMEOUT_MS, what });
    } catch (e) {
      throw new Error(`${(e as Error).message}; last: ${JSON.stringify(last)}`);
    }
  };

  const config = async (...objs: K8sObject[]) => {
    await d.apply(objs);
    applied.push(...objs);
  };

  beforeAll(async () => {
    const [a, b] = await twoNodes(d);
    cleanup = await deploy(d, [
      namespace(ns, true),
      ...['client', 'echo-v1', 'echo-v2', 'flaky'].map((sa) => serviceAccount(ns, sa)),
      echoVersion(ns, 'echo-v1', b.name, 'v1'),
      echoVersion(ns, 'echo-v2', b.name, 'v2'),
      echoVersion(ns, 'flaky', b.name, 'v1', ['--fail-ratio', '0.5']),
      service(ns, 'echo', { app: 'echo' }),
      service(ns, 'flaky', { app: 'flaky' }),
      clientPod({ ns, name: 'client', node: a.name }),
    ]);
    waypoint = await d.waypointApply(ns);
    await waitHttpOk(d, ns, 'client', url());
  });
  afterEach(async () => {
    if (applied.length) await d.delete(applied.splice(0).reverse());
  });
  afterAll(async () => {
    if (applied.length) await d.delete(applied).catch(() => undefined);
    await cleanup();
  });

  it('L7 DENY on a path (AuthorizationPolicy targetRefs the waypoint): 403 RBAC for it, 200 elsewhere', async () => {
    await config({
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: meta(ns, 'deny-admin'),
      spec: { targetRefs: gatewayRef, action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin/*'] } }] }] },
    });
    const denied = await until('/admin/x to be denied', url('/admin/x'), (h) => h.status === 403);
    expect(denied.body).toContain('RBAC: access denied');
    expect((await one(url('/public'))).status).toBe(200);
  });

  it('istio_requests_total on the waypoint :15020 with reporter="waypoint"', async () => {
    const hs = await hits(url('/metrics-probe'), 5);
    expect(hs.map((h) => h.status)).toEqual([200, 200, 200, 200, 200]);
    const want = ['reporter="waypoint"', 'response_code="200"', 'source_workload="client"', `destination_service="${host}"`];
    const matching = (t: string) => t.split('\n').filter((l) => l.startsWith('istio_requests_total{') && want.every((w) => l.includes(w)));
    const total = (t: string) => matching(t).reduce((a, l) => a + Number(l.slice(l.lastIndexOf('}') + 1)), 0);
    let text = '';
    // The record is written when the exchange ends, which may be just after curl has its response: poll.
    await waitFor(async () => {
      // Scraped inside the waypoint pod, as Prometheus' pod scrape sees it: from an enrolled client the waypoint's
      // pod IP is a mesh workload and ztunnel would tunnel the scrape over HBONE instead.
      const r = await d.exec(ns, waypoint.name, ['curl', '-sS', '-m', '5', `http://127.0.0.1:${WAYPOINT_STATS_PORT}/metrics`], { timeoutMs: 15_000 });
      text = r.stdout || r.stderr;
      return total(text) >= hs.length;
    }, { timeoutMs: PROPAGATION_TIMEOUT_MS, what: `istio_requests_total{${want.join(',')}} on waypoint ${waypoint.name}:${WAYPOINT_STATS_PORT}` }).catch(() => undefined);
    expect(matching(text).length, `istio_requests_total with ${want.join(',')} in:\n${text.slice(0, 3000)}`).toBeGreaterThan(0);
    expect(total(text)).toBeGreaterThanOrEqual(hs.length);
  });

  it('90/10 canary by DestinationRule subsets, and x-canary: true routes 100% to v2', async () => {
    await config(
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: meta(ns, 'echo'),
        spec: { host, subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] },
      },
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: meta(ns, 'echo'),
        spec: {
          hosts: [host],
          http: [
            { match: [{ headers: { 'x-canary': { exact: 'true' } } }], route: [{ destination: { host, subset: 'v2' } }] },
            { route: [{ destination: { host, subset: 'v1' }, weight: 90 }, { destination: { host, subset: 'v2' }, weight: 10 }] },
          ],
        },
      },
    );
    await until('x-canary: true to reach v2', url(), (h) => h.status === 200 && h.version === 'v2', { 'x-canary': 'true' });
    const pinned = await hits(url(), 20, { 'x-canary': 'true' });
    expect(pinned.filter((h) => h.status === 200 && h.version === 'v2').length).toBe(20);
    const split = await hits(url(), CANARY_REQUESTS);
    const v1 = split.filter((h) => h.status === 200 && h.version === 'v1').length;
    const v2 = split.filter((h) => h.status === 200 && h.version === 'v2').length;
    expect(v1 + v2, 'every request answered 200 by v1 or v2').toBe(CANARY_REQUESTS);
    expect(v2).toBeGreaterThanOrEqual(CANARY_V2_MIN);
    expect(v2).toBeLessThanOrEqual(CANARY_V2_MAX);
  });

  const vs = (name: string, route: Record<string, unknown>, h = host): K8sObject => ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: meta(ns, name),
    spec: { hosts: [h], http: [{ ...route, route: [{ destination: { host: h } }] }] },
  });

  it('injected abort (503, 100%) and injected delay', async () => {
    await config(vs('echo', { fault: { abort: { httpStatus: 503, percentage: { value: 100 } } } }));
    const aborted = await until('injected 503', url(), (h) => h.status === 503);
    expect(aborted.body).toContain('fault filter abort');
    await d.delete(applied.splice(0));
    await config(vs('echo', { fault: { delay: { fixedDelay: `${FAULT_DELAY_S}s`, percentage: { value: 100 } } } }));
    const delayed = await until('injected delay', url(), (h) => h.status === 200 && h.seconds >= FAULT_DELAY_S);
    expect(delayed.seconds).toBeLessThan(FAULT_DELAY_S + 2);
  });

  it('route timeout: a slower backend answers 504', async () => {
    await config(vs('echo', { timeout: `${ROUTE_TIMEOUT_S}s` }));
    const slow = await until('504 after the route timeout', url('/delay/2000'), (h) => h.status === 504);
    expect(slow.seconds).toBeLessThan(1.5);
    expect((await one(url('/delay/50'))).status).toBe(200);
  });

  it('retries hide a backend that fails half of its requests', async () => {
    const flakyHost = `flaky.${ns}.svc.cluster.local`;
    const flakyUrl = `http://${flakyHost}:${ECHO_HTTP_PORT}/`;
    const before = await hits(flakyUrl, 40);
    expect(before.filter((h) => h.status === 503).length, 'the backend is flaky without retries').toBeGreaterThan(0);
    await config(vs('flaky', { retries: { attempts: 10, perTryTimeout: '2s', retryOn: '5xx' } }, flakyHost));
    // Propagation: wait for a run of successes long enough that chance alone (0.5^12) cannot explain it.
    await waitFor(async () => (await hits(flakyUrl, 12)).every((h) => h.status === 200), { timeoutMs: PROPAGATION_TIMEOUT_MS, what: 'retries to hide flaky 503s' });
    const after = await hits(flakyUrl, 40);
    expect(after.filter((h) => h.status !== 200)).toEqual([]);
  });

  it('circuit breaker: requests over maxConnections + http1MaxPendingRequests get 503 x-envoy-overloaded', async () => {
    await config({
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: meta(ns, 'echo-cb'),
      spec: { host, trafficPolicy: { connectionPool: { tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1 } } } },
    });
    // One slow request holds the only connection, one waits as pending, the rest overflow at once.
    const burst = async (): Promise<Array<{ status: number; overloaded: boolean }>> => {
      // -o applies to one URL each: every transfer gets its own, so no body reaches stdout.
      const urls = Array.from({ length: CB_BURST }, () => `-o /dev/null '${url(`/delay/${CB_HOLD_MS}`)}'`).join(' ');
      const r = await d.exec(ns, 'client', ['sh', '-c', `curl -s -Z --parallel-immediate --parallel-max ${CB_BURST} -m ${CURL_TIMEOUT_S} -w '%{http_code} %header{x-envoy-overloaded}\\n' ${urls}`], { timeoutMs: 30_000 });
      return r.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => ({ status: Number(l.split(' ')[0]), overloaded: l.includes('true') }));
    };
    let got: Array<{ status: number; overloaded: boolean }> = [];
    await waitFor(async () => {
      got = await burst();
      return got.some((g) => g.status === 503);
    }, { timeoutMs: PROPAGATION_TIMEOUT_MS, what: 'the connection-pool circuit breaker to trip' }).catch(() => undefined);
    expect(got.length).toBe(CB_BURST);
    const shed = got.filter((g) => g.status === 503);
    expect(shed.length, JSON.stringify(got)).toBeGreaterThan(0);
    expect(shed.every((g) => g.overloaded), JSON.stringify(got)).toBe(true);
    expect(got.filter((g) => g.status === 200).length, JSON.stringify(got)).toBeGreaterThanOrEqual(1);
  });

  it('JWT: valid token 200, invalid 401, missing 403 (ALLOW requestPrincipals)', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'e2e', alg: 'RS256', use: 'sig' };
    const issuer = 'https://e2e.mesh.test';
    const sign = (iss: string) => new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'e2e' }).setIssuer(iss).setSubject('alice').setIssuedAt().setExpirationTime('10m').sign(privateKey);
    const valid = await sign(issuer);
    const other = await generateKeyPair('RS256');
    const forged = await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'e2e' }).setIssuer(issuer).setSubject('alice').setExpirationTime('10m').sign(other.privateKey);
    await config(
      {
        apiVersion: 'security.istio.io/v1',
        kind: 'RequestAuthentication',
        metadata: meta(ns, 'jwt'),
        spec: { targetRefs: gatewayRef, jwtRules: [{ issuer, jwks: JSON.stringify({ keys: [jwk] }) }] },
      },
      {
        apiVersion: 'security.istio.io/v1',
        kind: 'AuthorizationPolicy',
        metadata: meta(ns, 'require-jwt'),
        spec: { targetRefs: gatewayRef, action: 'ALLOW', rules: [{ from: [{ source: { requestPrincipals: [`${issuer}/alice`] } }] }] },
      },
    );
    await until('a request without a token to be denied', url(), (h) => h.status === 403);
    expect((await one(url(), { authorization: `Bearer ${valid}` })).status).toBe(200);
    const bad = await one(url(), { authorization: `Bearer ${forged}` });
    expect(bad.status).toBe(401);
    expect((await one(url())).status).toBe(403);
  });
});
