import { LocalCluster, type ClusterStatus } from '../local/cluster';
import { upText } from '../cli/local-commands';
import { allowPolicy, demoApps } from './manifests';
import { captureOnSwitch } from './capture';

export const HBONE_PORT = 15008;
export const ECHO_PORT = 8080;
const ECHO_URL = `http://echo.demo.svc.cluster.local:${ECHO_PORT}/`;
const ENROLL_TIMEOUT_MS = 20_000;
const POLICY_SETTLE_MS = 3_000;
const CURL_TIMEOUT_S = 5;

export interface DemoOptions {
  cluster: string;
  nodes: number;
  keep: boolean;
  say: (text: string) => void;
}

export interface DemoOutcome {
  steps: Array<{ step: string; result: 'ok' | 'failed' | 'skipped'; detail: string }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One request from a pod; the observed status line, never an assumed one. */
async function request(c: LocalCluster, ns: string, pod: string, url = ECHO_URL): Promise<{ ok: boolean; text: string }> {
  const r = await c.exec(ns, pod, ['curl', '-sS', '-m', String(CURL_TIMEOUT_S), '-w', '\nHTTP %{http_code}', url], 'pipe');
  const body = r.stdout.trim();
  const last = body.split('\n').slice(-1)[0] ?? '';
  const ok = r.code === 0 && last === 'HTTP 200';
  const short = ok ? `${last} ${body.split('\n')[0]?.slice(0, 160) ?? ''}` : `curl exit ${r.code}: ${(r.stderr.trim() || last).slice(0, 200)}`;
  return { ok, text: `${url} -> ${short}` };
}

async function waitEnrolled(c: LocalCluster, ns: string): Promise<ClusterStatus['pods']> {
  const deadline = Date.now() + ENROLL_TIMEOUT_MS;
  for (;;) {
    const pods = (await c.status()).pods.filter((p) => p.namespace === ns);
    if (pods.every((p) => p.redirection === 'enabled') || Date.now() > deadline) return pods;
    await sleep(500);
  }
}

/** The guided tour; every printed result is what the commands returned. */
export async function runDemo(opts: DemoOptions): Promise<DemoOutcome> {
  const { say } = opts;
  const c = new LocalCluster({ cluster: opts.cluster });
  const out: DemoOutcome = { steps: [] };
  const record = (step: string, result: 'ok' | 'failed' | 'skipped', detail: string) => {
    out.steps.push({ step, result, detail });
    say(`  -> ${result.toUpperCase()}: ${detail}\n`);
  };
  say(`\n== 1. A ${opts.nodes}-node local cluster (network namespaces, istiod, istio-cni, ztunnel)\n`);
  const up = await c.up(opts.nodes);
  say(upText(up));
  const meshOn = ['istiod', 'ztunnel', 'cni-agent'].every((n) => up.components.some((x) => x.name === n));
  const why = up.skipped.map((s) => `${s.name}${s.node ? `@${s.node}` : ''}: ${s.reason}`).join('; ');

  say('\n== 2. Sample apps: namespace demo (ambient) with echo v1 + client, namespace legacy (not enrolled) with a client\n');
  const nodes = up.nodes.map((n) => n.name);
  for (const r of await c.apply(demoApps(nodes))) say(`  ${r.resource} ${r.action}\n`);
  if (meshOn) {
    const pods = await waitEnrolled(c, 'demo');
    const enrolled = pods.filter((p) => p.redirection === 'enabled').length;
    record('enroll', enrolled === pods.length ? 'ok' : 'failed', `${enrolled}/${pods.length} demo pods have ambient.istio.io/redirection=enabled`);
    // istiod pushes the HBONE tunnel protocol to the ztunnels after the annotation lands (debounced).
    await sleep(POLICY_SETTLE_MS);
  } else record('enroll', 'skipped', `enrollment needs istiod, istio-cni and ztunnel (${why})`);

  say(`\n== 3. demo/client (node ${nodes[0]}) -> echo.demo (node ${nodes[1] ?? nodes[0]}), with tcpdump on the node-to-node link\n`);
  const echoPod = (await c.status()).pods.find((p) => p.namespace === 'demo' && p.name.startsWith('echo-v1-'));
  const podUrl = `http://${echoPod?.ip ?? '0.0.0.0'}:${ECHO_PORT}/`;
  const targets = [
    { what: 'via the Service VIP', url: ECHO_URL },
    { what: 'addressed to the echo pod IP', url: podUrl },
  ];
  for (const t of targets) {
    let reply = { ok: false, text: '' };
    const cap = await captureOnSwitch(c.net.switchNetns, async () => {
      reply = await request(c, 'demo', 'client', t.url);
    }, [HBONE_PORT, ECHO_PORT]);
    record(`request ${t.what}`, reply.ok ? 'ok' : 'failed', reply.text);
    say(`  tcpdump on the switch bridge: ${cap.lines.length} packets; by port: ${JSON.stringify(cap.ports)}\n`);
    for (const l of cap.lines.slice(0, 4)) say(`    ${l}\n`);
    const onlyHbone = (cap.ports[String(HBONE_PORT)] ?? 0) > 0 && !cap.ports[String(ECHO_PORT)];
    if (!meshOn) record(`wire ${t.what}`, 'skipped', `mesh traffic needs ztunnel (${why}); the packets above are plaintext`);
    else {
      record(
        `wire ${t.what}`,
        onlyHbone ? 'ok' : 'failed',
        onlyHbone ? `only TCP ${HBONE_PORT} (HBONE, mTLS) crossed the nodes; no plaintext :${ECHO_PORT}` : `plaintext :${ECHO_PORT} crossed the nodes; expected only HBONE (15008)`,
      );
    }
  }

  say('\n== 4. AuthorizationPolicy: ALLOW only spiffe cluster.local/ns/demo/sa/client to echo\n');
  for (const r of await c.apply(allowPolicy(['cluster.local/ns/demo/sa/client']))) say(`  ${r.resource} ${r.action}\n`);
  await sleep(POLICY_SETTLE_MS);
  for (const t of targets) {
    const demoAllowed = await request(c, 'demo', 'client', t.url);
    const legacyDenied = await request(c, 'legacy', 'client', t.url);
    if (meshOn) {
      record(`allow demo/client ${t.what}`, demoAllowed.ok ? 'ok' : 'failed', demoAllowed.text);
      record(`deny legacy/client ${t.what}`, legacyDenied.ok ? 'failed' : 'ok', `legacy (no mesh identity) ${legacyDenied.ok ? 'was NOT denied: ' : 'denied: '}${legacyDenied.text}`);
    } else record('policy', 'skipped', `enforcement is ztunnel's (${why}); observed demo: ${demoAllowed.text}; legacy: ${legacyDenied.text}`);
  }

  say('\n== 5. Allow legacy: enroll namespace legacy in ambient and add its client to the policy\n');
  c.labelNamespace('legacy', { 'istio.io/dataplane-mode': 'ambient' }, []);
  for (const r of await c.apply(allowPolicy(['cluster.local/ns/demo/sa/client', 'cluster.local/ns/legacy/sa/client']))) say(`  ${r.resource} ${r.action}\n`);
  if (meshOn) await waitEnrolled(c, 'legacy');
  await sleep(POLICY_SETTLE_MS);
  for (const t of targets) {
    const legacyAllowed = await request(c, 'legacy', 'client', t.url);
    if (meshOn) record(`allow legacy/client ${t.what}`, legacyAllowed.ok ? 'ok' : 'failed', legacyAllowed.text);
    else record('allow legacy/client', 'skipped', `needs ztunnel (${why}); observed: ${legacyAllowed.text}`);
  }

  const flag = opts.cluster === 'mesh' ? '' : ` --cluster ${opts.cluster}`;
  say(
    [
      '\nTry next:',
      `  meshctl local status${flag}`,
      `  meshctl local exec${flag} -n demo client -- curl -s ${ECHO_URL}`,
      `  meshctl local logs${flag} ztunnel-${nodes[0]}`,
      `  meshctl local label${flag} ns demo istio.io/dataplane-mode-`,
      `  meshctl local down${flag}`,
      '',
    ].join('\n'),
  );
  return out;
}
