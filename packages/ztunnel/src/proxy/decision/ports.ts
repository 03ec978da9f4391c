// ztunnel's in-pod ports (Z:src/config.rs). Traffic to loopback (or the pod itself) on one of them would loop
// back into ztunnel, so they form `illegal_ports`.
export const ZTUNNEL_OUTBOUND_PORT = 15001;
export const ZTUNNEL_INBOUND_PLAINTEXT_PORT = 15006;
export const HBONE_PORT = 15008;
export const ILLEGAL_PORTS: ReadonlySet<number> = new Set([ZTUNNEL_OUTBOUND_PORT, ZTUNNEL_INBOUND_PLAINTEXT_PORT, HBONE_PORT]);
