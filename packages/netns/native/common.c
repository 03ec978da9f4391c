#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *errno_name(int err) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char *name = strerrorname_np(err);
  if (name != NULL) return name;
#endif
  switch (err) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case EACCES: return "EACCES";
    case EAGAIN: return "EAGAIN";
    case EADDRINUSE: return "EADDRINUSE";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EMSGSIZE: return "EMSGSIZE";
    default: return "EUNKNOWN";
  }
}

static bool set_prop_str(napi_env env, napi_value obj, const char *key, const char *val) {
  napi_value v;
  if (napi_create_string_utf8(env, val, NAPI_AUTO_LENGTH, &v) != napi_ok) return false;
  return napi_set_named_property(env, obj, key, v) == napi_ok;
}

napi_value throw_code(napi_env env, const char *code, const char *msg) {
  napi_throw_error(env, code, msg);
  return NULL;
}

napi_value make_errno_error(napi_env env, int err, const char *op, const char *hint) {
  char msg[512];
  const char *name = errno_name(err);
  snprintf(msg, sizeof msg, "%s failed: %s (%s)%s%s", op, name, strerror(err),
           hint != NULL ? " — " : "", hint != NULL ? hint : "");
  napi_value jmsg, error, errnum;
  if (napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &jmsg) != napi_ok ||
      napi_create_error(env, NULL, jmsg, &error) != napi_ok) {
    return NULL;
  }
  set_prop_str(env, error, "code", name);
  set_prop_str(env, error, "syscall", op);
  if (napi_create_int32(env, err, &errnum) == napi_ok) {
    napi_set_named_property(env, error, "errno", errnum);
  }
  return error;
}

napi_value throw_errno(napi_env env, int err, const char *op, const char *hint) {
  napi_value error = make_errno_error(env, err, op, hint);
  if (error == NULL) return throw_code(env, errno_name(err), op);
  napi_throw(env, error);
  return NULL;
}

napi_value throw_napi_failure(napi_env env) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) {
    const napi_extended_error_info *info = NULL;
    napi_get_last_error_info(env, &info);
    const char *why = info != NULL && info->error_message != NULL ? info->error_message : "unknown";
    char msg[256];
    snprintf(msg, sizeof msg, "mesh_netns internal N-API failure: %s", why);
    napi_throw_error(env, "ENAPI", msg);
  }
  return NULL;
}

bool get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    throw_napi_failure(env);
    return false;
  }
  /* Missing trailing arguments read as undefined. */
  for (size_t i = argc; i < want; i++) napi_get_undefined(env, &argv[i]);
  return true;
}

static bool type_error(napi_env env, const char *name, const char *expected) {
  char msg[200];
  snprintf(msg, sizeof msg, "argument '%s' must be %s", name, expected);
  throw_code(env, "EINVAL", msg);
  return false;
}

bool arg_int32(napi_env env, napi_value v, const char *name, int32_t *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) return type_error(env, name, "a number");
  double d;
  napi_get_value_double(env, v, &d);
  /* Range check first: casting NaN or an out-of-range double to an integer is undefined behaviour. */
  if (!(d >= -2147483648.0 && d <= 2147483647.0) || d != (double)(int32_t)d) {
    return type_error(env, name, "a 32-bit integer");
  }
  *out = (int32_t)d;
  return true;
}

bool arg_uint32(napi_env env, napi_value v, const char *name, uint32_t *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) return type_error(env, name, "a number");
  double d;
  napi_get_value_double(env, v, &d);
  if (!(d >= 0 && d <= 4294967295.0) || d != (double)(uint32_t)d) {
    return type_error(env, name, "an unsigned 32-bit integer");
  }
  *out = (uint32_t)d;
  return true;
}

bool arg_fd(napi_env env, napi_value v, const char *name, int *out) {
  int32_t fd;
  if (!arg_int32(env, v, name, &fd)) return false;
  if (fd < 0) return type_error(env, name, "a non-negative file descriptor");
  *out = fd;
  return true;
}

bool arg_string(napi_env env, napi_value v, const char *name, char **out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_string) return type_error(env, name, "a string");
  size_t len = 0;
  napi_get_value_string_utf8(env, v, NULL, 0, &len);
  char *buf = malloc(len + 1);
  if (buf == NULL) {
    throw_errno(env, ENOMEM, "malloc", NULL);
    return false;
  }
  napi_get_value_string_utf8(env, v, buf, len + 1, &len);
  if (strlen(buf) != len) {
    free(buf);
    return type_error(env, name, "a string without NUL bytes");
  }
  *out = buf;
  return true;
}

