import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GrpcMessageCounter, isGrpcContentType } from './grpc-messages';

function frame(payload: Uint8Array, compressed: boolean): Buffer {
  const prefix = Buffer.alloc(5);
  prefix[0] = compressed ? 1 : 0;
  prefix.writeUInt32BE(payload.length, 1);
  return Buffer.concat([prefix, payload]);
}

/** Feeds `bytes` to `c` as chunks of the given sizes (0 = an empty chunk), then whatever is left as one chunk. */
function feed(c: GrpcMessageCounter, bytes: Buffer, sizes: number[]): void {
  let at = 0;
  for (const n of sizes) {
    c.push(bytes.subarray(at, at + n));
    at += n;
  }
  c.push(bytes.subarray(at));
}

const messages = fc.array(fc.record({ payload: fc.uint8Array({ maxLength: 300 }), compressed: fc.boolean() }), { maxLength: 20 });
// Streams are up to ~6 KB: 30 chunks of up to 400 bytes reach every split point of most of them.
const chunkSizes = fc.array(fc.nat({ max: 400 }), { maxLength: 30 });

describe('GrpcMessageCounter', () => {
  it('counts N for a stream of N messages, however the bytes are split into chunks', () => {
    fc.assert(
      fc.property(messages, chunkSizes, (ms, sizes) => {
        const stream = Buffer.concat(ms.map((m) => frame(m.payload, m.compressed)));
        const c = new GrpcMessageCounter();
        feed(c, stream, sizes);
        expect(c.count).toBe(ms.length);
      }),
    );
  });

  it('counts the same byte by byte as in one chunk', () => {
    const stream = Buffer.concat([frame(Buffer.alloc(0), false), frame(Buffer.from('hello'), true), frame(Buffer.alloc(70_000, 7), false)]);
    const c = new GrpcMessageCounter();
    for (const b of stream) c.push(Uint8Array.of(b));
    expect(c.count).toBe(3);
  });

  it('counts a message cut mid-payload or mid-prefix (a reset stream) once its flag byte passed', () => {
    const stream = Buffer.concat([frame(Buffer.from('one'), false), frame(Buffer.from('two'), false)]);
    for (let end = 0; end <= stream.length; end++) {
      const c = new GrpcMessageCounter();
      c.push(stream.subarray(0, end));
      expect(c.count).toBe(end === 0 ? 0 : end <= 8 ? 1 : 2);
    }
  });

  it('stops counting at a malformed prefix and keeps what it counted', () => {
    const c = new GrpcMessageCounter();
    c.push(frame(Buffer.from('ok'), false));
    c.push(Buffer.from([7, 0, 0, 0, 0]));
    c.push(frame(Buffer.from('after'), false));
    expect(c.count).toBe(1);
  });

  it('never throws on random bytes and never counts more messages than flag bytes could start', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (chunks) => {
        const c = new GrpcMessageCounter();
        for (const chunk of chunks) c.push(chunk);
        const total = chunks.reduce((n, b) => n + b.length, 0);
        expect(c.count).toBeGreaterThanOrEqual(0);
        expect(c.count).toBeLessThanOrEqual(Math.ceil(total / 5));
      }),
    );
  });
});

describe('isGrpcContentType', () => {
  it('accepts application/grpc and its +proto/+json/parameter variants, not grpc-web or others', () => {
    for (const ct of ['application/grpc', 'application/grpc+proto', 'application/grpc+json', 'application/grpc; charset=utf-8']) expect(isGrpcContentType(ct)).toBe(true);
    for (const ct of ['application/grpc-web', 'application/grpc-web+proto', 'application/json', '', undefined, ['application/grpc']]) expect(isGrpcContentType(ct)).toBe(false);
  });
});
