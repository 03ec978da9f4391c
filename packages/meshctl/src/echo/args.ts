/** Knobs of the echo test app; command-line flags win over environment variables (set by the pod spec). */
export interface EchoServerConfig {
  host: string;
  /** HTTP/1.1 and h2c (prior knowledge) on the same port; 0 disables. */
  httpPort: number;
  /** Raw TCP echo; 0 disables. */
  tcpPort: number;
  /** gRPC service mesh.echo.v1.Echo (plaintext HTTP/2); 0 disables. */
  grpcPort: number;
  pod: string;
  namespace: string;
  version: string;
  serviceAccount: string;
  /** Fraction [0,1] of HTTP requests answered 503 at random, for retry tests. */
  failRatio: number;
}

export interface EchoClientConfig {
  /** HTTP target; empty when `grpc` is set. */
  url: string;
  /** gRPC target "host:port"; when set, calls mesh.echo.v1.Echo/Echo instead of HTTP GETs. */
  grpc?: string;
  /** gRPC request message. */
  message: string;
  count: number;
  concurrency: number;
  http2: boolean;
  keepAlive: boolean;
  timeoutMs: number;
  headers: Record<string, string>;
}

export const DEFAULT_HTTP_PORT = 8080;
export const DEFAULT_TCP_PORT = 9000;
export const DEFAULT_GRPC_PORT = 7070;
export const DEFAULT_CLIENT_TIMEOUT_MS = 5_000;
export const MAX_CLIENT_COUNT = 100_000;

export class EchoUsageError extends Error {
  readonly code = 'ECHO_USAGE';
}

/** `--k v` and `--k=v` pairs; bare flags become "true". */
export function parseFlags(argv: readonly string[]): Map<string, string[]> {
  const flags = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new EchoUsageError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    let key: string;
    let value: string;
    if (eq > 0) {
      key = arg.slice(2, eq);
      value = arg.slice(eq + 1);
    } else {
      key = arg.slice(2);
      const next = argv[i + 1];
      value = next !== undefined && !next.startsWith('--') ? (i++, next) : 'true';
    }
    flags.set(key, [...(flags.get(key) ?? []), value]);
  }
  return flags;
}

function num(flags: Map<string, string[]>, key: string, dflt: number, min: number, max: number): number {
  const raw = flags.get(key)?.at(-1);
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new EchoUsageError(`--${key} must be a number in [${min}, ${max}]`);
  return n;
}

function str(flags: Map<string, string[]>, key: string, dflt: string): string {
  return flags.get(key)?.at(-1) ?? dflt;
}

export function parseServerArgs(argv: readonly string[], env: NodeJS.ProcessEnv): EchoServerConfig {
  const flags = parseFlags(argv);
  return {
    host: str(flags, 'host', '0.0.0.0'),
    httpPort: num(flags, 'port', DEFAULT_HTTP_PORT, 0, 65535),
    tcpPort: num(flags, 'tcp-port', DEFAULT_TCP_PORT, 0, 65535),
    grpcPort: num(flags, 'grpc-port', DEFAULT_GRPC_PORT, 0, 65535),
    pod: str(flags, 'pod', env.POD_NAME ?? env.HOSTNAME ?? 'echo'),
    namespace: str(flags, 'namespace', env.POD_NAMESPACE ?? 'default'),
    version: str(flags, 'version', env.VERSION ?? 'v1'),
    serviceAccount: str(flags, 'service-account', env.SERVICE_ACCOUNT ?? 'default'),
    failRatio: num(flags, 'fail-ratio', 0, 0, 1),
  };
}

export function parseClientArgs(argv: readonly string[]): EchoClientConfig {
  const flags = parseFlags(argv);
  const url = flags.get('url')?.at(-1);
  const grpc = flags.get('grpc')?.at(-1);
  if (!url && !grpc) throw new EchoUsageError('client needs --url http://host:port/path or --grpc host:port');
  if (url && grpc) throw new EchoUsageError('client takes one of --url and --grpc, not both');
  if (grpc !== undefined && !/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d+$/.test(grpc)) {
    throw new EchoUsageError(`--grpc "${grpc}" must be host:port`);
  }
  const headers: Record<string, string> = {};
  for (const h of flags.get('header') ?? []) {
    const colon = h.indexOf(':');
    if (colon <= 0) throw new EchoUsageError(`--header "${h}" must be "name: value"`);
    headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
  }
  return {
    url: url ?? '',
    ...(grpc !== undefined ? { grpc } : {}),
    message: str(flags, 'message', 'hello'),
    count: num(flags, 'count', 1, 1, MAX_CLIENT_COUNT),
    concurrency: num(flags, 'concurrency', 1, 1, 1000),
    http2: str(flags, 'http2', 'false') === 'true',
    keepAlive: str(flags, 'keepalive', 'false') === 'true',
    timeoutMs: num(flags, 'timeout-ms', DEFAULT_CLIENT_TIMEOUT_MS, 1, 600_000),
    headers,
  };
}
