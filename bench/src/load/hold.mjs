/* global process */
// Opens `count` connections, proves each is tunnelled end to end with a one-byte echo, prints READY with
// the count, then holds them idle until stdin closes or it is killed.
// Usage: node hold.mjs <host> <port> <count>
import net from 'node:net';

const [host, port, count] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const sockets = [];
let echoed = 0;
const BATCH = 50;

function one() {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    sockets.push(s);
    s.on('error', () => resolve());
    s.once('connect', () => s.write('x'));
    s.once('data', () => {
      echoed++;
      resolve();
    });
  });
}

for (let i = 0; i < count; i += BATCH) await Promise.all(Array.from({ length: Math.min(BATCH, count - i) }, one));
process.stdout.write(`READY ${echoed}\n`);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
