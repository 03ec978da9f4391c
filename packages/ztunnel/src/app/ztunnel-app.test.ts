import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@mesh/core';
import { SeqpacketServer } from '@mesh/netns';
import { MeshState } from '../state/index';
import { makeWorkload, wlUpdate } from '../state/test-fixtures';
import { meshAuthorizer, meshDecider, meshInboundResolver } from './decisions';
import { ZtunnelApp } from './ztunnel-app';

const sockPath = path.join(os.tmpdir(), `mtest-${process.pid}-app.sock`);
let app: ZtunnelApp | undefined;
let server: SeqpacketServer | undefined;
afterEach(async () => {
  await app?.stop();
  server?.close();
  fs.rmSync(sockPath, { force: true });
});

async function until(cond: () => boolean): Promise<void> {
  const end = Date.now() + 5_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('ZtunnelApp readiness and certificate state', () => {
  it('is ready with ZDS connected even while the CA fails; the failure shows in /config_dump', async () => {
    fs.rmSync(sockPath, { force: true });
    const state = new MeshState();
    state.applyAddresses([wlUpdate(makeWorkload({ name: 'p1', namespace: 'ns1', sa: 'sa1', ips: ['10.0.0.9'], node: 'node-1' }))], []);
    const ep = { host: '127.0.0.1', port: 0 };
    app = new ZtunnelApp({
      state, decide: meshDecider(state), authorize: meshAuthorizer(state), resolveInbound: meshInboundResolver(state),
      fetchCertificate: () => Promise.reject(new Error('CA unreachable: connection refused')),
      zdsPath: sockPath, trustDomain: 'cluster.local', nodeName: 'node-1',
      endpoints: { admin: ep, stats: ep, readiness: ep }, logger: createLogger({ component: 'ztunnel', level: 'silent' }),
    });
    await app.start();
    expect(app.notReady()).toEqual(['zds']);
    type Cert = { identity: string; state: string };
    const certs = (): Cert[] => app!.configDump().certificates as Cert[];
    await until(() => certs()[0]?.state.startsWith('Unavailable') === true);
    expect(certs()).toEqual([{ identity: 'spiffe://cluster.local/ns/ns1/sa/sa1', state: 'Unavailable: CA unreachable: connection refused', certChain: [], rootCerts: [] }]);
    server = SeqpacketServer.listen(sockPath);
    const held: unknown[] = [];
    server.on('connection', (s) => held.push(s));
    await until(() => app!.zdsConnected);
    expect(app.notReady()).toEqual([]);
    expect((await fetch(`${app.opsServers!.readiness.url}/healthz/ready`)).status).toBe(200);
  });
});
