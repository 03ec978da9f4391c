/* global Buffer */
// Minimal keep-alive HTTP/1.1 client connection: one request in flight, fixed request bytes, responses
// framed by Content-Length. Cheap enough that the load generator is not what is measured.
import net from 'node:net';

export function requestBytes(host, bodyBytes) {
  const body = 'x'.repeat(bodyBytes);
  return Buffer.from(`POST / HTTP/1.1\r\nHost: ${host}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
}

export class HttpConn {
  constructor(host, port, request, onResponse) {
    this.request = request;
    this.onResponse = onResponse;
    this.buf = Buffer.alloc(0);
    this.busy = false;
    this.socket = net.connect({ host, port, noDelay: true });
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
    this.socket.on('data', (d) => this.onData(d));
    this.socket.on('error', () => undefined);
  }

  send(tag) {
    this.busy = true;
    this.tag = tag;
    this.socket.write(this.request);
  }

  onData(d) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const m = /content-length:\s*(\d+)/i.exec(this.buf.subarray(0, end).toString('latin1'));
      const total = end + 4 + (m ? Number(m[1]) : 0);
      if (this.buf.length < total) return;
      this.buf = this.buf.subarray(total);
      this.busy = false;
      this.onResponse(this, this.tag);
    }
  }

  close() {
    this.socket.destroy();
  }
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
