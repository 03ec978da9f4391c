/* global Buffer, process */
// New connections per second: `concurrency` loops, each opening a TCP connection, sending one HTTP/1.1
// request with Connection: close and reading the response to EOF. Prints one JSON line.
// Usage: node connrate.mjs <host> <port> <durationMs> <concurrency>
import net from 'node:net';

const [host, port, durationMs, concurrency] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])];
const REQUEST = Buffer.from(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
let done = 0;
let errors = 0;
const start = Date.now();
const deadline = start + durationMs;

function one() {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, noDelay: true });
    let ok = false;
    s.on('connect', () => s.write(REQUEST));
    s.on('data', (d) => {
      if (!ok && d.includes('HTTP/1.1 200')) ok = true;
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      if (ok) done++;
      else errors++;
      resolve();
    });
  });
}

async function loop() {
  while (Date.now() < deadline) await one();
}

await Promise.all(Array.from({ length: concurrency }, loop));
process.stdout.write(`${JSON.stringify({ connections: done, errors, elapsedMs: Date.now() - start })}\n`);
