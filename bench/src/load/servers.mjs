/* global Buffer, process */
// Upstream servers for the server netns: an echo server (idle-connection test), a discard sink (bulk
// fallback without iperf3), and a tiny HTTP server (only when nginx is not installed).
// Usage: node servers.mjs <echoPort> <sinkPort> <httpPort|0> <bodyBytes>
import http from 'node:http';
import net from 'node:net';

const [echoPort, sinkPort, httpPort, bodyBytes] = process.argv.slice(2, 6).map(Number);
net.createServer((s) => {
  s.on('error', () => undefined);
  s.pipe(s);
}).listen(echoPort, '0.0.0.0');
net.createServer((s) => {
  s.on('error', () => undefined);
  s.resume();
}).listen(sinkPort, '0.0.0.0');
if (httpPort > 0) {
  const body = Buffer.alloc(bodyBytes, 'y');
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-length': body.length }).end(body));
  });
  server.keepAliveTimeout = 120_000;
  server.listen(httpPort, '0.0.0.0');
}
process.stdout.write('SERVERS READY\n');
