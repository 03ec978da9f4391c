import type { ClusterDriver } from '../drivers/types';
import { nsName, twoNodes } from './context';
import { ECHO_HTTP_PORT, ECHO_TCP_PORT, clientPod, echoPod, namespace, serviceAccount } from './manifests';
import { deploy, waitHttpOk } from './scenario';
import { waitFor } from './wait';

/** An enrolled client on node A and echo server on node B, ready for traffic. */
export interface MeshPair {
  ns: string;
  serverIp: string;
  clientIp: string;
  clientNode: string;
  serverNode: string;
  url: string;
  cleanup: () => Promise<void>;
}

export async function meshPair(d: ClusterDriver, base: string): Promise<MeshPair> {
  const [a, b] = await twoNodes(d);
  const ns = nsName(base);
  const cleanup = await deploy(d, [
    namespace(ns, true),
    serviceAccount(ns, 'server'),
    serviceAccount(ns, 'client'),
    echoPod({ ns, name: 'server', node: b.name }),
    clientPod({ ns, name: 'client', node: a.name }),
  ]);
  const serverIp = (await d.pod(ns, 'server')).ip;
  const clientIp = (await d.pod(ns, 'client')).ip;
  const url = `http://${serverIp}:${ECHO_HTTP_PORT}/`;
  await waitHttpOk(d, ns, 'client', url);
  return { ns, serverIp, clientIp, clientNode: a.name, serverNode: b.name, url, cleanup };
}

/** A long-lived TCP connection through the mesh to the echo app's raw TCP port. */
export async function openEchoStream(d: ClusterDriver, p: MeshPair) {
  const st = await d.stream(p.ns, 'client', ['nc', p.serverIp, String(ECHO_TCP_PORT)]);
  let n = 0;
  /** Sends a unique line and waits (bounded) for its echo on the same connection. */
  const roundTrip = async (what: string): Promise<void> => {
    const line = `${what}-${++n}-${Date.now()}`;
    st.write(`${line}\n`);
    await waitFor(async () => st.output().includes(line), { timeoutMs: 5_000, intervalMs: 50, what: `echo of "${line}" on the long-lived connection (${what})` });
  };
  return { stream: st, roundTrip };
}
