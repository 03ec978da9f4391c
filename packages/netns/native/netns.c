/*
 * Network-namespace operations. ztunnel (Z:src/inpod/netns.rs) creates the per-pod listeners and
 * upstream sockets inside a pod's netns; a socket keeps the netns it was created in, so only socket()
 * itself has to run there, and that happens on a helper thread (netns-socket.c): the JS main thread never
 * changes its network namespace. Options, bind, listen and connect then run here, on the caller's thread,
 * and act in the socket's own netns.
 */
#include "common.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/vfs.h>
#include <unistd.h>

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif
#define NS_GET_NSTYPE_IOCTL _IO(0xb7, 0x3)

#define HINT_NOT_NETNS "not a network namespace: expected /proc/<pid>/ns/net or /var/run/netns/<name>"

/* 1 = netns, 0 = not a netns, -1 = error (errno set). */
static int fd_is_netns(int fd) {
  struct statfs sfs;
  if (fstatfs(fd, &sfs) != 0) return -1;
  if ((unsigned long)sfs.f_type != (unsigned long)NSFS_MAGIC) return 0;
  int type = ioctl(fd, NS_GET_NSTYPE_IOCTL);
  if (type < 0) return errno == ENOTTY ? 0 : -1;
  return type == CLONE_NEWNET ? 1 : 0;
}

static napi_value js_open_netns(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  char *path = NULL;
  if (!get_args(env, info, 1, argv) || !arg_string(env, argv[0], "path", &path)) return NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    free(path);
    return throw_errno(env, err, "open(netns)", HINT_NOT_NETNS);
  }
  free(path);
  int is = fd_is_netns(fd);
  if (is != 1) {
    int err = is < 0 ? errno : EINVAL;
    close(fd);
    return throw_errno(env, err, "openNetns", HINT_NOT_NETNS);
  }
  return make_int32(env, fd);
}

static napi_value js_is_netns_fd(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (!get_args(env, info, 1, argv) || !arg_fd(env, argv[0], "fd", &fd)) return NULL;
  int is = fd_is_netns(fd);
  if (is < 0) return throw_errno(env, errno, "fstatfs", "is the fd open?");
  return make_bool(env, is == 1);
}

static napi_value js_close_fd(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (!get_args(env, info, 1, argv) || !arg_fd(env, argv[0], "fd", &fd)) return NULL;
  /* Linux always releases the fd, even when close() reports EINTR, so never retry. */
  if (close(fd) != 0 && errno != EINTR) return throw_errno(env, errno, "close", "was the fd already closed?");
  return make_undefined(env);
}

/* Duplicates an fd (close-on-exec), e.g. so a queued SCM_RIGHTS message owns the fds it will send. */
static napi_value js_dup_fd(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (!get_args(env, info, 1, argv) || !arg_fd(env, argv[0], "fd", &fd)) return NULL;
  int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return throw_errno(env, errno, "fcntl(F_DUPFD_CLOEXEC)", "is the fd open?");
  return make_int32(env, dup);
}

/* Socket in netns + options. Returns fd, or -1 with a pending JS exception. */
static int make_socket(napi_env env, int netns_fd, const sock_opts *o) {
  int err = 0;
  const char *op = NULL, *hint = NULL;
  int fd = socket_in_netns(netns_fd, o->family, &err, &op, &hint);
  if (fd < 0) {
    throw_errno(env, err, op, hint);
    return -1;
  }
  err = apply_sock_opts(fd, o, &op, &hint);
  if (err != 0) {
    close(fd);
    throw_errno(env, err, op, hint);
    return -1;
  }
  return fd;
}

/* First argument: a netns fd, or null/undefined for the current namespace. */
static bool arg_netns(napi_env env, napi_value v, int *out) {
  if (is_nullish(env, v)) {
    *out = -1;
    return true;
  }
  return arg_fd(env, v, "netnsFd", out);
}

