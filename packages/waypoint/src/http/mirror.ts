// VirtualService mirror / HTTPRoute RequestMirror as Envoy's request_mirror_policies: a fire-and-forget copy
// of the request (after rewrites and header ops) to the mirror destination, with the authority's host
// suffixed "-shadow" (before any port, as current Envoy does). The copy's response is discarded and never
// affects the main response; copies are bounded in number and time so a slow mirror cannot pile up.
import { PassThrough, type Readable } from 'node:stream';
import type { waypoint } from '@mesh/api';
import type { Logger } from '@mesh/core';
import type { Endpoint, HboneAgents, UpstreamCluster, UpstreamClusters, UpstreamState } from '../upstream/index';
import { sendOnce } from './forward';
import type { HeaderMap } from './header-ops';

export const MIRRORS_IN_FLIGHT_MAX = 64;
export const MIRROR_TIMEOUT_MS = 10_000;

export interface MirrorDeps {
  readonly upstream: UpstreamState;
  readonly agents: HboneAgents;
  readonly clusters?: UpstreamClusters;
  readonly rand?: () => number;
  readonly logger?: Logger;
}

export interface MirrorRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: HeaderMap;
  /** The request's destination port (mirror port 0 means this one). */
  readonly port: number;
  /** Resolves the complete body once read (undefined = none, or too large to copy). */
  readonly body: Promise<Buffer | undefined>;
}

/** "host:port" -> "host-shadow:port"; IPv6 literals keep their brackets. */
export function shadowAuthority(authority: string): string {
  const m = /^(\[[^\]]*\]|[^:]*)(:\d+)?$/.exec(authority);
  if (m === null) return `${authority}-shadow`;
  return `${m[1]}-shadow${m[2] ?? ''}`;
}

/** The mirrors of `route` this request is sampled into (each by its own percent). */
export function sampledMirrors(route: waypoint.Route, rand: () => number): waypoint.Mirror[] {
  return route.mirrors.filter((m) => m.destination !== undefined && m.percent > 0 && rand() * 100 < m.percent);
}

/**
 * Copies a streamed body for mirrors while it flows to the main upstream: the main side gets a PassThrough,
 * the mirror the whole body (undefined past `limitBytes`, when the copy is abandoned as Envoy does).
 */
export function teeBody(src: Readable, limitBytes: number): { main: Readable; copy: Promise<Buffer | undefined> } {
  const main = new PassThrough();
  src.pipe(main);
  const copy = new Promise<Buffer | undefined>((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    src.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limitBytes) chunks.push(c);
    });
    src.once('end', () => resolve(size > limitBytes ? undefined : Buffer.concat(chunks)));
    src.once('error', () => resolve(undefined));
    src.once('close', () => resolve(undefined));
  });
  return { main, copy };
}

export class Mirrors {
  private inFlight = 0;
  private dropped = 0;

  constructor(private readonly deps: MirrorDeps) {}

  get active(): number {
    return this.inFlight;
  }

  /** Copies dropped because MIRRORS_IN_FLIGHT_MAX were running. */
  get droppedCount(): number {
    return this.dropped;
  }

  /** Starts the copies; never throws, never waits. */
  fire(mirrors: readonly waypoint.Mirror[], req: MirrorRequest): void {
    for (const m of mirrors) {
      if (this.inFlight >= MIRRORS_IN_FLIGHT_MAX) {
        this.dropped++;
        continue;
      }
      const target = this.endpointFor(m.destination!, req.port);
      if (target === undefined) continue;
      this.inFlight++;
      this.send(target.ep, target.cluster, req).finally(() => {
        this.inFlight--;
      }).catch(() => undefined);
    }
  }

  private endpointFor(d: waypoint.Destination, port: number): { ep: Endpoint; cluster: UpstreamCluster | undefined } | undefined {
    const p = d.port || port;
    const labels = d.subset === '' ? undefined : d.subsetLabels;
    const cluster = this.deps.clusters?.get(d.hostname, d.subset, p);
    const ep = cluster === undefined
      ? this.deps.upstream.pickEndpoint(d.hostname, p, labels)
      : cluster.pick(this.deps.upstream.endpoints(d.hostname, p, labels), { rand: this.deps.rand ?? Math.random });
    return ep === undefined ? undefined : { ep, cluster };
  }

  private async send(ep: Endpoint, cluster: UpstreamCluster | undefined, req: MirrorRequest): Promise<void> {
    const body = await req.body;
    const headers: HeaderMap = { ...req.headers, host: shadowAuthority(String(req.headers.host ?? '')) };
    if (body !== undefined) headers['content-length'] = String(body.length);
    delete headers['transfer-encoding'];
    const ctl = new AbortController();
    const r = await sendOnce({
      pool: this.deps.agents.poolFor(ep, cluster), method: req.method, path: req.path,
      headers, body, timeoutMs: MIRROR_TIMEOUT_MS, signal: ctl.signal,
    });
    if (r.kind === 'response') {
      r.res.body.resume();
      await new Promise<void>((resolve) => r.res.body.once('close', resolve));
    } else {
      this.deps.logger?.debug({ kind: r.kind, endpoint: `${ep.ip}:${ep.port}` }, 'mirror request failed');
    }
  }
}
