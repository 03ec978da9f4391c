export * from './iptables';
export * from './plugin';