static napi_value js_create_socket_in_netns(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int netns_fd;
  sock_opts o;
  if (!get_args(env, info, 2, argv) || !arg_netns(env, argv[0], &netns_fd)) return NULL;
  if (!parse_sock_opts(env, argv[1], &o)) return NULL;
  int fd = make_socket(env, netns_fd, &o);
  return fd < 0 ? NULL : make_int32(env, fd);
}

/* Binds fd to opts.host:opts.port (host defaults to the wildcard). */
static bool bind_from_opts(napi_env env, int fd, int family, napi_value obj, const char *host_key,
                           const char *port_key, bool required) {
  char *host = NULL;
  uint32_t port = 0;
  bool has_port = false;
  if (!opt_string(env, obj, host_key, &host) || !opt_uint32(env, obj, port_key, &port, &has_port)) {
    free(host);
    return false;
  }
  if (!required && host == NULL && !has_port) return true;
  struct sockaddr_storage ss;
  socklen_t len;
  const char *h = host != NULL ? host : (family == 6 ? "::" : "0.0.0.0");
  bool ok = parse_sockaddr(env, family, h, port, &ss, &len);
  free(host);
  if (!ok) return false;
  /*
   * A client bind to port 0 (ztunnel's spoofed source address): let connect() pick the port by the full
   * 4-tuple. bind() alone must find a port free for every destination, a search through the bind hash
   * that grows with the TIME_WAIT sockets of short connections (Envoy does the same for upstream binds).
   * Best effort: without it (kernel < 4.2) bind picks the port as before.
   */
  if (!required && port == 0) {
    int one = 1;
    setsockopt(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  }
  if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
    throw_errno(env, errno, "bind", errno == EADDRNOTAVAIL ? "address not on an interface: set transparent or freebind"
                                                           : "is the port already in use without reuseport?");
    return false;
  }
  return true;
}

static napi_value js_listen_in_netns(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int netns_fd;
  sock_opts o;
  int32_t backlog = 511;
  bool has_backlog;
  if (!get_args(env, info, 2, argv) || !arg_netns(env, argv[0], &netns_fd)) return NULL;
  if (!parse_sock_opts(env, argv[1], &o) || !opt_int32(env, argv[1], "backlog", &backlog, &has_backlog)) return NULL;
  int fd = make_socket(env, netns_fd, &o);
  if (fd < 0) return NULL;
  if (!bind_from_opts(env, fd, o.family, argv[1], "host", "port", true)) {
    close(fd);
    return NULL;
  }
  if (listen(fd, backlog) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "listen", NULL);
  }
  return make_int32(env, fd);
}

/*
 * After EINPROGRESS: a connect to a local address (ztunnel's inbound connect to the app on the pod's own
 * IP) has usually finished by the time connect() returns, because loopback runs the handshake in the
 * same call. One zero-timeout poll() tells, saving the caller a poll handle, a timer and an event-loop
 * turn. Returns 0 with *pending set, or the connect's errno when it already failed (SO_ERROR).
 */
static int finished_connect_error(int fd, bool *pending) {
  struct pollfd p = {.fd = fd, .events = POLLOUT, .revents = 0};
  *pending = true;
  if (poll(&p, 1, 0) != 1 || (p.revents & (POLLOUT | POLLERR | POLLHUP)) == 0) return 0;
  int soerr = 0;
  socklen_t n = sizeof soerr;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &n) != 0) return errno;
  *pending = false;
  return soerr;
}

/*
 * Starts a non-blocking connect: options (SO_MARK, IP_TRANSPARENT, ...) on fd, optional bind to
 * {localHost, localPort} (a spoofed client address needs transparent), then connect(). Takes ownership
 * of fd (closed on failure). Returns {fd, pending}; when pending the caller waits for writability and
 * reads SO_ERROR (socketError) before handing the fd to Node, because net.Socket({fd}) expects a
 * connected socket.
 */
