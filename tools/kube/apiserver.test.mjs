// tools/kube/apiserver.mjs: starts etcd + the real kube-apiserver, serves authenticated TLS, and cleans up;
// a bad flag fails fast with the server's own output. Skips when the binary is not built.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { apiServerBinary, kubeGet, startApiServer } from './apiserver.mjs';

const built = apiServerBinary() !== undefined;
if (!built) console.warn('[apiserver.test] SKIPPED: kube-apiserver not built; run tools/kube/build-apiserver.sh');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-helper-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!built)('startApiServer', () => {
  it('serves the API with the admin token over its own CA, refuses anonymous calls, and stop() removes everything', async () => {
    const c = await startApiServer({ dir });
    try {
      const version = await kubeGet(c.url, c.caPem, c.token, '/version');
      expect(JSON.parse(version.body).gitVersion).toBe('v1.20.2');
      expect((await kubeGet(c.url, c.caPem, 'wrong-token', '/api/v1/namespaces')).status).toBe(401);
      expect(fs.readFileSync(c.kubeconfigPath, 'utf8')).toContain(c.url);
    } finally {
      await c.stop();
    }
    expect(fs.readdirSync(dir)).toEqual([]);
    await expect(kubeGet(c.url, c.caPem, c.token, '/readyz')).rejects.toThrow(/ECONNREFUSED/);
  }, 90_000);

  it('fails with the API server output when it cannot start', async () => {
    await expect(startApiServer({ dir, extraArgs: ['--no-such-flag'] })).rejects.toThrow(/exited .*unknown flag: --no-such-flag/s);
    expect(fs.readdirSync(dir)).toEqual([]);
  }, 90_000);
});
