import { afterEach, describe, expect, it } from 'vitest';
import { startHttpServer, type RunningHttpServer } from './server';
import { sendJson, sendText } from './responders';
import { isMeshError } from '../errors/mesh-error';

const running: RunningHttpServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function start(routes: Parameters<typeof startHttpServer>[0]['routes']): Promise<RunningHttpServer> {
  const s = await startHttpServer({ host: '127.0.0.1', port: 0, routes });
  running.push(s);
  return s;
}

describe('startHttpServer', () => {
  it('binds port 0 to a real port and routes exact paths', async () => {
    const s = await start([
      { path: '/healthz/ready', handler: ({ res }) => sendText(res, 200, 'ready\n') },
      { path: '/config_dump', handler: ({ res, url }) => sendJson(res, 200, { q: url.searchParams.get('q') }) },
    ]);
    expect(s.address.port).toBeGreaterThan(0);
    expect(s.url).toBe(`http://127.0.0.1:${s.address.port}`);
    const ready = await fetch(`${s.url}/healthz/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.text()).toBe('ready\n');
    const dump = await fetch(`${s.url}/config_dump?q=1`);
    expect(dump.headers.get('content-type')).toBe('application/json');
    expect(await dump.json()).toEqual({ q: '1' });
  });

  it('answers 404 for unknown paths and 405 for wrong methods', async () => {
    const s = await start([{ path: '/logging', methods: ['POST'], handler: ({ res }) => sendText(res, 200, 'ok') }]);
    expect((await fetch(`${s.url}/nope`)).status).toBe(404);
    const wrong = await fetch(`${s.url}/logging`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect((await fetch(`${s.url}/logging`, { method: 'POST' })).status).toBe(200);
  });

  it('matches the longest prefix route', async () => {
    const s = await start([
      { path: '/debug/*', handler: ({ res }) => sendText(res, 200, 'debug') },
      { path: '/debug/pprof/*', handler: ({ res, url }) => sendText(res, 200, `pprof ${url.pathname}`) },
    ]);
    expect(await (await fetch(`${s.url}/debug/x`)).text()).toBe('debug');
    expect(await (await fetch(`${s.url}/debug/pprof/heap`)).text()).toBe('pprof /debug/pprof/heap');
  });

  it('turns a failing handler into a 500', async () => {
    const s = await start([
      {
        path: '/boom',
        handler: async () => {
          throw new Error('kaput');
        },
      },
    ]);
    const r = await fetch(`${s.url}/boom`);
    expect(r.status).toBe(500);
    expect(await r.text()).toContain('kaput');
  });

  it('close() ends keep-alive connections and frees the port', async () => {
    const s = await start([{ path: '/', handler: ({ res }) => sendText(res, 200, 'x') }]);
    await fetch(`${s.url}/`);
    await s.close();
    await expect(fetch(`${s.url}/`)).rejects.toThrow();
  });

  it('reports a busy port with a typed error', async () => {
    const s = await start([]);
    try {
      await startHttpServer({ host: '127.0.0.1', port: s.address.port, routes: [] });
      expect.unreachable();
    } catch (err) {
      expect(isMeshError(err, 'HTTP_LISTEN_FAILED')).toBe(true);
      expect((err as Error).message).toContain(String(s.address.port));
    }
  });
});