static napi_value connect_fd(napi_env env, napi_value opts, const sock_opts *o, int fd,
                             const struct sockaddr_storage *ss, socklen_t len) {
  const char *op = NULL, *hint = NULL;
  int err = apply_sock_opts(fd, o, &op, &hint);
  if (err != 0) {
    close(fd);
    return throw_errno(env, err, op, hint);
  }
  if (!bind_from_opts(env, fd, o->family, opts, "localHost", "localPort", false)) {
    close(fd);
    return NULL;
  }
  bool pending = false;
  if (connect(fd, (const struct sockaddr *)ss, len) != 0) {
    err = errno == EINPROGRESS ? finished_connect_error(fd, &pending) : errno;
    if (err != 0) {
      close(fd);
      return throw_errno(env, err, "connect", "is the destination reachable from this network namespace?");
    }
  }
  napi_value result;
  NAPI_OK(env, napi_create_object(env, &result));
  NAPI_OK(env, napi_set_named_property(env, result, "fd", make_int32(env, fd)));
  NAPI_OK(env, napi_set_named_property(env, result, "pending", make_bool(env, pending)));
  return result;
}

/* Parses the connect options: socket options plus the destination {host, port}. */
static bool parse_connect_opts(napi_env env, napi_value opts, sock_opts *o, struct sockaddr_storage *ss,
                               socklen_t *len) {
  char *host = NULL;
  uint32_t port = 0;
  bool has_port;
  if (!parse_sock_opts(env, opts, o) || !opt_string(env, opts, "host", &host)) return false;
  if (!opt_uint32(env, opts, "port", &port, &has_port) || host == NULL || !has_port) {
    free(host);
    throw_code(env, "EINVAL", "connectInNetns needs options.host and options.port");
    return false;
  }
  bool ok = parse_sockaddr(env, o->family, host, port, ss, len);
  free(host);
  return ok;
}

/* connectStart(netnsFd | null, opts): a new socket in the netns, then connect_fd. */
static napi_value js_connect_start(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int netns_fd;
  sock_opts o;
  struct sockaddr_storage ss;
  socklen_t len;
  if (!get_args(env, info, 2, argv) || !arg_netns(env, argv[0], &netns_fd)) return NULL;
  if (!parse_connect_opts(env, argv[1], &o, &ss, &len)) return NULL;
  int err = 0;
  const char *op = NULL, *hint = NULL;
  int fd = socket_in_netns(netns_fd, o.family, &err, &op, &hint);
  if (fd < 0) return throw_errno(env, err, op, hint);
  return connect_fd(env, argv[1], &o, fd, &ss, len);
}

/*
 * connectFdStart(fd, opts): connect_fd on a socket made earlier (socketsInNetnsAsync); the socket's own
 * netns applies. Takes ownership of fd, also when the options are invalid.
 */
static napi_value js_connect_fd_start(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  sock_opts o;
  struct sockaddr_storage ss;
  socklen_t len;
  if (!get_args(env, info, 2, argv) || !arg_fd(env, argv[0], "fd", &fd)) return NULL;
  if (!parse_connect_opts(env, argv[1], &o, &ss, &len)) {
    close(fd);
    return NULL;
  }
  int family = socket_family(fd);
  if (family != (o.family == 6 ? AF_INET6 : AF_INET)) {
    int err = family < 0 ? errno : EAFNOSUPPORT;
    close(fd);
    return throw_errno(env, err, "connectFdStart", "options.family must match the socket's family");
  }
  return connect_fd(env, argv[1], &o, fd, &ss, len);
}

bool init_netns(napi_env env, napi_value exports) {
  return export_fn(env, exports, "openNetns", js_open_netns) &&
         export_fn(env, exports, "isNetnsFd", js_is_netns_fd) &&
         export_fn(env, exports, "closeFd", js_close_fd) && export_fn(env, exports, "dupFd", js_dup_fd) &&
         export_fn(env, exports, "createSocketInNetns", js_create_socket_in_netns) &&
         export_fn(env, exports, "listenInNetns", js_listen_in_netns) &&
         export_fn(env, exports, "connectStart", js_connect_start) &&
         export_fn(env, exports, "connectFdStart", js_connect_fd_start);
}
