/* The helper thread that creates sockets inside other network namespaces (netns-socket.c). */
#ifndef MESH_NETNS_SOCKET_H
#define MESH_NETNS_SOCKET_H

#include <stdbool.h>

/* Most sockets one job may ask for: one setns() round trip creates them all. */
#define NETNS_JOB_MAX_FDS 64

typedef struct netns_socket_job netns_socket_job;

struct netns_socket_job {
  netns_socket_job *next; /* queue link, owned by netns-socket.c */
  int netns_fd;           /* must stay open until the job is answered */
  int domain;
  int count;
  /* Answer: fds[0..made) are new non-blocking, close-on-exec TCP sockets. err/op/hint say why made < count. */
  int made;
  int fds[NETNS_JOB_MAX_FDS];
  int err;
  const char *op;
  const char *hint;
  /*
   * NULL: a synchronous caller waits for `done`. Otherwise called on the helper thread once the job is
   * answered (or failed without running); it then owns the job.
   */
  void (*complete)(netns_socket_job *job);
  bool done;
};

/* Zeroes job and sets the netns, family (4 or 6) and count (clamped to 1..NETNS_JOB_MAX_FDS). */
void netns_job_init(netns_socket_job *job, int netns_fd, int family, int count);
/*
 * Queues an async job (job->complete set). Returns 0, or an errno with job->op/hint set when no helper
 * could be started; then complete is not called and the caller still owns the job.
 */
int netns_job_submit(netns_socket_job *job);

#endif
