import { BlockList, isIP } from 'node:net';

/**
 * CIDR / single-address sets (ipBlocks, remoteIpBlocks, source.ip conditions). Invalid entries are
 * reported and skipped, so they can only ever match less.
 */
export function compileIpSet(entries: readonly string[], problems: string[]): (ip: string | undefined) => boolean {
  const list = new BlockList();
  let any = false;
  for (const e of entries) {
    const [addr, len] = e.split('/');
    const fam = isIP(addr ?? '');
    if (fam === 0) {
      problems.push(`invalid IP block ${JSON.stringify(e)}`);
      continue;
    }
    const type = fam === 4 ? 'ipv4' : 'ipv6';
    if (len === undefined) {
      list.addAddress(addr!, type);
    } else {
      const n = Number(len);
      if (!Number.isInteger(n) || n < 0 || n > (fam === 4 ? 32 : 128)) {
        problems.push(`invalid prefix length in IP block ${JSON.stringify(e)}`);
        continue;
      }
      list.addSubnet(addr!, n, type);
    }
    any = true;
  }
  if (!any) return () => false;
  return (ip) => {
    if (ip === undefined) return false;
    const fam = isIP(ip);
    if (fam === 0) return false;
    return list.check(ip, fam === 4 ? 'ipv4' : 'ipv6');
  };
}
