/**
 * @mesh/netns: the Linux-only native pieces of the data plane (Z:src/inpod/*, Z:src/socket.rs):
 * sockets inside a pod network namespace, SO_MARK / SO_REUSEPORT / IP_TRANSPARENT / IP_FREEBIND,
 * SO_ORIGINAL_DST, and SOCK_SEQPACKET + SCM_RIGHTS for ZDS. The addon loads on first use.
 */
export { ADDON_FILE_NAME, loadAddon, POLL_READABLE, POLL_WRITABLE } from './addon';
export type { NativeAddon, NativeFdPoller } from './addon';
export { errnoError, isErrnoError, NetnsAddonMissingError, NetnsError } from './errors';
export type { ErrnoError } from './errors';
export {
  closeFd,
  createSocketInNetns,
  dupFd,
  isNetnsFd,
  listenInNetns,
  netnsInode,
  openNetns,
} from './netns';
export type { ListenOptions, SocketOptions } from './netns';
export {
  fdOf,
  getLocalAddress,
  getMark,
  getOriginalDst,
  setFreebind,
  setMark,
  setReusePort,
  setTransparent,
} from './sockopt';
export type { SockAddr } from './sockopt';
export { CONNECT_TIMEOUT_MS, connectFd, connectInNetns, connectSocketInNetns } from './connect';
export {
  NetnsSocketPool,
  NetnsSocketPoolClosedError,
  SOCKET_POOL_BATCH,
  SOCKET_POOL_MAX_BATCH,
  type NetnsSocketPoolOptions,
} from './socket-pool';
export type { ConnectOptions } from './connect';
export { serverFromFd, socketFromFd, type SocketFromFdOptions } from './net-fd';
export {
  DEFAULT_MAX_MESSAGE_BYTES,
  SeqpacketServer,
  SeqpacketSocket,
} from './seqpacket';
export type {
  SeqpacketMessage,
  SeqpacketServerEvents,
  SeqpacketServerOptions,
  SeqpacketSocketEvents,
  SeqpacketSocketOptions,
} from './seqpacket';
