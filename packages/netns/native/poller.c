/*
 * FdPoller: a libuv uv_poll_t around a non-blocking fd, calling back into JS on the loop thread when
 * the fd becomes readable/writable. This is the readiness mechanism for SEQPACKET sockets (ZDS) and
 * for the outbound connect handshake. No threads and no busy loops: epoll does the waiting.
 *
 * Lifetime: while the handle is open the poller holds a strong reference to its JS object, so it
 * cannot be collected mid-poll. close() stops polling synchronously (libuv removes the fd from epoll
 * at once, so the caller may close the fd right after) and the memory is freed after uv_close
 * completes and the JS object is gone. The poller never owns or closes the fd.
 */
#include "common.h"

#include <stdlib.h>
#include <uv.h>

typedef struct {
  uv_poll_t handle;
  napi_env env;
  napi_ref self;     /* strong while open, weak after close() */
  napi_ref callback; /* (status: string | null, events: number) => void */
  napi_async_context async;
  bool closing;
  bool handle_closed;
  bool js_finalized;
} poller_t;

static void poller_maybe_free(poller_t *p) {
  if (p->handle_closed && p->js_finalized) free(p);
}

static void on_handle_closed(uv_handle_t *h) {
  poller_t *p = (poller_t *)h->data;
  p->handle_closed = true;
  poller_maybe_free(p);
}

static void release_refs(napi_env env, poller_t *p) {
  if (p->callback != NULL) napi_delete_reference(env, p->callback);
  if (p->async != NULL) napi_async_destroy(env, p->async);
  if (p->self != NULL) napi_delete_reference(env, p->self);
  p->self = NULL;
  p->callback = NULL;
  p->async = NULL;
}

/* Only reachable after close(): open pollers hold a strong self reference. */
static void on_finalize(napi_env env, void *data, void *hint) {
  poller_t *p = data;
  release_refs(env, p);
  p->js_finalized = true;
  poller_maybe_free(p);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  poller_t *p = (poller_t *)h->data;
  if (p->closing) return;
  napi_env env = p->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value self, cb, argv[2];
  napi_get_reference_value(env, p->self, &self);
  napi_get_reference_value(env, p->callback, &cb);
  if (status < 0) napi_create_string_utf8(env, uv_err_name(status), NAPI_AUTO_LENGTH, &argv[0]);
  else napi_get_null(env, &argv[0]);
  napi_create_int32(env, events, &argv[1]);
  make_callback_or_fatal(env, p->async, self, cb, 2, argv);
  napi_close_handle_scope(env, scope);
}

static poller_t *unwrap(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  napi_value self;
  size_t argc = want;
  void *data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, &self, NULL) != napi_ok || napi_unwrap(env, self, &data) != napi_ok) {
    throw_napi_failure(env);
    return NULL;
  }
  for (size_t i = argc; i < want; i++) napi_get_undefined(env, &argv[i]);
  return data;
}

static napi_value js_poller_new(napi_env env, napi_callback_info info) {
  napi_value argv[2], self, name;
  size_t argc = 2;
  int fd;
  napi_valuetype t;
  NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  if (argc < 2 || !arg_fd(env, argv[0], "fd", &fd)) return argc < 2 ? throw_code(env, "EINVAL", "new FdPoller(fd, callback)") : NULL;
  napi_typeof(env, argv[1], &t);
  if (t != napi_function) return throw_code(env, "EINVAL", "callback must be a function");
  uv_loop_t *loop = NULL;
  NAPI_OK(env, napi_get_uv_event_loop(env, &loop));
  poller_t *p = calloc(1, sizeof *p);
  if (p == NULL) return throw_code(env, "ENOMEM", "out of memory");
  int rc = uv_poll_init(loop, &p->handle, fd);
  if (rc != 0) {
    free(p);
    return throw_code(env, uv_err_name(rc), "uv_poll_init failed: is the fd open and pollable?");
  }
  p->env = env;
  p->handle.data = p;
  napi_create_string_utf8(env, "mesh_netns.FdPoller", NAPI_AUTO_LENGTH, &name);
  bool ok = napi_create_reference(env, self, 1, &p->self) == napi_ok &&
            napi_create_reference(env, argv[1], 1, &p->callback) == napi_ok &&
            napi_async_init(env, self, name, &p->async) == napi_ok &&
            napi_wrap(env, self, p, on_finalize, NULL, NULL) == napi_ok; /* last: after this, p is owned by JS */
  if (!ok) {
    release_refs(env, p); /* nothing in JS owns p: it is freed once uv_close completes */
    p->js_finalized = true;
    p->closing = true;
    uv_close((uv_handle_t *)&p->handle, on_handle_closed);
    return throw_napi_failure(env);
  }
  return self;
}

/* start(events): 1 = readable, 2 = writable (libuv UV_READABLE / UV_WRITABLE), combinable. */
static napi_value js_poller_start(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  uint32_t events;
  poller_t *p = unwrap(env, info, 1, argv);
  if (p == NULL || !arg_uint32(env, argv[0], "events", &events)) return NULL;
  if (p->closing) return throw_code(env, "EBADF", "FdPoller is closed");
  if ((events & ~(uint32_t)(UV_READABLE | UV_WRITABLE)) != 0 || events == 0) {
    return throw_code(env, "EINVAL", "events must be 1 (readable), 2 (writable) or 3");
  }
  int rc = uv_poll_start(&p->handle, (int)events, on_poll);
  if (rc != 0) return throw_code(env, uv_err_name(rc), "uv_poll_start failed: is the fd still open?");
  return make_undefined(env);
}

static napi_value js_poller_stop(napi_env env, napi_callback_info info) {
  poller_t *p = unwrap(env, info, 0, NULL);
  if (p == NULL) return NULL;
  if (!p->closing) uv_poll_stop(&p->handle);
  return make_undefined(env);
}

/* Idempotent. After close() returns, the fd is no longer watched and may be closed by the caller. */
static napi_value js_poller_close(napi_env env, napi_callback_info info) {
  poller_t *p = unwrap(env, info, 0, NULL);
  if (p == NULL) return NULL;
  if (p->closing) return make_undefined(env);
  p->closing = true;
  uv_close((uv_handle_t *)&p->handle, on_handle_closed);
  napi_reference_unref(env, p->self, NULL);
  return make_undefined(env);
}

bool init_poller(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"start", NULL, js_poller_start, NULL, NULL, NULL, napi_default, NULL},
      {"stop", NULL, js_poller_stop, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_poller_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value cls;
  if (napi_define_class(env, "FdPoller", NAPI_AUTO_LENGTH, js_poller_new, NULL, 3, methods, &cls) != napi_ok) {
    return false;
  }
  return napi_set_named_property(env, exports, "FdPoller", cls) == napi_ok;
}
