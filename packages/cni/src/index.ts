export * from './iptables';
export * from './plugin';
export * from './zds';
export * from './nodeagent';
export * from './install';
