import { describe, expect, it } from 'vitest';
import { parseCidr, parseIp } from './ip';

describe('parseIp', () => {
  it('parses IPv4 and IPv6 forms into raw bytes', () => {
    expect([...parseIp('10.1.2.3')!]).toEqual([10, 1, 2, 3]);
    expect([...parseIp('::1')!]).toEqual([...new Array(15).fill(0), 1]);
    expect([...parseIp('fd00:1::2')!]).toEqual([0xfd, 0, 0, 1, ...new Array(10).fill(0), 0, 2]);
    expect([...parseIp('::ffff:10.0.0.1')!]).toEqual([...new Array(10).fill(0), 0xff, 0xff, 10, 0, 0, 1]);
    expect([...parseIp('1:2:3:4:5:6:7:8')!]).toEqual([0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]);
  });
  it('rejects non-IPs', () => {
    for (const s of ['', 'a.b.c.d', '256.1.1.1', '1::2::3', 'fe80::1%eth0', 'example.com']) expect(parseIp(s)).toBeUndefined();
  });
  it('parses CIDRs with masking and host prefixes for bare IPs', () => {
    expect(parseCidr('10.1.2.3/8')).toEqual({ address: Uint8Array.from([10, 0, 0, 0]), length: 8 });
    expect(parseCidr('10.1.2.3')).toEqual({ address: Uint8Array.from([10, 1, 2, 3]), length: 32 });
    expect(parseCidr('10.1.2.3/33')).toBeUndefined();
    expect(parseCidr('fd00::/8')?.length).toBe(8);
  });
});
