import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@mesh/core';
import { closeFd, netnsInode, openNetns, SeqpacketSocket } from '@mesh/netns';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeZtunnel } from './fake-ztunnel.test-helper';
import { ZdsServer, type ZdsSnapshotEntry } from './server';

const logger = createLogger({ component: 'zds-test', level: 'silent' });
const WL = { name: 'web-0', namespace: 'default', serviceAccount: 'web' };

describe('ZDS server', () => {
  let dir = '';
  let nsFd = -1;
  let inode = 0;
  let server: ZdsServer | undefined;
  const clients: FakeZtunnel[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mesh-zds-'));
    nsFd = openNetns(`/proc/${process.pid}/ns/net`);
    inode = netnsInode(nsFd);
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
    server?.close();
    server = undefined;
  });
  afterAll(() => {
    closeFd(nsFd);
    rmSync(dir, { recursive: true, force: true });
  });

  function start(snapshot: ZdsSnapshotEntry[] = [], ackTimeoutMs = 2_000): ZdsServer {
    server = ZdsServer.listen({ path: join(dir, 'ztunnel.sock'), logger, snapshot: () => snapshot, ackTimeoutMs, helloTimeoutMs: 500 });
    return server;
  }
  function connect(hello = true): FakeZtunnel {
    const c = FakeZtunnel.connect(join(dir, 'ztunnel.sock'), hello);
    clients.push(c);
    return c;
  }
  const ready = (s: ZdsServer): Promise<number> => new Promise((r) => s.once('ready', r));

  it('sends the snapshot (Add with one netns fd, Keep without) and SnapshotSent after the hello', async () => {
    const s = start([
      { uid: 'a', workload: WL, netnsFd: nsFd },
      { uid: 'b', workload: WL, netnsFd: undefined },
    ]);
    const z = connect();
    await ready(s);
    expect(z.received.map((r) => [r.kind, r.uid, r.fdCount])).toEqual([
      ['add', 'a', 1],
      ['keep', 'b', 0],
      ['snapshotSent', '', 0],
    ]);
    expect(z.received[0]?.inode).toBe(inode);
    const add = z.received[0]?.req.payload;
    expect(add?.case === 'add' && add.value.workloadInfo).toMatchObject(WL);
  });

  it('live Add resolves on ACK and rejects with ZDS_NACK on Ack.error, keeping the connection', async () => {
    const s = start();
    const z = connect();
    await ready(s);
    await s.addWorkload('p1', WL, nsFd);
    z.answer = (r) => (r.kind === 'add' ? 'netns busy' : '');
    await expect(s.addWorkload('p2', WL, nsFd)).rejects.toMatchObject({ code: 'ZDS_NACK' });
    expect(z.closed).toBe(false);
    expect(s.connectionCount).toBe(1);
    expect(z.received.filter((r) => r.kind === 'add').map((r) => [r.uid, r.inode])).toEqual([
      ['p1', inode],
      ['p2', inode],
    ]);
  });

  it('Add without any ztunnel fails with ZDS_NO_ZTUNNEL; Del then has nobody to tell', async () => {
    const s = start();
    await expect(s.addWorkload('p1', WL, nsFd)).rejects.toMatchObject({ code: 'ZDS_NO_ZTUNNEL' });
    await expect(s.delWorkload('p1')).resolves.toBeUndefined();
  });

  it('sends Adds only to the newest ztunnel and Dels to all of them', async () => {
    const s = start();
    const old = connect();
    await ready(s);
    const fresh = connect();
    await ready(s);
    await s.addWorkload('p1', WL, nsFd);
    await s.delWorkload('p1');
    expect(old.received.map((r) => r.kind)).toEqual(['snapshotSent', 'del']);
    expect(fresh.received.map((r) => r.kind)).toEqual(['snapshotSent', 'add', 'del']);
  });

  it('keeps one request outstanding per connection', async () => {
    const s = start();
    const z = connect();
    await ready(s);
    z.answer = () => null;
    const first = s.addWorkload('p1', WL, nsFd);
    const second = s.addWorkload('p2', WL, nsFd);
    await z.waitFor((all) => all.some((r) => r.uid === 'p1'));
    await new Promise((r) => setTimeout(r, 50));
    expect(z.received.some((r) => r.uid === 'p2')).toBe(false);
    z.ack();
    await first;
    await z.waitFor((all) => all.some((r) => r.uid === 'p2'));
    z.ack();
    await second;
  });

  it('a missing Ack fails the Add with ZDS_ACK_TIMEOUT and drops the connection', async () => {
    const s = start([], 200);
    const z = connect();
    await ready(s);
    z.answer = () => null;
    await expect(s.addWorkload('p1', WL, nsFd)).rejects.toMatchObject({ code: 'ZDS_ACK_TIMEOUT' });
    await z.waitClosed();
    expect(s.connectionCount).toBe(0);
  });

  it('an Add queued before the hello is delivered right after the snapshot', async () => {
    const s = start([{ uid: 'a', workload: WL, netnsFd: nsFd }]);
    const z = connect(false);
    await new Promise((r) => setTimeout(r, 20));
    const add = s.addWorkload('p1', WL, nsFd);
    z.sendHello();
    await add;
    expect(z.received.map((r) => `${r.kind}:${r.uid}`)).toEqual(['add:a', 'snapshotSent:', 'add:p1']);
  });

  describe('garbage from ztunnel closes only that connection', () => {
    const cases: [string, (sock: SeqpacketSocket) => void][] = [
      ['undecodable hello', (sock) => sock.send(Buffer.from([0xff, 0xff, 0xff, 0xff]))],
      ['hello with version NOT_USED', (sock) => sock.send(Buffer.alloc(0))],
      ['fds where none are expected', (sock) => sock.send(Buffer.from([0x08, 0x01]), [nsFd])],
    ];
    for (const [name, misbehave] of cases) {
      it(name, async () => {
        const s = start();
        const bad = connect(false);
        misbehave(bad.socket);
        await bad.waitClosed();
        expect(s.connectionCount).toBe(0);
        const good = connect();
        await ready(s);
        await s.addWorkload('p1', WL, nsFd);
        expect(good.received.map((r) => r.kind)).toEqual(['snapshotSent', 'add']);
      });
    }

    it('no hello at all', async () => {
      const s = start();
      const silent = connect(false);
      await silent.waitClosed(2_000);
      expect(s.connectionCount).toBe(0);
    });

    it('an unsolicited message after the snapshot', async () => {
      const s = start();
      const z = connect();
      await ready(s);
      z.ack();
      await z.waitClosed();
      expect(s.connectionCount).toBe(0);
    });
  });
});
