/**
 * Istio resolves a short host in a VirtualService/DestinationRule relative to the resource's
 * namespace: "reviews" -> reviews.<ns>.svc.<suffix>; "reviews.other" -> reviews.other.svc.<suffix>;
 * "reviews.other.svc" -> reviews.other.svc.<suffix>. Names with more dots, IPs and wildcards are
 * taken as written (lower-cased).
 */
export function resolveHost(host: string, namespace: string, domainSuffix: string): string {
  const h = host.toLowerCase();
  if (h === '*' || h.startsWith('*.')) return h;
  const parts = h.split('.');
  if (parts.length === 1) return `${h}.${namespace}.svc.${domainSuffix}`;
  if (parts.length === 2) return `${h}.svc.${domainSuffix}`;
  if (parts.length === 3 && parts[2] === 'svc') return `${h}.${domainSuffix}`;
  return h;
}

/** True when a (resolved) VirtualService host, possibly a wildcard, covers the service FQDN. */
export function hostMatches(pattern: string, fqdn: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return fqdn.endsWith(pattern.slice(1));
  return pattern === fqdn.toLowerCase();
}
