export * from './iptables';
