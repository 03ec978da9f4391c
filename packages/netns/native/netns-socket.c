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
 * connects in pod netns are on ztunnel's per-connection path. It serves a FIFO of jobs: a synchronous
 * caller blocks until its job is answered; an asynchronous job (netns-async.c) is answered through its
 * completion callback, so the JS thread never waits. A job may ask for a batch of sockets, which costs one
 * setns() round trip for all of them. The helper goes straight from one job's netns to the next and
 * returns home only when the queue is empty, so it never holds a deleted pod netns alive between calls.
 * It blocks every signal so process-directed signals keep going to Node's threads. Calls from several JS
 * threads (Node workers) share the queue.
 */
#include "common.h"
#include "netns-socket.h"

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
#define HINT_HOME "the helper thread could not return to its own network namespace"
#define HINT_THREAD "cannot start the helper thread that enters network namespaces: is the process at its thread limit (ulimit -u, pids cgroup)?"
#define HINT_PROC "is /proc mounted?"
/* The helper does a few syscalls; a small stack keeps it cheap. */
#define HELPER_STACK_BYTES (64 * 1024)

typedef enum { HELPER_NONE, HELPER_STARTING, HELPER_RUNNING, HELPER_DEAD } helper_state;

/* mu + cv guard the helper's state, the queue and every queued job's done flag. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static helper_state state = HELPER_NONE;
static netns_socket_job *queue_head;
static netns_socket_job *queue_tail;
/* Why the last helper died at start (errno of opening its home netns). */
static int start_err;

void netns_job_init(netns_socket_job *job, int netns_fd, int family, int count) {
  memset(job, 0, sizeof *job);
  job->netns_fd = netns_fd;
  job->domain = family == 6 ? AF_INET6 : AF_INET;
  job->count = count < 1 ? 1 : (count > NETNS_JOB_MAX_FDS ? NETNS_JOB_MAX_FDS : count);
}

static void fail_job(netns_socket_job *job, int err, const char *op, const char *hint) {
  job->err = err;
  job->op = op;
  job->hint = hint;
}

/* setns + socket() x count for one job; returns whether the thread left its home netns. */
static bool run_job(netns_socket_job *job) {
  /* setns(CLONE_NEWNET) changes only the calling thread's netns. */
  if (setns(job->netns_fd, CLONE_NEWNET) != 0) {
    fail_job(job, errno, "setns(CLONE_NEWNET)", HINT_SETNS);
    return false;
  }
  while (job->made < job->count) {
    int fd = socket(job->domain, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      fail_job(job, errno, "socket", NULL);
      break;
    }
    job->fds[job->made++] = fd;
  }
  return true;
}

/* Called with mu held; the job is off the queue. Sync jobs are woken, async ones completed outside mu. */
static void answer_locked(netns_socket_job *job) {
  if (job->complete == NULL) {
    job->done = true; /* the job lives on the caller's stack: not touched after this */
    pthread_cond_broadcast(&cv);
    return;
  }
  pthread_mutex_unlock(&mu);
  job->complete(job);
  pthread_mutex_lock(&mu);
}

static netns_socket_job *pop_locked(void) {
  netns_socket_job *job = queue_head;
  if (job != NULL) {
    queue_head = job->next;
    if (queue_head == NULL) queue_tail = NULL;
    job->next = NULL;
  }
  return job;
}

/* The helper could not get home: answer everything queued with that error; the next call starts a new one. */
static void die_locked(int err) {
  state = HELPER_DEAD;
  netns_socket_job *job;
  while ((job = pop_locked()) != NULL) {
    fail_job(job, err, "setns(CLONE_NEWNET) back home", HINT_HOME);
    answer_locked(job);
  }
  pthread_cond_broadcast(&cv);
}

static void *helper_main(void *arg) {
  int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  pthread_mutex_lock(&mu);
  if (home < 0) {
    start_err = errno;
    state = HELPER_DEAD;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    return NULL;
  }
  state = HELPER_RUNNING;
  pthread_cond_broadcast(&cv);
  bool away = false;
  int home_err = 0;
  for (;;) {
    netns_socket_job *job = pop_locked();
    if (job == NULL) {
      if (away) {
        /* Home before sleeping, so an idle helper holds no pod netns alive. */
        pthread_mutex_unlock(&mu);
        home_err = setns(home, CLONE_NEWNET) == 0 ? 0 : errno;
        pthread_mutex_lock(&mu);
        away = false;
        if (home_err != 0) break;
        continue;
      }
      pthread_cond_wait(&cv, &mu);
      continue;
    }
    pthread_mutex_unlock(&mu);
    away = run_job(job) || away;
    pthread_mutex_lock(&mu);
    answer_locked(job);
  }
  /* Exiting drops this thread's reference to the pod netns. */
  close(home);
  die_locked(home_err);
  pthread_mutex_unlock(&mu);
  return NULL;
}

/* Called with mu held and the helper absent or dead: starts one and waits until it runs or dies. */
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

/* Called with mu held: makes sure a helper runs and appends job. Returns 0, or an errno with op/hint set. */
static int enqueue_locked(netns_socket_job *job) {
  while (state == HELPER_STARTING) pthread_cond_wait(&cv, &mu);
  if (state == HELPER_NONE || state == HELPER_DEAD) {
    const char *op = NULL, *hint = NULL;
    int rc = start_helper_locked(&op, &hint);
    if (rc != 0) {
      fail_job(job, rc, op, hint);
      return rc;
    }
  }
  job->next = NULL;
  if (queue_tail != NULL) queue_tail->next = job;
  else queue_head = job;
  queue_tail = job;
  pthread_cond_broadcast(&cv);
  return 0;
}

int netns_job_submit(netns_socket_job *job) {
  pthread_mutex_lock(&mu);
  int rc = enqueue_locked(job);
  pthread_mutex_unlock(&mu);
  return rc;
}

int socket_in_netns(int netns_fd, int family, int *err, const char **op, const char **hint) {
  netns_socket_job job;
  netns_job_init(&job, netns_fd, family, 1);
  *op = NULL;
  *hint = NULL;
  if (netns_fd < 0) {
    int fd = socket(job.domain, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      *err = errno;
      *op = "socket";
    }
    return fd;
  }
  pthread_mutex_lock(&mu);
  if (enqueue_locked(&job) == 0) {
    while (!job.done) pthread_cond_wait(&cv, &mu);
  }
  pthread_mutex_unlock(&mu);
  if (job.made == 1) return job.fds[0];
  *err = job.err;
  *op = job.op;
  *hint = job.hint;
  return -1;
}
