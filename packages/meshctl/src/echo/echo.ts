import { EchoUsageError, parseClientArgs, parseServerArgs } from './args';
import { runClient } from './client';
import { startEchoServer } from './server';

const USAGE = `usage:
  echo [server] [--port 8080] [--tcp-port 9000] [--grpc-port 7070] [--host 0.0.0.0] [--pod P] [--namespace N] [--version V]
                [--service-account SA] [--fail-ratio 0..1]
      HTTP/1.1 + h2c on --port (JSON about the request; /status/<code>, /delay/<ms>, ?echo_code=, x-echo-code),
      raw TCP echo on --tcp-port (a first line "hello" gets a JSON line about the caller),
      gRPC mesh.echo.v1.Echo/Echo on --grpc-port (JSON payloads; metadata x-echo-grpc-status: N answers status N).
      0 disables a port.
  echo client --url URL [--count N] [--concurrency C] [--http2] [--keepalive] [--timeout-ms MS]
              [--header "k: v"]...
  echo client --grpc HOST:PORT [--message M] [--count N] [--concurrency C] [--keepalive] [--timeout-ms MS]
              [--header "k: v"]...   (headers are sent as gRPC metadata)
      one JSON line per response, then a summary line (byVersion, byPod, byStatus; gRPC codes as grpc-N).
`;

/** Exit code: 0 ok, 1 client saw errors, 2 usage. The server runs until SIGTERM/SIGINT. */
export async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  try {
    if (first === '--help' || first === '-h' || first === 'help') {
      process.stdout.write(USAGE);
      return 0;
    }
    if (first === 'client') {
      const summary = await runClient(parseClientArgs(rest), (l) => process.stdout.write(JSON.stringify(l) + '\n'));
      return summary.errors > 0 ? 1 : 0;
    }
    const serverArgs = first === 'server' ? rest : argv;
    const cfg = parseServerArgs(serverArgs, process.env);
    const server = await startEchoServer(cfg);
    process.stdout.write(JSON.stringify({ msg: 'listening', httpPort: server.httpPort, tcpPort: server.tcpPort, grpcPort: server.grpcPort, pod: cfg.pod }) + '\n');
    await new Promise<void>((resolve) => {
      const stop = () => void server.close().then(resolve);
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    return 0;
  } catch (e) {
    if (e instanceof EchoUsageError) {
      process.stderr.write(`echo: ${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
}
