import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@mesh/core';
import { afterEach, expect, it } from 'vitest';
import { NodeAgent } from './agent';
import { agentConfig } from './config';
import { FakeKubeApi, kubeNamespace, kubePod } from './kube-fake-api.test-helper';

let api: FakeKubeApi | undefined;
let agent: NodeAgent | undefined;
let dir = '';

afterEach(async () => {
  await agent?.stop();
  await api?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('POD_SOURCE=kubernetes starts the agent on the API server named by KUBECONFIG', async () => {
  api = new FakeKubeApi();
  const kc = await api.listen();
  api.put('namespaces', kubeNamespace('apps'));
  api.put('pods', kubePod('p1', 'node-1', { ns: 'apps' }));
  dir = mkdtempSync(join(tmpdir(), 'cni-kube-agent-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, kc.exportConfig());
  const config = agentConfig.parse({
    NODE_NAME: 'node-1',
    POD_SOURCE: 'kubernetes',
    KUBECONFIG: kubeconfig,
    ZTUNNEL_UDS_ADDRESS: join(dir, 'ztunnel.sock'),
    CNI_AGENT_RUN_DIR: dir,
    AMBIENT_HOST_PROBE_ENABLED: 'false',
    READINESS_PORT: '0',
  });
  agent = await NodeAgent.start({ config, logger: createLogger({ component: 'test', level: 'silent' }) });
  const lists = api.requests.filter((r) => r.method === 'GET' && !r.url.includes('watch=true')).map((r) => decodeURIComponent(r.url));
  expect(lists).toEqual(['/api/v1/namespaces', '/api/v1/pods?fieldSelector=spec.nodeName=node-1']);
});
