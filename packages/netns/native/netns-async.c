/*
 * socketsInNetnsAsync(netnsFd, family, count, callback): the non-blocking form of socket-in-netns. The
 * request goes to the helper thread's queue (netns-socket.c) and the JS thread goes on; the helper
 * answers through a napi_threadsafe_function, and callback(err, fds) runs on the JS thread. A batch of
 * sockets costs one setns() round trip, which is what NetnsSocketPool (src/socket-pool.ts) builds on.
 *
 * The request holds its own dup of netnsFd, so closing netnsFd (a pod going away) while a request is
 * queued cannot make the helper enter whatever file later reuses that fd number. Per JS environment
 * (main thread, each worker) there is one threadsafe function, referenced only while requests are
 * pending so an idle addon never keeps the event loop alive. When the environment is torn down with
 * requests in flight, their sockets are closed on whichever thread sees them last; no fd leaks.
 */
#include "common.h"
#include "netns-socket.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct {
  pthread_mutex_t mu;       /* guards closing and inflight: the helper thread reads them */
  bool closing;             /* the environment is being torn down: never call tsfn again */
  uint32_t inflight;        /* requests not yet seen by call_js or dropped */
  uint32_t js_pending;      /* JS-thread count of callbacks still to run, for ref/unref */
  napi_threadsafe_function tsfn;
  napi_async_context async;
} async_env;

typedef struct {
  netns_socket_job job; /* first: the helper hands back &job */
  async_env *owner;
  napi_ref callback;
} async_request;

static void close_fds(netns_socket_job *job) {
  for (int i = 0; i < job->made; i++) close(job->fds[i]);
  job->made = 0;
}

/* Called with owner->mu held after a request leaves; returns whether the state may now be freed. */
static bool release_locked(async_env *st) {
  st->inflight--;
  return st->closing && st->inflight == 0;
}

static void free_env(async_env *st) {
  pthread_mutex_destroy(&st->mu);
  free(st);
}

/* A request that will never reach JS: its sockets are closed here. The napi_ref dies with the env. */
static void drop(async_request *req) {
  async_env *st = req->owner;
  close_fds(&req->job);
  free(req);
  pthread_mutex_lock(&st->mu);
  bool last = release_locked(st);
  pthread_mutex_unlock(&st->mu);
  if (last) free_env(st);
}

/* Helper thread: the job is answered. */
static void on_answered(netns_socket_job *job) {
  async_request *req = (async_request *)job;
  async_env *st = req->owner;
  close(job->netns_fd);
  job->netns_fd = -1;
  pthread_mutex_lock(&st->mu);
  bool queued = !st->closing && napi_call_threadsafe_function(st->tsfn, req, napi_tsfn_nonblocking) == napi_ok;
  pthread_mutex_unlock(&st->mu);
  if (!queued) drop(req);
}

static napi_value fds_array(napi_env env, const netns_socket_job *job) {
  napi_value arr;
  if (napi_create_array_with_length(env, (size_t)job->made, &arr) != napi_ok) return NULL;
  for (int i = 0; i < job->made; i++) {
    napi_value v;
    if (napi_create_int32(env, job->fds[i], &v) != napi_ok || napi_set_element(env, arr, (uint32_t)i, v) != napi_ok) {
      return NULL;
    }
  }
  return arr;
}

/* JS thread: callback(err | null, fds). Sockets are only reported with no error when all were made. */
static void call_js(napi_env env, napi_value unused, void *context, void *data) {
  async_request *req = data;
  async_env *st = req->owner;
  if (env == NULL) {
    drop(req);
    return;
  }
  if (--st->js_pending == 0) napi_unref_threadsafe_function(env, st->tsfn);
  napi_handle_scope scope = NULL;
  napi_value cb, global, argv[2];
  bool ok = napi_open_handle_scope(env, &scope) == napi_ok;
  ok = ok && napi_get_reference_value(env, req->callback, &cb) == napi_ok && napi_get_global(env, &global) == napi_ok;
  ok = ok && (argv[1] = fds_array(env, &req->job)) != NULL;
  if (ok && req->job.made < req->job.count) {
    argv[0] = make_errno_error(env, req->job.err, req->job.op != NULL ? req->job.op : "socket", req->job.hint);
    ok = argv[0] != NULL;
  } else if (ok) {
    ok = napi_get_null(env, &argv[0]) == napi_ok;
  }
  /*
   * The fds belong to JS once the callback ran. When it could not run (the environment is terminating,
   * e.g. worker.terminate()) they are closed below; a callback that throws must not have kept any.
   */
  if (ok && !st->closing && make_callback_or_fatal(env, st->async, global, cb, 2, argv)) req->job.made = 0;
  napi_delete_reference(env, req->callback);
  if (scope != NULL) napi_close_handle_scope(env, scope);
  drop(req); /* closes fds only if they never reached JS */
}

