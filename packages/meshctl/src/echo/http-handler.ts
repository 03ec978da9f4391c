import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { EchoServerConfig } from './args';

export const MAX_DELAY_MS = 10_000;
const NO_BODY_STATUSES = new Set([204, 304]);

type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;

export interface EchoReply {
  pod: string;
  namespace: string;
  version: string;
  serviceAccount: string;
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
  method: string;
  path: string;
  host: string;
  headers: Record<string, string | string[] | undefined>;
  protocol: 'HTTP/1.1' | 'HTTP/1.0' | 'HTTP/2';
  status: number;
}

export function unmapV4(addr: string | undefined): string {
  return (addr ?? '').replace(/^::ffff:/, '');
}

function pickStatus(url: URL, req: Req, failRatio: number, random: () => number): number {
  const m = /^\/status\/(\d{3})\/?$/.exec(url.pathname);
  const asked = m?.[1] ?? url.searchParams.get('echo_code') ?? headerValue(req, 'x-echo-code');
  const code = asked === undefined || asked === null ? NaN : Number(asked);
  if (Number.isInteger(code) && code >= 200 && code <= 599) return code;
  if (failRatio > 0 && random() < failRatio) return 503;
  return 200;
}

function headerValue(req: Req, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function requestedDelayMs(url: URL): number {
  const m = /^\/delay\/(\d+)\/?$/.exec(url.pathname);
  return m ? Math.min(Number(m[1]), MAX_DELAY_MS) : 0;
}

/** httpbin-style behaviour knobs: /status/<code>, ?echo_code=, x-echo-code, /delay/<ms>, --fail-ratio. */
export function createEchoHandler(cfg: EchoServerConfig, random: () => number = Math.random) {
  return (req: Req, res: Res): void => {
    const url = new URL(req.url ?? '/', 'http://echo.invalid');
    const status = pickStatus(url, req, cfg.failRatio, random);
    const sock = req.socket;
    const reply: EchoReply = {
      pod: cfg.pod,
      namespace: cfg.namespace,
      version: cfg.version,
      serviceAccount: cfg.serviceAccount,
      remoteAddress: unmapV4(sock.remoteAddress),
      remotePort: sock.remotePort ?? 0,
      localAddress: unmapV4(sock.localAddress),
      localPort: sock.localPort ?? 0,
      method: req.method ?? '',
      path: req.url ?? '/',
      host: headerValue(req, ':authority') ?? headerValue(req, 'host') ?? '',
      headers: { ...req.headers },
      protocol: req.httpVersion === '2.0' ? 'HTTP/2' : req.httpVersion === '1.0' ? 'HTTP/1.0' : 'HTTP/1.1',
      status,
    };
    const send = () => {
      if (res.destroyed) return;
      const body = NO_BODY_STATUSES.has(status) ? '' : JSON.stringify(reply) + '\n';
      res.writeHead(status, {
        'content-type': 'application/json',
        'x-echo-pod': cfg.pod,
        'x-echo-version': cfg.version,
      });
      res.end(body);
    };
    req.resume();
    const delay = requestedDelayMs(url);
    if (delay > 0) setTimeout(send, delay);
    else send();
  };
}
