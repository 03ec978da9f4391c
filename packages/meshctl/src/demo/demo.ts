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
async function request(c: LocalCluster, ns: string, pod: string): Promise<{ ok: boolean; text: string }> {
  const r = await c.exec(ns, pod, ['curl', '-sS', '-m', String(CURL_TIMEOUT_S), '-o', '/dev/stdout', '-w', '\nHTTP %{http_code}', ECHO_URL], 'pipe');
  const body = r.stdout.trim();
  const last = body.split('\n').slice(-1)[0] ?? '';
  const ok = r.code === 0 && last === 'HTTP 200';
  const short = ok ? `${last} ${body.split('\n')[0]?.slice(0, 160) ?? ''}` : `curl exit ${r.code}: ${(r.stderr.trim() || last).slice(0, 200)}`;
  return { ok, text: short };
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
  } else record('enroll', 'skipped', `enrollment needs istiod, istio-cni and ztunnel (${why})`);

  say(`\n== 3. demo/client (node ${nodes[0]}) -> echo.demo (node ${nodes[1] ?? nodes[0]}), with tcpdump on the node-to-node link\n`);
  let reply = { ok: false, text: '' };
  const cap = await captureOnSwitch(c.net.switchNetns, async () => {
    reply = await request(c, 'demo', 'client');
  }, [HBONE_PORT, ECHO_PORT]);
  record('request', reply.ok ? 'ok' : 'failed', reply.text);
  say(`  capture on the switch bridge: ${cap.lines.length} packets; by port: ${JSON.stringify(cap.ports)}\n`);
  for (const l of cap.lines.slice(0, 6)) say(`    ${l}\n`);
  const onlyHbone = (cap.ports[String(HBONE_PORT)] ?? 0) > 0 && !cap.ports[String(ECHO_PORT)];
  if (meshOn) record('capture', onlyHbone ? 'ok' : 'failed', onlyHbone ? `only TCP ${HBONE_PORT} (HBONE, mTLS) crossed the nodes; no plaintext :${ECHO_PORT}` : 'expected only HBONE (15008) between nodes');
  else record('capture', 'skipped', `mesh traffic needs ztunnel (${why}); the packets above are plaintext`);

  say('\n== 4. AuthorizationPolicy: ALLOW only spiffe cluster.local/ns/demo/sa/client to echo\n');
  for (const r of await c.apply(allowPolicy(['cluster.local/ns/demo/sa/client']))) say(`  ${r.resource} ${r.action}\n`);
  await sleep(POLICY_SETTLE_MS);
  const demoAllowed = await request(c, 'demo', 'client');
  const legacyDenied = await request(c, 'legacy', 'client');
  if (meshOn) {
    record('allow demo/client', demoAllowed.ok ? 'ok' : 'failed', demoAllowed.text);
    record('deny legacy/client', legacyDenied.ok ? 'failed' : 'ok', `legacy (no mesh identity) ${legacyDenied.ok ? 'was NOT denied: ' : 'denied: '}${legacyDenied.text}`);
  } else record('policy', 'skipped', `enforcement is ztunnel's (${why}); observed demo: ${demoAllowed.text}; legacy: ${legacyDenied.text}`);

  say('\n== 5. Allow legacy: enroll namespace legacy in ambient and add its client to the policy\n');
  c.labelNamespace('legacy', { 'istio.io/dataplane-mode': 'ambient' }, []);
  for (const r of await c.apply(allowPolicy(['cluster.local/ns/demo/sa/client', 'cluster.local/ns/legacy/sa/client']))) say(`  ${r.resource} ${r.action}\n`);
  if (meshOn) await waitEnrolled(c, 'legacy');
  await sleep(POLICY_SETTLE_MS);
  const legacyAllowed = await request(c, 'legacy', 'client');
  if (meshOn) record('allow legacy/client', legacyAllowed.ok ? 'ok' : 'failed', legacyAllowed.text);
  else record('allow legacy/client', 'skipped', `needs ztunnel (${why}); observed: ${legacyAllowed.text}`);

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