/* Environment teardown: from here on the helper drops answers instead of calling tsfn. */
static void on_env_cleanup(void *arg) {
  async_env *st = arg;
  pthread_mutex_lock(&st->mu);
  st->closing = true;
  bool last = st->inflight == 0;
  pthread_mutex_unlock(&st->mu);
  if (last) free_env(st);
}

static async_env *env_state(napi_env env) {
  async_env *st = NULL;
  if (napi_get_instance_data(env, (void **)&st) == napi_ok && st != NULL) return st;
  st = calloc(1, sizeof *st);
  if (st == NULL) {
    throw_code(env, "ENOMEM", "out of memory");
    return NULL;
  }
  pthread_mutex_init(&st->mu, NULL);
  napi_value name, resource;
  bool ok = napi_create_string_utf8(env, "mesh_netns.socketsInNetns", NAPI_AUTO_LENGTH, &name) == napi_ok &&
            napi_create_object(env, &resource) == napi_ok &&
            napi_async_init(env, resource, name, &st->async) == napi_ok &&
            napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL, NULL, st, call_js, &st->tsfn) == napi_ok;
  if (!ok) {
    free_env(st);
    throw_napi_failure(env);
    return NULL;
  }
  napi_unref_threadsafe_function(env, st->tsfn);
  /* Registered after the tsfn, so it runs before node finalizes the tsfn (cleanup hooks run in reverse). */
  if (napi_add_env_cleanup_hook(env, on_env_cleanup, st) != napi_ok || napi_set_instance_data(env, st, NULL, NULL) != napi_ok) {
    throw_napi_failure(env);
    return NULL;
  }
  return st;
}

static napi_value js_sockets_in_netns_async(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int netns_fd;
  int32_t family, count;
  napi_valuetype t;
  if (!get_args(env, info, 4, argv) || !arg_fd(env, argv[0], "netnsFd", &netns_fd) ||
      !arg_int32(env, argv[1], "family", &family) || !arg_int32(env, argv[2], "count", &count)) {
    return NULL;
  }
  if (family != 4 && family != 6) return throw_code(env, "EINVAL", "family must be 4 or 6");
  if (count < 1 || count > NETNS_JOB_MAX_FDS) return throw_code(env, "EINVAL", "count must be between 1 and 64");
  NAPI_OK(env, napi_typeof(env, argv[3], &t));
  if (t != napi_function) return throw_code(env, "EINVAL", "callback must be a function");
  async_env *st = env_state(env);
  if (st == NULL) return NULL;
  int own_fd = fcntl(netns_fd, F_DUPFD_CLOEXEC, 0);
  if (own_fd < 0) return throw_errno(env, errno, "fcntl(F_DUPFD_CLOEXEC)", "is the netns fd open?");
  async_request *req = malloc(sizeof *req);
  if (req == NULL || napi_create_reference(env, argv[3], 1, &req->callback) != napi_ok) {
    free(req);
    close(own_fd);
    return req == NULL ? throw_code(env, "ENOMEM", "out of memory") : throw_napi_failure(env);
  }
  netns_job_init(&req->job, own_fd, family, count);
  req->job.complete = on_answered;
  req->owner = st;
  pthread_mutex_lock(&st->mu);
  st->inflight++;
  pthread_mutex_unlock(&st->mu);
  if (st->js_pending++ == 0) napi_ref_threadsafe_function(env, st->tsfn);
  int rc = netns_job_submit(&req->job);
  if (rc != 0) {
    const char *op = req->job.op, *hint = req->job.hint;
    if (--st->js_pending == 0) napi_unref_threadsafe_function(env, st->tsfn);
    close(own_fd);
    napi_delete_reference(env, req->callback);
    drop(req);
    return throw_errno(env, rc, op, hint);
  }
  return make_undefined(env);
}

bool init_netns_async(napi_env env, napi_value exports) {
  return export_fn(env, exports, "socketsInNetnsAsync", js_sockets_in_netns_async);
}
