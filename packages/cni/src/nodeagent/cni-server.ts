import { mkdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import type { Logger } from '@mesh/core';
import { CNI_ADD_EVENT_PATH, type CniPluginAddEvent } from '../plugin';

const MAX_EVENT_BODY_BYTES = 64 * 1024;

export type CniAddHandler = (ev: CniPluginAddEvent) => Promise<{ enrolled: boolean }>;

/**
 * HTTP over the unix socket the plugin posts ADD events to (I:cni/pkg/nodeagent/cni-watcher.go):
 * 200 `{enrolled}` when done (or nothing to do), 400 for a bad body, 500 with the reason when the pod
 * could not be redirected, which fails the plugin's ADD so the runtime retries the sandbox.
 */
export class CniEventServer {
  readonly socketPath: string;
  readonly #server: Server;

  private constructor(socketPath: string, server: Server) {
    this.socketPath = socketPath;
    this.#server = server;
  }

  static async listen(socketPath: string, handler: CniAddHandler, logger: Logger): Promise<CniEventServer> {
    mkdirSync(dirname(socketPath), { recursive: true });
    rmSync(socketPath, { force: true });
    const server = createServer((req, res) => void handle(req, res, handler, logger));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new CniEventServer(socketPath, server);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
      rmSync(this.socketPath, { force: true });
    });
  }
}

async function handle(req: IncomingMessage, res: ServerResponse, handler: CniAddHandler, logger: Logger): Promise<void> {
  if (req.url !== CNI_ADD_EVENT_PATH || req.method !== 'POST') return reply(res, 404, { error: `only POST ${CNI_ADD_EVENT_PATH}` });
  let ev: CniPluginAddEvent;
  try {
    ev = parseEvent(await readBody(req));
  } catch (e) {
    return reply(res, 400, { error: e instanceof Error ? e.message : String(e) });
  }
  const log = logger.child({ pod: `${ev.PodNamespace}/${ev.PodName}`, netns: ev.Netns });
  try {
    const result = await handler(ev);
    log.info(result, 'CNI ADD handled');
    reply(res, 200, result);
  } catch (err) {
    log.error({ err }, 'CNI ADD failed');
    const code = (err as { code?: unknown }).code;
    reply(res, 500, { error: err instanceof Error ? err.message : String(err), code: typeof code === 'string' ? code : 'INTERNAL' });
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (b: Buffer) => {
      size += b.length;
      if (size > MAX_EVENT_BODY_BYTES) req.destroy(new Error(`event body over ${MAX_EVENT_BODY_BYTES} bytes`));
      else chunks.push(b);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function parseEvent(body: string): CniPluginAddEvent {
  const v: unknown = JSON.parse(body);
  if (typeof v !== 'object' || v === null) throw new Error('event is not a JSON object');
  const o = v as Record<string, unknown>;
  for (const k of ['Netns', 'PodName', 'PodNamespace'] as const) {
    if (typeof o[k] !== 'string' || o[k] === '') throw new Error(`event field ${k} must be a non-empty string`);
  }
  const ips = o['IPs'] ?? [];
  if (!Array.isArray(ips) || !ips.every((ip) => typeof (ip as { Address?: unknown })?.Address === 'string')) {
    throw new Error('event field IPs must be an array of {Address: string}');
  }
  return {
    Netns: o['Netns'] as string,
    PodName: o['PodName'] as string,
    PodNamespace: o['PodNamespace'] as string,
    PodUID: typeof o['PodUID'] === 'string' ? o['PodUID'] : '',
    IPs: ips as CniPluginAddEvent['IPs'],
  };
}
