/* global Buffer, process */
// Bulk sender (fallback when iperf3 is missing): `conns` connections write 128 KiB chunks as fast as the
// path accepts them for durationMs; the byte count is what the kernel accepted, so it runs slightly ahead
// of the receiver by the socket buffers. Usage: node bulk.mjs <host> <port> <durationMs> <conns>
import net from 'node:net';

const [host, port, durationMs, conns] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])];
const CHUNK = Buffer.alloc(128 * 1024, 'z');
let bytes = 0;
const start = Date.now();

function one() {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const pump = () => {
      while (Date.now() - start < durationMs) {
        bytes += CHUNK.length;
        if (!s.write(CHUNK)) return;
      }
      s.destroy();
      resolve();
    };
    s.on('connect', pump);
    s.on('drain', pump);
    s.on('error', () => resolve());
  });
}
await Promise.all(Array.from({ length: conns }, one));
const elapsedS = (Date.now() - start) / 1000;
process.stdout.write(`${JSON.stringify({ bytes, elapsedS, gbps: (bytes * 8) / elapsedS / 1e9 })}\n`);
