/*
 * Socket options ztunnel relies on (Z:src/inpod/config.rs, Z:src/socket.rs): SO_MARK (1337 marks
 * "from ztunnel" for the in-pod iptables rules), SO_REUSEPORT (old and new ztunnel overlap during
 * upgrades), IP_TRANSPARENT / IP_FREEBIND (bind a spoofed client address), and SO_ORIGINAL_DST to
 * recover the destination of a connection redirected by iptables REDIRECT.
 */
#include "common.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* From linux/netfilter_ipv4.h and linux/netfilter_ipv6/ip6_tables.h (not includable beside netinet). */
#define MESH_SO_ORIGINAL_DST 80
#define MESH_IP6T_SO_ORIGINAL_DST 80
#ifndef IPV6_TRANSPARENT
#define IPV6_TRANSPARENT 75
#endif
#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78
#endif

#define HINT_NET_ADMIN "needs CAP_NET_ADMIN"

int socket_family(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return -1;
  return ss.ss_family;
}

static int set_int(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof value) == 0 ? 0 : errno;
}

/* IP_TRANSPARENT / IPV6_TRANSPARENT and IP_FREEBIND / IPV6_FREEBIND depend on the socket family. */
static int set_family_opt(int fd, int v4_name, int v6_name) {
  int family = socket_family(fd);
  if (family < 0) return errno;
  if (family == AF_INET6) return set_int(fd, SOL_IPV6, v6_name, 1);
  if (family == AF_INET) return set_int(fd, SOL_IP, v4_name, 1);
  return EAFNOSUPPORT;
}

bool parse_sock_opts(napi_env env, napi_value obj, sock_opts *o) {
  int32_t family = 4;
  bool has_family;
  char *type = NULL;
  memset(o, 0, sizeof *o);
  if (!opt_int32(env, obj, "family", &family, &has_family) || !opt_string(env, obj, "type", &type)) return false;
  bool tcp = type == NULL || strcmp(type, "tcp") == 0;
  free(type);
  if (!tcp) return throw_code(env, "EINVAL", "options.type must be 'tcp'") != NULL;
  if (family != 4 && family != 6) return throw_code(env, "EINVAL", "options.family must be 4 or 6") != NULL;
  o->family = family;
  return opt_uint32(env, obj, "mark", &o->mark, &o->has_mark) && opt_bool(env, obj, "reuseport", &o->reuseport) &&
         opt_bool(env, obj, "transparent", &o->transparent) && opt_bool(env, obj, "freebind", &o->freebind) &&
         opt_bool(env, obj, "v6only", &o->v6only);
}

int apply_sock_opts(int fd, const sock_opts *o, const char **op, const char **hint) {
  int err = 0;
  *hint = HINT_NET_ADMIN;
  if (o->has_mark && (err = set_int(fd, SOL_SOCKET, SO_MARK, (int)o->mark)) != 0) *op = "setsockopt(SO_MARK)";
  else if (o->reuseport && (err = set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1)) != 0) *op = "setsockopt(SO_REUSEPORT)";
  else if (o->transparent && (err = set_family_opt(fd, IP_TRANSPARENT, IPV6_TRANSPARENT)) != 0)
    *op = "setsockopt(IP_TRANSPARENT)";
  else if (o->freebind && (err = set_family_opt(fd, IP_FREEBIND, IPV6_FREEBIND)) != 0) *op = "setsockopt(IP_FREEBIND)";
  /* v6only unset keeps the kernel default (net.ipv6.bindv6only, normally dual-stack). */
  else if (o->v6only && o->family == 6 && (err = set_int(fd, SOL_IPV6, IPV6_V6ONLY, 1)) != 0)
    *op = "setsockopt(IPV6_V6ONLY)";
  /* Node's listeners set SO_REUSEADDR too; without it a restarted ztunnel could not rebind in TIME_WAIT. */
  else if ((err = set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1)) != 0) *op = "setsockopt(SO_REUSEADDR)";
  return err;
}

typedef int (*fd_setter)(int fd, uint32_t value);

static int do_set_mark(int fd, uint32_t v) { return set_int(fd, SOL_SOCKET, SO_MARK, (int)v); }
static int do_set_reuseport(int fd, uint32_t v) { return set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1); }
static int do_set_transparent(int fd, uint32_t v) { return set_family_opt(fd, IP_TRANSPARENT, IPV6_TRANSPARENT); }
static int do_set_freebind(int fd, uint32_t v) { return set_family_opt(fd, IP_FREEBIND, IPV6_FREEBIND); }

