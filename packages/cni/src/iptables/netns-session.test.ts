import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canUseKernel, createNetns, deleteNetns } from './netns.test-helper';
import { netnsExecHelper, NetnsExecSession, resetNetnsExecHelper } from './netns-session';

// Build the helper when the checkout has not (scripts/bootstrap.sh normally does), so this always runs.
if (netnsExecHelper() === undefined && canUseKernel()) {
  const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'build-native-plugin.mjs');
  execFileSync(process.execPath, [script], { stdio: 'ignore' });
  resetNetnsExecHelper();
}
const helper = netnsExecHelper();

describe.skipIf(!canUseKernel() || helper === undefined)('mesh-netns-exec session (real netns)', () => {
  let ns = '';
  let path = '';
  let session: NetnsExecSession;

  beforeAll(() => {
    ns = createNetns('sess');
    path = `/var/run/netns/${ns}`;
    session = new NetnsExecSession(helper ?? '', path, 5_000);
  });
  afterAll(() => {
    session.close();
    deleteNetns(ns);
  });

  it('runs commands inside the pod netns, not the caller’s', async () => {
    const r = await session.run(['readlink', '/proc/self/ns/net']);
    expect(r).toEqual({ code: 0, stdout: `net:[${statSync(path).ino}]\n`, stderr: '' });
  });

  it('passes argv without a shell and stdin byte for byte, in order under concurrency', async () => {
    const input = 'line one\n$(echo no shell) ; `x` \u00e9\u4e2d\n\nend';
    const results = await Promise.all([
      session.run(['cat'], input),
      session.run(['echo', '$HOME', 'a b']),
      session.run(['cat'], ''),
    ]);
    expect(results.map((r) => r.stdout)).toEqual([input, '$HOME a b\n', '']);
  });

  it('reports exit codes, stderr and unrunnable commands (127), and keeps serving', async () => {
    const ls = await session.run(['ls', '/nonexistent-mesh-path']);
    expect(ls.code).toBe(2);
    expect(ls.stderr).toContain('nonexistent-mesh-path');
    const missing = await session.run(['mesh-no-such-binary']);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain('failed to execute mesh-no-such-binary');
    expect((await session.run(['true'])).code).toBe(0);
  });

  it('a command over the timeout fails with CNI_COMMAND_TIMEOUT and kills the session', async () => {
    const s = new NetnsExecSession(helper ?? '', path, 200);
    await expect(s.run(['sleep', '5'])).rejects.toMatchObject({ code: 'CNI_COMMAND_TIMEOUT' });
    await expect(s.run(['true'])).rejects.toMatchObject({ code: 'CNI_COMMAND_TIMEOUT' });
  });

  it('a netns that does not exist fails every command with the helper’s reason', async () => {
    const s = new NetnsExecSession(helper ?? '', '/var/run/netns/mtest-no-such-netns', 5_000);
    await expect(s.run(['true'])).rejects.toMatchObject({
      code: 'CNI_IPTABLES_FAILED',
      message: expect.stringContaining('cannot enter network namespace') as unknown,
    });
  });
});
