import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { canUseKernel, createNetns, deleteNetns, sh } from './netns.test-helper';
import { parseProbe } from './netns-builtins';
import { netnsExecHelper, NetnsExecSession, NetnsHelperPool, resetNetnsExecHelper } from './netns-session';

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

describe.skipIf(!canUseKernel() || helper === undefined)('mesh-netns-exec pool and built-ins (real netns)', () => {
  const names: string[] = [];
  const pool = new NetnsHelperPool(helper ?? '', 5_000);
  const netnsPath = (n: string): string => `/var/run/netns/${n}`;
  const inode = (n: string): string => `net:[${statSync(netnsPath(n)).ino}]\n`;
  const home = `net:[${statSync('/proc/self/ns/net').ino}]\n`;
  const ROUTE = ['32764', '0x111', '0xfff', '100'];

  beforeAll(() => names.push(createNetns('pa'), createNetns('pb')));
  afterAll(() => {
    pool.close();
    names.forEach(deleteNetns);
  });

  it('reuses one helper across netns and returns it home in between', async () => {
    const [a, b] = names as [string, string];
    pool.prewarm(1);
    expect(pool.idleCount).toBe(1);
    const s1 = pool.lease(netnsPath(a));
    expect(pool.idleCount).toBe(0);
    expect((await s1.run(['readlink', '/proc/self/ns/net'])).stdout).toBe(inode(a));
    s1.close();
    await vi.waitFor(() => expect(pool.idleCount).toBe(1));
    const s2 = pool.lease(netnsPath(b));
    expect((await s2.run(['readlink', '/proc/self/ns/net'])).stdout).toBe(inode(b));
    // A second lane is another helper in the same netns.
    expect((await s2.run(['readlink', '/proc/self/ns/net'], '', 1)).stdout).toBe(inode(b));
    s2.close();
    await vi.waitFor(() => expect(pool.idleCount).toBe(2));
    const s3 = pool.lease('/proc/self/ns/net');
    expect((await s3.run(['readlink', '/proc/self/ns/net'])).stdout).toBe(home);
    s3.close();
  });

  it('a leased helper that cannot enter the netns runs nothing elsewhere and is not reused', async () => {
    const s = pool.lease('/var/run/netns/mtest-no-such-netns');
    await expect(s.run(['true'])).rejects.toMatchObject({ message: expect.stringContaining('cannot enter network namespace') as unknown });
    s.close();
    const ok = pool.lease(netnsPath(names[0] ?? ''));
    expect((await ok.run(['readlink', '/proc/self/ns/net'])).stdout).toBe(inode(names[0] ?? ''));
    ok.close();
  });

  it('a helper handed back after close() is ended, not parked', async () => {
    const own = new NetnsHelperPool(helper ?? '', 5_000);
    const s = own.lease(netnsPath(names[0] ?? ''));
    expect((await s.run(['true'])).code).toBe(0);
    own.close();
    s.close();
    expect(own.idleCount).toBe(0);
  });

  it('@probe and @routing read and write the in-pod routing over netlink like ip does', async () => {
    const [a] = names as [string];
    const s = pool.lease(netnsPath(a));
    try {
      const fresh = parseProbe((await s.run(['@probe', ...ROUTE])).stdout);
      expect(fresh).toEqual({ loIpv6: true, rules: { v4: 0, v6: 0 }, route: { v4: 0, v6: 0 }, nftTables: { v4: 0, v6: 0 }, nftInetTables: 0 });
      for (const f of ['4', '6']) expect((await s.run(['@routing', f, 'stop', ...ROUTE, 'add-route', 'add-rule'])).code).toBe(0);
      expect(sh(a, ['ip', '-6', 'rule', 'show', 'pref', '32764'])).toMatch(/from all fwmark 0x111\/0xfff lookup 100/);
      expect(sh(a, ['ip', '-4', 'route', 'show', 'table', '100'])).toMatch(/^local default dev lo scope host/m);
      sh(a, ['iptables', '-t', 'nat', '-N', 'MTEST']);
      const added = parseProbe((await s.run(['@probe', ...ROUTE])).stdout);
      expect(added).toMatchObject({ rules: { v4: 1, v6: 1 }, route: { v4: 1, v6: 1 }, nftTables: { v4: 1, v6: 0 } });
      const dup = await s.run(['@routing', '4', 'stop', ...ROUTE, 'add-rule']);
      expect(dup.code).toBe(1);
      expect(dup.stderr).toContain('File exists');
      for (const f of ['4', '6']) expect((await s.run(['@routing', f, 'force', ...ROUTE, 'del-rule', 'del-route'])).code).toBe(0);
      expect(parseProbe((await s.run(['@probe', ...ROUTE])).stdout)).toMatchObject({ rules: { v4: 0, v6: 0 }, route: { v4: 0, v6: 0 } });
    } finally {
      s.close();
    }
  });
});
