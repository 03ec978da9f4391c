import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canUseNetns, createTestNetns, currentNetnsInodes, IP_BIN, openFdCount, type TestNetns } from '../test/netns-fixture';
import {
  closeFd,
  connectInNetns,
  fdOf,
  getLocalAddress,
  getMark,
  listenInNetns,
  loadAddon,
  NetnsSocketPool,
  openNetns,
  serverFromFd,
} from './index';

// ztunnel's in-pod constants (Z:src/inpod/config.rs, I:cni/pkg/config/config.go).
const ZTUNNEL_MARK = 0x539;
const builtAddon = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'build', 'Release', 'mesh_netns.node');
const ROUTE_TABLE = '100';

function socketsAsync(nsFd: number, family: 4 | 6, count: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    loadAddon().socketsInNetnsAsync(nsFd, family, count, (err, fds) => {
      for (const fd of err === null ? [] : fds) closeFd(fd);
      if (err === null) resolve(fds);
      else reject(err);
    });
  });
}

async function settle(cond: () => boolean, ms = 2_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

describe.skipIf(!canUseNetns)('sockets made ahead of time in a netns (needs root and ip)', () => {
  let ns: TestNetns;
  let nsFd: number;
  let server: net.Server;
  let port: number;
  const before = currentNetnsInodes();

  beforeAll(async () => {
    ns = createTestNetns('pool');
    nsFd = openNetns(ns.path);
    // Istio's in-pod policy routing, so a spoofed (transparent) source gets the app's replies.
    ns.exec(IP_BIN, ['rule', 'add', 'fwmark', `${ZTUNNEL_MARK}`, 'lookup', ROUTE_TABLE]);
    ns.exec(IP_BIN, ['route', 'add', 'local', '0.0.0.0/0', 'dev', 'lo', 'table', ROUTE_TABLE]);
    server = await serverFromFd(listenInNetns(nsFd, { host: '127.0.0.1', port: 0 }));
    server.on('connection', (s: net.Socket) => s.end());
    port = (server.address() as net.AddressInfo).port;
  });

  afterAll(() => {
    server?.close();
    if (nsFd !== undefined) closeFd(nsFd);
    ns?.destroy();
  });

  it('answers on the event loop with sockets that live in the netns', async () => {
    const fds = await socketsAsync(nsFd, 4, 3);
    expect(fds).toHaveLength(3);
    // The listener exists only inside the netns: a socket made there reaches it, one made here is refused.
    const pool = new NetnsSocketPool(nsFd);
    try {
      const fd = await pool.connect({ host: '127.0.0.1', port });
      closeFd(fd);
      await expect(connectInNetns(null, { host: '127.0.0.1', port })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      pool.close();
      for (const fd of fds) closeFd(fd);
    }
    expect(currentNetnsInodes()).toEqual(before);
  });

  it('does not block the JS thread: the call returns before the sockets exist', async () => {
    let answered = false;
    const done = new Promise<number[]>((resolve) =>
      loadAddon().socketsInNetnsAsync(nsFd, 6, 2, (_err, fds) => {
        answered = true;
        resolve(fds);
      }),
    );
    expect(answered).toBe(false);
    const fds = await done;
    expect(fds).toHaveLength(2);
    for (const fd of fds) closeFd(fd);
  });

  it('applies SO_MARK and IP_TRANSPARENT when a pooled socket connects from a spoofed source', async () => {
    const pool = new NetnsSocketPool(nsFd, { batch: 4 });
    // The app's replies to the spoofed address route back only when marked (the accepted socket inherits it).
    const spoofServer = await serverFromFd(listenInNetns(nsFd, { host: '127.0.0.1', port: 0, mark: ZTUNNEL_MARK }));
    try {
      const accepted = once(spoofServer, 'connection');
      const client = await pool.connectSocket({
        host: '127.0.0.1',
        port: (spoofServer.address() as net.AddressInfo).port,
        localHost: '10.99.0.9',
        mark: ZTUNNEL_MARK,
        transparent: true,
      });
      const [peer] = (await accepted) as [net.Socket];
      expect(peer.remoteAddress).toBe('10.99.0.9');
      expect(getLocalAddress(fdOf(client)).address).toBe('10.99.0.9');
      expect(getMark(fdOf(client))).toBe(ZTUNNEL_MARK);
      client.destroy();
      peer.destroy();
    } finally {
      spoofServer.close();
      pool.close();
    }
  });

  it('reports errors by errno name: an fd that is not a netns fails setns with EINVAL', async () => {
    const file = fs.openSync('/dev/null', 'r');
    try {
      await expect(socketsAsync(file, 4, 2)).rejects.toMatchObject({ code: 'EINVAL', syscall: 'setns(CLONE_NEWNET)' });
      const pool = new NetnsSocketPool(file);
      await expect(pool.take()).rejects.toMatchObject({ code: 'EINVAL', syscall: 'setns(CLONE_NEWNET)' });
      pool.close();
    } finally {
      fs.closeSync(file);
    }
  });

  it('a closed netns fd is refused at once with EBADF, never handed to the helper', async () => {
    const fd = openNetns(ns.path);
    closeFd(fd);
    expect(() => loadAddon().socketsInNetnsAsync(fd, 4, 1, () => undefined)).toThrow(
      expect.objectContaining({ code: 'EBADF' }),
    );
    const pool = new NetnsSocketPool(fd);
    await expect(pool.take()).rejects.toMatchObject({ code: 'EBADF' });
    pool.close();
  });

  it('rejects a bad batch size and a bad count with EINVAL', () => {
    expect(() => new NetnsSocketPool(nsFd, { batch: 0 })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => loadAddon().socketsInNetnsAsync(nsFd, 4, 65, () => undefined)).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
  });

  it('serves many concurrent connections from batches and leaks no fd', async () => {
    const fdsBefore = openFdCount();
    const pool = new NetnsSocketPool(nsFd, { batch: 8 });
    const conns = await Promise.all(Array.from({ length: 300 }, () => pool.connect({ host: '127.0.0.1', port })));
    expect(new Set(conns).size).toBe(300);
    for (const fd of conns) closeFd(fd);
    pool.close();
    await settle(() => openFdCount() === fdsBefore);
    expect(openFdCount()).toBe(fdsBefore);
  });

  it('close() (pod removed) closes idle sockets, fails waiters and closes a refill that lands later', async () => {
    const fdsBefore = openFdCount();
    const pool = new NetnsSocketPool(nsFd, { batch: 16 });
    closeFd(await pool.take());
    await settle(() => pool.idleCount() > 0);
    expect(pool.idleCount()).toBeGreaterThan(0);
    expect(openFdCount()).toBeGreaterThan(fdsBefore);
    const waiting = pool.take(6); // no v6 socket yet: waits for a refill
    pool.close();
    await expect(waiting).rejects.toMatchObject({ code: 'NETNS_POOL_CLOSED' });
    await expect(pool.take()).rejects.toMatchObject({ code: 'NETNS_POOL_CLOSED' });
    await settle(() => openFdCount() === fdsBefore);
    expect(openFdCount()).toBe(fdsBefore);
  });

  it('a vanished netns (deleted while its fd is held) still serves until the pool closes, then nothing is left', async () => {
    const gone = createTestNetns('gone');
    const goneFd = openNetns(gone.path);
    const fdsBefore = openFdCount();
    gone.destroy();
    expect(() => openNetns(gone.path)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    const pool = new NetnsSocketPool(goneFd, { batch: 4 });
    try {
      // The held fd keeps the netns alive (as a pod's sockets keep it alive); its only address is loopback,
      // and nothing listens there.
      await expect(pool.connect({ host: '127.0.0.1', port })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      await expect(pool.connect({ host: '10.1.2.3', port: 80 })).rejects.toMatchObject({ code: 'ENETUNREACH' });
    } finally {
      pool.close();
      closeFd(goneFd);
    }
    await settle(() => openFdCount() === fdsBefore - 1);
    expect(openFdCount()).toBe(fdsBefore - 1);
  });

  it.skipIf(!fs.existsSync(builtAddon))('a worker torn down with requests in flight crashes nothing and leaks no fd', async () => {
    const fdsBefore = openFdCount();
    const code = `
      const { parentPort, workerData } = require('worker_threads');
      const addon = require(workerData.addon);
      let answered = 0;
      for (let i = 0; i < 50; i++) addon.socketsInNetnsAsync(workerData.nsFd, 4, 64, (err, fds) => { answered++; for (const fd of fds) addon.closeFd(fd); });
      parentPort.postMessage('queued');`;
    for (let round = 0; round < 3; round++) {
      const w = new Worker(code, { eval: true, workerData: { addon: builtAddon, nsFd } });
      await once(w, 'message');
      await w.terminate();
    }
    // Sockets of answers that arrive after teardown are closed by the addon itself. (<=: an fd of an earlier
    // test, e.g. a destroyed net.Socket, may close meanwhile; a leak is 64 sockets per request.)
    await settle(() => openFdCount() <= fdsBefore, 5_000);
    expect(openFdCount()).toBeLessThanOrEqual(fdsBefore);
    expect(currentNetnsInodes()).toEqual(before);
  });
});
