import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpListenError } from '../errors/catalogue';
import type { Logger } from '../logging/logger';
import { sendText } from './responders';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD';

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
}

export type RouteHandler = (ctx: RouteContext) => void | Promise<void>;

export interface Route {
  /** Exact path ("/healthz/ready"), or a prefix ending in "/*" ("/debug/*"). */
  path: string;
  /** Allowed methods; default GET (HEAD is allowed wherever GET is). */
  methods?: readonly HttpMethod[];
  handler: RouteHandler;
}

export interface HttpServerOptions {
  host: string;
  /** 0 picks a free port (tests); the bound one is in `address.port`. */
  port: number;
  routes: readonly Route[];
  logger?: Logger;
}

export interface RunningHttpServer {
  server: Server;
  address: { host: string; port: number };
  /** http://host:port, with IPv6 hosts bracketed. */
  url: string;
  /** Stop listening and drop open (keep-alive) connections. */
  close(): Promise<void>;
}

/** A tiny router over node:http for admin, readiness and metrics endpoints (not for data paths). */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const find = compileRoutes(options.routes);
  const server = createServer((req, res) => {
    void dispatch(find, req, res, options.logger);
  });
  await listen(server, options.host, options.port);
  const addr = server.address() as AddressInfo;
  const urlHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    server,
    address: { host: addr.address, port: addr.port },
    url: `http://${urlHost}:${addr.port}`,
    close: () => closeServer(server),
  };
}

function compileRoutes(routes: readonly Route[]): (path: string) => Route | undefined {
  const exact = new Map<string, Route>();
  const prefixes: { prefix: string; route: Route }[] = [];
  for (const r of routes) {
    if (r.path.endsWith('/*')) prefixes.push({ prefix: r.path.slice(0, -1), route: r });
    else exact.set(r.path, r);
  }
  // Longest prefix wins.
  prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
  return (path) => exact.get(path) ?? prefixes.find((p) => path.startsWith(p.prefix))?.route;
}

async function dispatch(
  find: (path: string) => Route | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  logger: Logger | undefined,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const route = find(url.pathname);
  if (route === undefined) return sendText(res, 404, `no handler for ${url.pathname}\n`);
  const methods: readonly string[] = route.methods ?? ['GET'];
  const method = req.method ?? 'GET';
  if (!methods.includes(method) && !(method === 'HEAD' && methods.includes('GET'))) {
    res.setHeader('allow', methods.join(', '));
    return sendText(res, 405, `method ${method} not allowed for ${url.pathname}\n`);
  }
  try {
    await route.handler({ req, res, url });
  } catch (err) {
    logger?.error({ err, path: url.pathname }, 'admin handler failed');
    if (!res.headersSent) sendText(res, 500, `internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    else res.destroy();
  }
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(new HttpListenError({ host, port }, { cause: err }));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