bool is_nullish(napi_env env, napi_value v) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return true;
  return t == napi_undefined || t == napi_null;
}

/* Reads obj[key]; *val stays NULL when obj is nullish or the property is nullish. */
static bool get_opt(napi_env env, napi_value obj, const char *key, napi_value *val) {
  *val = NULL;
  if (obj == NULL || is_nullish(env, obj)) return true;
  napi_valuetype t;
  napi_typeof(env, obj, &t);
  if (t != napi_object) return type_error(env, "options", "an object");
  napi_value v;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok) {
    throw_napi_failure(env);
    return false;
  }
  if (!is_nullish(env, v)) *val = v;
  return true;
}

bool opt_int32(napi_env env, napi_value obj, const char *key, int32_t *out, bool *present) {
  napi_value v;
  *present = false;
  if (!get_opt(env, obj, key, &v)) return false;
  if (v == NULL) return true;
  *present = true;
  return arg_int32(env, v, key, out);
}

bool opt_uint32(napi_env env, napi_value obj, const char *key, uint32_t *out, bool *present) {
  napi_value v;
  *present = false;
  if (!get_opt(env, obj, key, &v)) return false;
  if (v == NULL) return true;
  *present = true;
  return arg_uint32(env, v, key, out);
}

bool opt_bool(napi_env env, napi_value obj, const char *key, bool *out) {
  napi_value v;
  if (!get_opt(env, obj, key, &v)) return false;
  if (v == NULL) return true;
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t != napi_boolean) return type_error(env, key, "a boolean");
  napi_get_value_bool(env, v, out);
  return true;
}

bool opt_string(napi_env env, napi_value obj, const char *key, char **out) {
  napi_value v;
  *out = NULL;
  if (!get_opt(env, obj, key, &v)) return false;
  if (v == NULL) return true;
  return arg_string(env, v, key, out);
}

napi_value make_int32(napi_env env, int32_t v) {
  napi_value r;
  NAPI_OK(env, napi_create_int32(env, v, &r));
  return r;
}

napi_value make_bool(napi_env env, bool v) {
  napi_value r;
  NAPI_OK(env, napi_get_boolean(env, v, &r));
  return r;
}

napi_value make_undefined(napi_env env) {
  napi_value r;
  NAPI_OK(env, napi_get_undefined(env, &r));
  return r;
}

napi_value make_null(napi_env env) {
  napi_value r;
  NAPI_OK(env, napi_get_null(env, &r));
  return r;
}

napi_value make_sockaddr(napi_env env, const struct sockaddr_storage *ss) {
  char host[INET6_ADDRSTRLEN] = "";
  int port = 0, family = 0;
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
    inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
    port = ntohs(sin->sin_port);
    family = 4;
  } else if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
    inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
    port = ntohs(sin6->sin6_port);
    family = 6;
  } else {
    return throw_code(env, "EAFNOSUPPORT", "socket address is neither IPv4 nor IPv6");
  }
  napi_value obj, addr;
  NAPI_OK(env, napi_create_object(env, &obj));
  NAPI_OK(env, napi_create_string_utf8(env, host, NAPI_AUTO_LENGTH, &addr));
  NAPI_OK(env, napi_set_named_property(env, obj, "address", addr));
  NAPI_OK(env, napi_set_named_property(env, obj, "port", make_int32(env, port)));
  NAPI_OK(env, napi_set_named_property(env, obj, "family", make_int32(env, family)));
  return obj;
}

bool parse_sockaddr(napi_env env, int family, const char *host, uint32_t port,
                    struct sockaddr_storage *ss, socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  if (port > 65535) return type_error(env, "port", "between 0 and 65535");
  if (family == 4) {
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) return type_error(env, "host", "an IPv4 address literal");
    *len = sizeof *sin;
    return true;
  }
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons((uint16_t)port);
  if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) return type_error(env, "host", "an IPv6 address literal");
  *len = sizeof *sin6;
  return true;
}

bool export_fn(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  if (napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn) != napi_ok) return false;
  return napi_set_named_property(env, exports, name, fn) == napi_ok;
}

bool make_callback_or_fatal(napi_env env, napi_async_context async, napi_value recv, napi_value cb, size_t argc,
                            const napi_value *argv) {
  napi_value result;
  if (napi_make_callback(env, async, recv, cb, argc, argv, &result) == napi_ok) return true;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
  }
  return false;
}