static napi_value run_setter(napi_env env, napi_callback_info info, fd_setter fn, const char *op, bool has_value) {
  napi_value argv[2];
  int fd;
  uint32_t value = 0;
  if (!get_args(env, info, 2, argv) || !arg_fd(env, argv[0], "fd", &fd)) return NULL;
  if (has_value && !arg_uint32(env, argv[1], "value", &value)) return NULL;
  int err = fn(fd, value);
  if (err != 0) return throw_errno(env, err, op, err == EPERM ? HINT_NET_ADMIN : "is the fd an IP socket?");
  return make_undefined(env);
}

static napi_value js_set_mark(napi_env env, napi_callback_info info) {
  return run_setter(env, info, do_set_mark, "setsockopt(SO_MARK)", true);
}
static napi_value js_set_reuseport(napi_env env, napi_callback_info info) {
  return run_setter(env, info, do_set_reuseport, "setsockopt(SO_REUSEPORT)", false);
}
static napi_value js_set_transparent(napi_env env, napi_callback_info info) {
  return run_setter(env, info, do_set_transparent, "setsockopt(IP_TRANSPARENT)", false);
}
static napi_value js_set_freebind(napi_env env, napi_callback_info info) {
  return run_setter(env, info, do_set_freebind, "setsockopt(IP_FREEBIND)", false);
}

static bool get_int_opt(napi_env env, napi_callback_info info, int level, int name, const char *op, int *out) {
  napi_value argv[1];
  int fd;
  socklen_t len = sizeof *out;
  if (!get_args(env, info, 1, argv) || !arg_fd(env, argv[0], "fd", &fd)) return false;
  if (getsockopt(fd, level, name, out, &len) != 0) {
    throw_errno(env, errno, op, "is the fd a socket?");
    return false;
  }
  return true;
}

static napi_value js_get_mark(napi_env env, napi_callback_info info) {
  int mark = 0;
  if (!get_int_opt(env, info, SOL_SOCKET, SO_MARK, "getsockopt(SO_MARK)", &mark)) return NULL;
  napi_value r;
  NAPI_OK(env, napi_create_uint32(env, (uint32_t)mark, &r));
  return r;
}

/* Pending error of a socket (SO_ERROR): null when none, else the errno name; reading clears it. */
static napi_value js_socket_error(napi_env env, napi_callback_info info) {
  int err = 0;
  if (!get_int_opt(env, info, SOL_SOCKET, SO_ERROR, "getsockopt(SO_ERROR)", &err)) return NULL;
  if (err == 0) return make_null(env);
  napi_value r;
  NAPI_OK(env, napi_create_string_utf8(env, errno_name(err), NAPI_AUTO_LENGTH, &r));
  return r;
}

/*
 * The address a REDIRECTed connection was originally sent to. A dual-stack IPv6 listener sees IPv4
 * clients as v4-mapped addresses; conntrack recorded those as IPv4, so ask the IPv4 table then.
 */
static napi_value js_get_original_dst(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  struct sockaddr_storage local, orig;
  socklen_t len = sizeof local;
  if (!get_args(env, info, 1, argv) || !arg_fd(env, argv[0], "fd", &fd)) return NULL;
  if (getsockname(fd, (struct sockaddr *)&local, &len) != 0) return throw_errno(env, errno, "getsockname", NULL);
  bool v6 = local.ss_family == AF_INET6 &&
            !IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)&local)->sin6_addr);
  memset(&orig, 0, sizeof orig);
  len = sizeof orig;
  int rc = v6 ? getsockopt(fd, SOL_IPV6, MESH_IP6T_SO_ORIGINAL_DST, &orig, &len)
              : getsockopt(fd, SOL_IP, MESH_SO_ORIGINAL_DST, &orig, &len);
  if (rc != 0) {
    return throw_errno(env, errno, v6 ? "getsockopt(IP6T_SO_ORIGINAL_DST)" : "getsockopt(SO_ORIGINAL_DST)",
                       "was the connection redirected by iptables (nf_conntrack loaded) and is it still open?");
  }
  return make_sockaddr(env, &orig);
}

static napi_value js_get_local_address(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (!get_args(env, info, 1, argv) || !arg_fd(env, argv[0], "fd", &fd)) return NULL;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return throw_errno(env, errno, "getsockname", NULL);
  return make_sockaddr(env, &ss);
}

bool init_sockopt(napi_env env, napi_value exports) {
  return export_fn(env, exports, "setMark", js_set_mark) && export_fn(env, exports, "getMark", js_get_mark) &&
         export_fn(env, exports, "setReusePort", js_set_reuseport) &&
         export_fn(env, exports, "setTransparent", js_set_transparent) &&
         export_fn(env, exports, "setFreebind", js_set_freebind) &&
         export_fn(env, exports, "socketError", js_socket_error) &&
         export_fn(env, exports, "getOriginalDst", js_get_original_dst) &&
         export_fn(env, exports, "getLocalAddress", js_get_local_address);
}
