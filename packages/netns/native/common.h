/* Shared helpers for the mesh_netns addon: argument parsing and errno-named JS errors. */
#ifndef MESH_NETNS_COMMON_H
#define MESH_NETNS_COMMON_H

#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define MAX_ARGS 4

/* Bail out of a napi callback when a napi call fails; a JS exception is then pending. */
#define NAPI_OK(env, call)                                   \
  do {                                                       \
    if ((call) != napi_ok) return throw_napi_failure(env);   \
  } while (0)

/* Throws Error{code: <errno name>, syscall: op}, message "<op> failed: <ENAME> (<strerror>) — <hint>". */
napi_value throw_errno(napi_env env, int err, const char *op, const char *hint);
/* The same Error, returned instead of thrown (NULL if it could not be built). */
napi_value make_errno_error(napi_env env, int err, const char *op, const char *hint);
const char *errno_name(int err);
/* Throws a plain Error with the given code (used for argument validation, code 'EINVAL'). */
napi_value throw_code(napi_env env, const char *code, const char *msg);
/* Makes sure a JS exception is pending after a failed napi_* call. */
napi_value throw_napi_failure(napi_env env);

/*
 * Calls a JS callback from a libuv callback: make_callback runs microtasks (promise continuations) and
 * keeps the async_hooks context; an uncaught error goes to the process, as for any event-loop callback.
 * Returns false when the callback threw or could not run (e.g. a worker being terminated).
 */
bool make_callback_or_fatal(napi_env env, napi_async_context async, napi_value recv, napi_value cb, size_t argc,
                            const napi_value *argv);

/* Argument helpers: return false with a pending JS exception on bad input. */
bool get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv);
bool arg_fd(napi_env env, napi_value v, const char *name, int *out);
bool arg_int32(napi_env env, napi_value v, const char *name, int32_t *out);
bool arg_uint32(napi_env env, napi_value v, const char *name, uint32_t *out);
/* Copies a JS string into a freshly malloc'ed buffer; caller frees. */
bool arg_string(napi_env env, napi_value v, const char *name, char **out);
bool is_nullish(napi_env env, napi_value v);

/* Optional properties of an options object; *present reports whether the property was set. */
bool opt_int32(napi_env env, napi_value obj, const char *key, int32_t *out, bool *present);
bool opt_uint32(napi_env env, napi_value obj, const char *key, uint32_t *out, bool *present);
bool opt_bool(napi_env env, napi_value obj, const char *key, bool *out);
bool opt_string(napi_env env, napi_value obj, const char *key, char **out);

napi_value make_int32(napi_env env, int32_t v);
napi_value make_bool(napi_env env, bool v);
napi_value make_undefined(napi_env env);
napi_value make_null(napi_env env);

/* {address, port, family: 4|6} for an AF_INET / AF_INET6 sockaddr. */
napi_value make_sockaddr(napi_env env, const struct sockaddr_storage *ss);
/* Parses host/port for the family (4 or 6) into ss; returns false (with a JS exception) on bad input. */
bool parse_sockaddr(napi_env env, int family, const char *host, uint32_t port,
                    struct sockaddr_storage *ss, socklen_t *len);

/* TCP socket options shared by createSocketInNetns / listenInNetns / connectStart. */
typedef struct {
  int family; /* 4 or 6 */
  bool has_mark;
  uint32_t mark;
  bool reuseport;
  bool transparent;
  bool freebind;
  bool v6only;
} sock_opts;

/* Reads {family, type, mark, reuseport, transparent, freebind, v6only} from a JS object. */
bool parse_sock_opts(napi_env env, napi_value obj, sock_opts *o);
/* Applies the options to fd; on failure returns errno and names the failing call and a hint. */
int apply_sock_opts(int fd, const sock_opts *o, const char **op, const char **hint);
/* Address family of a socket fd (AF_INET/AF_INET6/...), or -1 with errno set. */
int socket_family(int fd);

/*
 * Creates a non-blocking, close-on-exec TCP socket (family 4 or 6) inside netns_fd, or in the current
 * netns when netns_fd < 0, without moving the calling thread. Returns the fd, or -1 with *err (errno),
 * *op (failing call) and *hint (what to check, may be NULL) set.
 */
int socket_in_netns(int netns_fd, int family, int *err, const char **op, const char **hint);

/* Module sections: each adds its functions to exports. */
bool init_netns(napi_env env, napi_value exports);
bool init_sockopt(napi_env env, napi_value exports);
bool init_seqpacket(napi_env env, napi_value exports);
bool init_poller(napi_env env, napi_value exports);
bool init_netns_async(napi_env env, napi_value exports);
bool export_fn(napi_env env, napi_value exports, const char *name, napi_callback cb);

#endif
