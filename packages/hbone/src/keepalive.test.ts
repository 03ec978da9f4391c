import { once } from 'node:events';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startKeepalive } from './keepalive';

async function listen(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

describe('startKeepalive', () => {
  it('keeps a session whose peer answers PING', async () => {
    const server = http2.createServer();
    const client = http2.connect(`http://127.0.0.1:${await listen(server)}`);
    try {
      await once(client, 'connect');
      startKeepalive(client, { intervalMs: 20, timeoutMs: 60 });
      await new Promise((r) => setTimeout(r, 250));
      expect(client.destroyed).toBe(false);
    } finally {
      client.destroy();
      server.close();
    }
  });

  it('destroys a session whose peer never answers PING', async () => {
    // A peer that accepts TCP and then stays silent (black-holed path / hung process).
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => {
      sockets.push(s);
      s.resume();
    });
    const client = http2.connect(`http://127.0.0.1:${await listen(silent)}`);
    try {
      await once(client, 'connect');
      const err = new Promise<unknown>((resolve) => client.once('error', resolve));
      startKeepalive(client, { intervalMs: 20, timeoutMs: 60 });
      expect((await err as { code?: string }).code).toBe('HBONE_KEEPALIVE_TIMEOUT');
      expect(client.destroyed).toBe(true);
    } finally {
      client.destroy();
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });
});
