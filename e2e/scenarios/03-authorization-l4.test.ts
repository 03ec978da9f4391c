import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nsName, suite, twoNodes } from '../lib/context';
import { ECHO_HTTP_PORT, ECHO_TCP_PORT, authorizationPolicy, clientPod, echoPod, namespace, principal, serviceAccount, type K8sObject } from '../lib/manifests';
import { PROPAGATION_TIMEOUT_MS, deploy, waitHttpOk } from '../lib/scenario';
import { httpGet, httpOk, tcpEcho } from '../lib/traffic';
import { waitFor } from '../lib/wait';

const s = suite();

type Caller = 'a' | 'b' | 'other';
type Expect = Partial<Record<Caller, boolean>>;

/**
 * ztunnel's L4 RBAC (Istio rbac.rs): DENY policies first, then if any ALLOW selects the workload the
 * connection must match one, else it is allowed. Callers: a and b (two service accounts in the server's
 * namespace) and `other` (another namespace); all enrolled, on the other node from the server.
 */
describe.skipIf(s.skipReason)('3. L4 AuthorizationPolicy', () => {
  const d = s.driver;
  const ns = nsName('e2e-authz');
  const otherNs = nsName('e2e-authz-o');
  let cleanup = async () => undefined as void;
  let serverIp = '';
  let aIp = '';
  const applied: K8sObject[] = [];
  const callers: Array<[Caller, string, string]> = [];

  const reach = async (c: Caller): Promise<boolean> => {
    const [, cns, pod] = callers.find((x) => x[0] === c)!;
    return httpOk(await httpGet(d, cns, pod, `http://${serverIp}:${ECHO_HTTP_PORT}/`));
  };

  /** Polls until every caller's outcome matches (policy propagation), then the outcomes are asserted. */
  const expectReach = async (want: Expect): Promise<void> => {
    let seen: Expect = {};
    await waitFor(async () => {
      seen = {};
      for (const c of Object.keys(want) as Caller[]) seen[c] = await reach(c);
      return Object.entries(want).every(([c, v]) => seen[c as Caller] === v);
    }, { timeoutMs: PROPAGATION_TIMEOUT_MS, what: `reachability ${JSON.stringify(want)}` }).catch(() => undefined);
    expect(seen).toEqual(want);
  };

  const policy = async (...objs: K8sObject[]) => {
    if (applied.length) await d.delete(applied.splice(0));
    await d.apply(objs);
    applied.push(...objs);
  };

  beforeAll(async () => {
    const [a, b] = await twoNodes(d);
    cleanup = await deploy(d, [
      namespace(ns, true),
      namespace(otherNs, true),
      ...['server', 'a', 'b'].map((sa) => serviceAccount(ns, sa)),
      serviceAccount(otherNs, 'other'),
      echoPod({ ns, name: 'server', node: b.name }),
      clientPod({ ns, name: 'a', node: a.name }),
      clientPod({ ns, name: 'b', node: a.name }),
      clientPod({ ns: otherNs, name: 'other', node: a.name }),
    ]);
    callers.push(['a', ns, 'a'], ['b', ns, 'b'], ['other', otherNs, 'other']);
    serverIp = (await d.pod(ns, 'server')).ip;
    aIp = (await d.pod(ns, 'a')).ip;
    for (const [, cns, pod] of callers) await waitHttpOk(d, cns, pod, `http://${serverIp}:${ECHO_HTTP_PORT}/`);
  });
  afterAll(async () => {
    if (applied.length) await d.delete(applied).catch(() => undefined);
    await cleanup();
  });

  const sel = { app: 'server' };

  it('ALLOW by principal: only that identity gets in (default-deny for the rest)', async () => {
    await policy(authorizationPolicy(ns, 'allow-a', 'ALLOW', sel, [{ from: [{ source: { principals: [principal(ns, 'a')] } }] }]));
    await expectReach({ a: true, b: false, other: false });
  });

  it('ALLOW by namespace', async () => {
    await policy(authorizationPolicy(ns, 'allow-other-ns', 'ALLOW', sel, [{ from: [{ source: { namespaces: [otherNs] } }] }]));
    await expectReach({ a: false, b: false, other: true });
  });

  it('ALLOW by source IP (ipBlocks)', async () => {
    await policy(authorizationPolicy(ns, 'allow-ip', 'ALLOW', sel, [{ from: [{ source: { ipBlocks: [`${aIp}/32`] } }] }]));
    await expectReach({ a: true, b: false, other: false });
  });

  it('ALLOW by port: the TCP port is open to everyone, the HTTP port is closed', async () => {
    await policy(authorizationPolicy(ns, 'allow-tcp-port', 'ALLOW', sel, [{ to: [{ operation: { ports: [String(ECHO_TCP_PORT)] } }] }]));
    await expectReach({ a: false, b: false });
    const line = `authz-port-${Date.now()}`;
    expect(await tcpEcho(d, ns, 'b', serverIp, ECHO_TCP_PORT, line)).toContain(line);
  });

  it('DENY wins over a matching ALLOW', async () => {
    await policy(
      authorizationPolicy(ns, 'allow-ns', 'ALLOW', sel, [{ from: [{ source: { namespaces: [ns] } }] }]),
      authorizationPolicy(ns, 'deny-b', 'DENY', sel, [{ from: [{ source: { principals: [principal(ns, 'b')] } }] }]),
    );
    await expectReach({ a: true, b: false, other: false });
  });

  it('removing every policy restores default-allow', async () => {
    await d.delete(applied.splice(0));
    await expectReach({ a: true, b: true, other: true });
  });
});
