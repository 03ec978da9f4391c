/*
 * socket() inside another network namespace without ever moving the JS main thread.
 *
 * ztunnel's in-pod mode (Z:src/inpod/netns.rs) creates each pod's listeners and upstream sockets inside
 * the pod's netns; a socket keeps the netns it was created in, so only socket() has to run there (Rust
 * ztunnel runs it on a thread it moved into the pod netns). Here one helper pthread does it: it setns()es
 * itself into the pod netns, calls socket(), hands the fd back and returns to its home netns. The calling
 * (Node main) thread never leaves its netns, so:
 *  - /proc/<pid>/ns/net always shows the node's netns: tools that find "processes inside a pod netns" by
 *    that file (`ip netns pids`, meshctl's pod teardown) never mistake ztunnel for a pod process;
 *  - a failure to return home costs only the helper, which exits (dropping its netns reference) and is
 *    replaced on the next call; Node's threads are never left in a pod's network namespace.
 * The helper is persistent because a thread per socket costs ~35 us more (clone + exit) and upstream
 * connects in pod netns are on ztunnel's per-connection path. It returns home after answering, off the
 * caller's critical path, so it never holds a deleted pod netns alive between calls. It blocks every
 * signal so process-directed signals keep going to Node's threads. Calls from several JS threads (Node
 * workers) are serialized.
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HINT_SETNS "needs CAP_SYS_ADMIN and an fd from openNetns()"
#define HINT_THREAD "cannot start the helper thread that enters network namespaces: is the process at its thread limit (ulimit -u, pids cgroup)?"
#define HINT_PROC "is /proc mounted?"
/* The helper does a few syscalls; a small stack keeps it cheap. */
#define HELPER_STACK_BYTES (64 * 1024)

typedef struct {
  int netns_fd;
  int domain;
  int type;
  int fd;
  int err;
  const char *op;
  const char *hint;
} netns_socket_job;

typedef enum { HELPER_NONE, HELPER_STARTING, HELPER_IDLE, HELPER_BUSY, HELPER_DEAD } helper_state;

/* Serializes callers (one job in flight); mu + cv guard the helper's state and the job slot. */
static pthread_mutex_t request_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static helper_state state = HELPER_NONE;
static netns_socket_job *slot;
static bool slot_done;
/* Why the last helper died at start (errno of opening its home netns). */
static int start_err;

static void set_state(helper_state s) {
  pthread_mutex_lock(&mu);
  state = s;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}

/* setns + socket for one job; returns whether the thread left its home netns. */
static bool run_job(netns_socket_job *job) {
  /* setns(CLONE_NEWNET) changes only the calling thread's netns. */
  if (setns(job->netns_fd, CLONE_NEWNET) != 0) {
    job->err = errno;
    job->op = "setns(CLONE_NEWNET)";
    job->hint = HINT_SETNS;
    return false;
  }
  job->fd = socket(job->domain, job->type, 0);
  if (job->fd < 0) {
    job->err = errno;
    job->op = "socket";
  }
  return true;
}

static void *helper_main(void *arg) {
  int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home < 0) {
    pthread_mutex_lock(&mu);
    start_err = errno;
    state = HELPER_DEAD;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    return NULL;
  }
  pthread_mutex_lock(&mu);
  state = HELPER_IDLE;
  pthread_cond_broadcast(&cv);
  for (;;) {
    while (slot == NULL) pthread_cond_wait(&cv, &mu);
    netns_socket_job *job = slot;
    state = HELPER_BUSY;
    pthread_mutex_unlock(&mu);
    bool left_home = run_job(job);
    pthread_mutex_lock(&mu);
    slot = NULL; /* job lives on the caller's stack: not touched after this */
    slot_done = true;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    if (left_home && setns(home, CLONE_NEWNET) != 0) {
      /* Exiting drops this thread's reference to the pod netns; the next call starts a new helper. */
      close(home);
      set_state(HELPER_DEAD);
      return NULL;
    }
    pthread_mutex_lock(&mu);
    state = HELPER_IDLE;
    pthread_cond_broadcast(&cv);
  }
}

/* Called with mu held and the helper absent or dead: starts one and waits until it is idle or dead. */
static int start_helper_locked(const char **op, const char **hint) {
  pthread_attr_t attr;
  pthread_t tid;
  sigset_t all, old;
  int rc = pthread_attr_init(&attr);
  if (rc == 0) rc = pthread_attr_setstacksize(&attr, HELPER_STACK_BYTES);
  if (rc == 0) rc = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if (rc != 0) {
    *op = "pthread_attr_init";
    return rc;
  }
  /* The helper inherits this mask: it must never be picked to run a signal handler. */
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  state = HELPER_STARTING;
  rc = pthread_create(&tid, &attr, helper_main, NULL);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    state = HELPER_NONE;
    *op = "pthread_create";
    *hint = HINT_THREAD;
    return rc;
  }
  while (state == HELPER_STARTING) pthread_cond_wait(&cv, &mu);
  if (state == HELPER_DEAD) {
    *op = "open(/proc/thread-self/ns/net)";
    *hint = HINT_PROC;
    return start_err;
  }
  return 0;
}

/* Hands job to the helper and waits for the answer. Returns 0, or an errno with *op / *hint set. */
static int run_on_helper(netns_socket_job *job, const char **op, const char **hint) {
  int rc = 0;
  pthread_mutex_lock(&request_lock);
  pthread_mutex_lock(&mu);
  /* BUSY here means it is still returning home from the previous job. */
  while (state == HELPER_BUSY || state == HELPER_STARTING) pthread_cond_wait(&cv, &mu);
  if (state == HELPER_NONE || state == HELPER_DEAD) rc = start_helper_locked(op, hint);
  if (rc == 0) {
    slot = job;
    slot_done = false;
    pthread_cond_broadcast(&cv);
    while (!slot_done) pthread_cond_wait(&cv, &mu);
  }
  pthread_mutex_unlock(&mu);
  pthread_mutex_unlock(&request_lock);
  return rc;
}

int socket_in_netns(int netns_fd, int family, int *err, const char **op, const char **hint) {
  netns_socket_job job = {
    .netns_fd = netns_fd,
    .domain = family == 6 ? AF_INET6 : AF_INET,
    .type = SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
    .fd = -1,
    .err = 0,
    .op = NULL,
    .hint = NULL,
  };
  *op = NULL;
  *hint = NULL;
  if (netns_fd < 0) {
    job.fd = socket(job.domain, job.type, 0);
    if (job.fd < 0) {
      *err = errno;
      *op = "socket";
    }
    return job.fd;
  }
  int rc = run_on_helper(&job, op, hint);
  if (rc != 0) {
    *err = rc;
    return -1;
  }
  if (job.fd < 0) {
    *err = job.err;
    *op = job.op;
    *hint = job.hint;
  }
  return job.fd;
}
