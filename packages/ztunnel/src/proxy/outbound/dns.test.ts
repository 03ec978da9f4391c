import { once } from 'node:events';
import net from 'node:net';
import { isMeshError } from '@mesh/core';
import { afterEach, describe, expect, it } from 'vitest';
import { HostResolver, resolveNextHop, type LookupAll } from './dns';

const answers = (...ips: string[]): LookupAll => () => Promise.resolve(ips.map((address) => ({ address, family: net.isIP(address) })));

describe('HostResolver', () => {
  it('prefers the client family, picks among its answers, falls back to the other family', async () => {
    const r = new HostResolver({ lookup: answers('2001:db8::1', '192.0.2.1', '192.0.2.2'), random: () => 0.99 });
    await expect(r.resolve('a.example', false)).resolves.toBe('192.0.2.2');
    await expect(r.resolve('a.example', true)).resolves.toBe('2001:db8::1');
    const v4only = new HostResolver({ lookup: answers('192.0.2.9') });
    await expect(v4only.resolve('b.example', true)).resolves.toBe('192.0.2.9');
  });

  it('drops IPv6 answers when IPv6 is disabled; no usable answer is an error naming the host', async () => {
    const r = new HostResolver({ lookup: answers('2001:db8::1'), ipv6Enabled: false });
    const err: unknown = await r.resolve('v6.example', true).catch((e: unknown) => e);
    expect(isMeshError(err) && err.code).toBe('PROXY_DNS_RESOLUTION_FAILED');
    expect(String(err)).toContain('v6.example');
  });

  it('shares one lookup between concurrent callers and reuses answers until they expire; failures are not kept', async () => {
    let calls = 0;
    let now = 0;
    let fail = true;
    const lookup: LookupAll = async () => {
      calls++;
      await new Promise((res) => setTimeout(res, 5));
      if (fail) throw Object.assign(new Error('boom'), { code: 'ESERVFAIL' });
      return [{ address: '192.0.2.1', family: 4 }];
    };
    const r = new HostResolver({ lookup, cacheTtlMs: 1000, now: () => now });
    await expect(r.resolve('c.example', false)).rejects.toThrow(/c\.example.*ESERVFAIL/);
    fail = false;
    await Promise.all([r.resolve('c.example', false), r.resolve('c.example', false)]);
    expect(calls).toBe(2);
    now = 999;
    await r.resolve('c.example', false);
    expect(calls).toBe(2);
    now = 1000;
    await r.resolve('c.example', false);
    expect(calls).toBe(3);
  });

  it('a lookup that never answers fails after the timeout, naming the host', async () => {
    const r = new HostResolver({ lookup: () => new Promise(() => undefined), timeoutMs: 50 });
    const t0 = Date.now();
    await expect(r.resolve('slow.example', false)).rejects.toThrow(/slow\.example.*no answer within 50ms/);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('a lookup that outlives its callers is not started again: one query per name holds the thread pool', async () => {
    let calls = 0;
    let answer: ((a: { address: string; family: number }[]) => void) | undefined;
    const r = new HostResolver({ lookup: () => { calls++; return new Promise((res) => { answer = res; }); }, timeoutMs: 20 });
    await expect(r.resolve('stuck.example', false)).rejects.toThrow(/no answer within 20ms/);
    await expect(r.resolve('stuck.example', false)).rejects.toThrow(/no answer within 20ms/);
    expect(calls).toBe(1);
    answer!([{ address: '192.0.2.7', family: 4 }]);
    await expect(r.resolve('stuck.example', false)).resolves.toBe('192.0.2.7');
    expect(calls).toBe(1);
  });

  it('bounds the cache', async () => {
    let calls = 0;
    const r = new HostResolver({ lookup: (h) => { calls++; return answers(h === 'x' ? '192.0.2.1' : '192.0.2.2')(h); }, maxEntries: 1 });
    await r.resolve('x', false);
    await r.resolve('y', false);
    await r.resolve('x', false);
    expect(calls).toBe(3);
  });
});

describe('connect step for a hostname workload (system resolver)', () => {
  const servers: net.Server[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
  });

  it('resolves localhost to a local listener, connects to <ip>:<target port> and carries bytes', async () => {
    const server = net.createServer((sock) => sock.pipe(sock));
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    const target = await resolveNextHop(new HostResolver(), { ip: 'localhost', port }, { hostname: 'localhost', preferIpv6: false });
    expect(target).toEqual({ ip: '127.0.0.1', port });
    const sock = net.connect(target.port, target.ip);
    await once(sock, 'connect');
    sock.end('hello over dns');
    const chunks: Buffer[] = [];
    for await (const c of sock) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('hello over dns');
  });

  it('a name that does not exist fails quickly with the hostname in the error', async () => {
    const t0 = Date.now();
    const err: unknown = await resolveNextHop(new HostResolver({ timeoutMs: 2000 }), { ip: 'nonexistent.invalid', port: 80 }, { hostname: 'nonexistent.invalid', preferIpv6: false })
      .catch((e: unknown) => e);
    expect(isMeshError(err) && err.code).toBe('PROXY_DNS_RESOLUTION_FAILED');
    expect((err as Error).message).toContain('nonexistent.invalid');
    expect(Date.now() - t0).toBeLessThan(2500);
  });
});
