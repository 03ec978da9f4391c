import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { classify, sniff } from './sniff';

describe('classify', () => {
  it('recognises the HTTP/2 preface, HTTP/1 request lines and opaque bytes', () => {
    expect(classify(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'))).toBe('h2');
    expect(classify(Buffer.from('PRI * HT'))).toBe('more');
    expect(classify(Buffer.from('GET / HTTP/1.1\r\n'))).toBe('http1');
    expect(classify(Buffer.from('GE'))).toBe('more');
    expect(classify(Buffer.from([0x16, 0x03, 0x01]))).toBe('tcp');
    expect(classify(Buffer.from('hello world'))).toBe('tcp');
  });
});

describe('sniff', () => {
  it('puts the sniffed bytes back for the next reader', async () => {
    const s = new PassThrough();
    s.write('GE');
    setTimeout(() => s.write('T / HTTP/1.1\r\n\r\n'), 5);
    expect(await sniff(s)).toBe('http1');
    expect(String(s.read())).toBe('GET / HTTP/1.1\r\n\r\n');
  });

  it('falls back to tcp when the client stays silent', async () => {
    expect(await sniff(new PassThrough(), 20)).toBe('tcp');
  });
});
