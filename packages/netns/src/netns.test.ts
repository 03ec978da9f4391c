import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canUseNetns, createTestNetns, currentNetnsInodes, type TestNetns } from '../test/netns-fixture';
import {
  closeFd,
  connectSocketInNetns,
  createSocketInNetns,
  fdOf,
  getLocalAddress,
  getMark,
  isNetnsFd,
  listenInNetns,
  netnsInode,
  openNetns,
  serverFromFd,
  setMark,
} from './index';

describe('openNetns', () => {
  it('opens the current netns and reports it as one', () => {
    const fd = openNetns('/proc/self/ns/net');
    try {
      expect(isNetnsFd(fd)).toBe(true);
      expect(netnsInode(fd)).toBe(fs.statSync('/proc/self/ns/net').ino);
    } finally {
      closeFd(fd);
    }
  });

  it('rejects a regular file with EINVAL and closes it', () => {
    const file = path.join(os.tmpdir(), `mesh-netns-${process.pid}-plain`);
    fs.writeFileSync(file, 'x');
    try {
      const err = catchError(() => openNetns(file));
      expect(err).toMatchObject({ code: 'EINVAL', syscall: 'openNetns' });
      expect(err.message).toMatch(/not a network namespace/);
    } finally {
      fs.rmSync(file);
    }
  });

  it('rejects a namespace of another type (mount) with EINVAL', () => {
    expect(catchError(() => openNetns('/proc/self/ns/mnt'))).toMatchObject({ code: 'EINVAL' });
  });

  it('names a missing path ENOENT', () => {
    const err = catchError(() => openNetns('/nonexistent/ns/net'));
    expect(err).toMatchObject({ code: 'ENOENT', syscall: 'open(netns)' });
  });

  it('isNetnsFd is false for a regular file and EBADF for a closed fd', () => {
    const fd = fs.openSync('/proc/self/status', 'r');
    expect(isNetnsFd(fd)).toBe(false);
    fs.closeSync(fd);
    expect(catchError(() => isNetnsFd(fd))).toMatchObject({ code: 'EBADF' });
  });

  it('validates arguments with EINVAL instead of crashing', () => {
    expect(catchError(() => openNetns(42 as unknown as string))).toMatchObject({ code: 'EINVAL' });
    expect(catchError(() => closeFd(-1))).toMatchObject({ code: 'EINVAL' });
    expect(catchError(() => closeFd(NaN))).toMatchObject({ code: 'EINVAL' });
    expect(catchError(() => closeFd(2 ** 40))).toMatchObject({ code: 'EINVAL' });
    expect(catchError(() => setMark(0, -1))).toMatchObject({ code: 'EINVAL' });
    expect(catchError(() => createSocketInNetns(null, { family: 5 as 4 }))).toMatchObject({ code: 'EINVAL' });
  });
});

describe.skipIf(!canUseNetns)('sockets inside a network namespace (needs root and ip)', () => {
  let ns: TestNetns;
  let nsFd: number;
  const before = currentNetnsInodes();

  beforeAll(() => {
    ns = createTestNetns('a');
    nsFd = openNetns(ns.path);
  });

  afterAll(() => {
    if (nsFd !== undefined) closeFd(nsFd);
    ns?.destroy();
  });

  it('listens inside the netns: reachable from inside, not from the root netns', async () => {
    const server = await serverFromFd(listenInNetns(nsFd, { host: '127.0.0.1', port: 0 }));
    server.on('connection', (s) => s.end('hello from ns\n'));
    try {
      const { port } = server.address() as net.AddressInfo;
      const script =
        "const s=require('net').connect(+process.argv[1],'127.0.0.1');s.pipe(process.stdout);s.on('error',e=>{console.error(e.code);process.exit(3)})";
      expect(await ns.node(script, [String(port)])).toBe('hello from ns\n');
      await expect(connectFromRoot(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      server.close();
    }
    expect(currentNetnsInodes()).toEqual(before);
  });

  it('keeps the main thread in its own netns, also after a failed setns', () => {
    const fd = createSocketInNetns(nsFd, { family: 6 });
    closeFd(fd);
    expect(currentNetnsInodes()).toEqual(before);
    const notNs = fs.openSync('/proc/self/status', 'r');
    try {
      const err = catchError(() => createSocketInNetns(notNs, {}));
      expect(err).toMatchObject({ code: 'EINVAL', syscall: 'setns(CLONE_NEWNET)' });
      expect(err.message).toMatch(/CAP_SYS_ADMIN/);
    } finally {
      fs.closeSync(notNs);
    }
    expect(currentNetnsInodes()).toEqual(before);
  });

  it('connects from inside the netns with an addon socket', async () => {
    const server = await serverFromFd(listenInNetns(nsFd, { host: '127.0.0.1', port: 0 }));
    server.on('connection', (s) => s.pipe(s));
    try {
      const { port } = server.address() as net.AddressInfo;
      const client = await connectSocketInNetns(nsFd, { host: '127.0.0.1', port, mark: 1337 });
      expect(getMark(fdOf(client))).toBe(1337);
      const echoed = new Promise<string>((resolve) => client.once('data', (d: Buffer) => resolve(d.toString())));
      client.write('ping');
      expect(await echoed).toBe('ping');
      client.destroy();
    } finally {
      server.close();
    }
  });

  it('sets SO_MARK on listeners and on Node sockets', async () => {
    const fd = listenInNetns(nsFd, { host: '127.0.0.1', port: 0, mark: 0x539 });
    expect(getMark(fd)).toBe(0x539);
    const server = await serverFromFd(fd);
    try {
      expect(fdOf(server)).toBe(fd);
      setMark(fdOf(server), 0x111);
      expect(getMark(fd)).toBe(0x111);
    } finally {
      server.close();
    }
  });

  it('SO_REUSEPORT lets two listeners share a port; without it the second bind fails', () => {
    const first = listenInNetns(nsFd, { host: '127.0.0.1', port: 0, reuseport: true });
    const { port } = getLocalAddress(first);
    const second = listenInNetns(nsFd, { host: '127.0.0.1', port, reuseport: true });
    try {
      expect(getLocalAddress(second).port).toBe(port);
      const err = catchError(() => listenInNetns(nsFd, { host: '127.0.0.1', port }));
      expect(err).toMatchObject({ code: 'EADDRINUSE', syscall: 'bind' });
    } finally {
      closeFd(first);
      closeFd(second);
    }
  });

  it('binds a non-local IPv6 address only with freebind or transparent', () => {
    const host = 'fd00:99::1';
    expect(catchError(() => listenInNetns(nsFd, { family: 6, host, port: 0 }))).toMatchObject({
      code: 'EADDRNOTAVAIL',
    });
    for (const opts of [{ freebind: true }, { transparent: true }]) {
      const fd = listenInNetns(nsFd, { family: 6, host, port: 0, ...opts });
      expect(getLocalAddress(fd)).toMatchObject({ address: host, family: 6 });
      closeFd(fd);
    }
    expect(currentNetnsInodes()).toEqual(before);
  });

  it('fdOf explains a socket without an fd', () => {
    expect(catchError(() => fdOf(new net.Socket()))).toMatchObject({ code: 'FD_UNAVAILABLE' });
  });
});

function connectFromRoot(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve();
    });
    s.on('error', reject);
  });
}

export function catchError(fn: () => unknown): Error & { code?: string; syscall?: string } {
  try {
    fn();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected an error');
}
