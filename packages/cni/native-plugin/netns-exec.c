// mesh-netns-exec: runs a sequence of commands inside ONE network namespace for the CNI agent.
//
// Why: a CNI ADD programs a pod netns with ~9 short ip/iptables processes. Spawned from the agent
// (a large Node process) through nsenter, each costs a fork of that process plus an extra exec; this
// helper enters the netns once (setns) and forks the commands from a tiny process instead.
//
// Usage: mesh-netns-exec NETNS_PATH|--wait   (then a framed request/response protocol on stdin/stdout;
//   --wait: a long-lived helper the agent reuses across pods: "@setns PATH" enters a pod's netns,
//   "@setns" returns to the netns it started in)
//   request:  "<argc>\n" then argc times "<len>\n<bytes>", then "<len>\n<stdin bytes>"
//   response: "<exit code>\n<len>\n<stdout bytes><len>\n<stderr bytes>"
// Exit code is the command's, 128+N if killed by signal N, 127 if it could not be executed (the
// reason on stderr, as nsenter reports it). No shell is involved: argv goes to execvp as given.
// argv[0] starting with '@' is a built-in answered without a process (netns-exec-netlink.c).
// The helper exits 0 at EOF on stdin; 2-5 on usage, netns or protocol errors (message on stderr).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netns-exec-netlink.h"

#define MAX_ARGS 256
#define MAX_FRAME_BYTES (16u * 1024u * 1024u)

// Reads "<number>\n"; returns -1 on EOF before any byte, -2 on a malformed header.
static long read_number(FILE *in) {
  long v = 0;
  int c, digits = 0;
  while ((c = fgetc(in)) != EOF && c != '\n') {
    if (c < '0' || c > '9' || digits++ > 9) return -2;
    v = v * 10 + (c - '0');
  }
  if (c == EOF) return digits == 0 ? -1 : -2;
  return digits == 0 ? -2 : v;
}

static char *read_frame(FILE *in, size_t *len_out) {
  long n = read_number(in);
  if (n < 0 || (unsigned long)n > MAX_FRAME_BYTES) return NULL;
  char *p = malloc((size_t)n + 1);
  if (!p || fread(p, 1, (size_t)n, in) != (size_t)n) {
    free(p);
    return NULL;
  }
  p[n] = '\0';
  *len_out = (size_t)n;
  return p;
}

static void set_nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

static void child_exec(int in[2], int out[2], int err[2], char **argv) {
  dup2(in[0], 0);
  dup2(out[1], 1);
  dup2(err[1], 2);
  signal(SIGPIPE, SIG_DFL);
  execvp(argv[0], argv);
  dprintf(2, "mesh-netns-exec: failed to execute %s: %s\n", argv[0], strerror(errno));
  _exit(127);
}

// Feeds `input` to the child and collects its stdout/stderr without deadlocking on full pipes.
static void pump(int in_fd, const char *input, size_t input_len, int out_fd, int err_fd, buf_t *out, buf_t *err) {
  size_t written = 0;
  char chunk[65536];
  if (input_len == 0) {
    close(in_fd);
    in_fd = -1;
  }
  while (out_fd >= 0 || err_fd >= 0) {
    struct pollfd p[3] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}, {in_fd, POLLOUT, 0}};
    if (poll(p, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (in_fd >= 0 && p[2].revents) {
      ssize_t w = write(in_fd, input + written, input_len - written);
      if (w > 0) written += (size_t)w;
      if (w < 0 && errno != EAGAIN) written = input_len; // reader gone: its exit code tells
      if (written == input_len) {
        close(in_fd);
        in_fd = -1;
      }
    }
    int *fds[2] = {&out_fd, &err_fd};
    buf_t *bufs[2] = {out, err};
    for (int i = 0; i < 2; i++) {
      if (*fds[i] < 0 || !p[i].revents) continue;
      ssize_t r = read(*fds[i], chunk, sizeof chunk);
      if (r > 0) buf_append(bufs[i], chunk, (size_t)r);
      else if (r == 0 || errno != EAGAIN) {
        close(*fds[i]);
        *fds[i] = -1;
      }
    }
  }
  if (in_fd >= 0) close(in_fd);
}

static int run(char **argv, const char *input, size_t input_len, buf_t *out, buf_t *err) {
  int in[2], o[2], e[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(o, O_CLOEXEC) || pipe2(e, O_CLOEXEC)) {
    buf_append(err, "mesh-netns-exec: pipe failed\n", 29);
    return 127;
  }
  pid_t pid = fork();
  if (pid == 0) child_exec(in, o, e, argv);
  close(in[0]);
  close(o[1]);
  close(e[1]);
  if (pid < 0) {
    close(in[1]);
    close(o[0]);
    close(e[0]);
    buf_append(err, "mesh-netns-exec: fork failed\n", 29);
    return 127;
  }
  set_nonblock(in[1]);
  set_nonblock(o[0]);
  set_nonblock(e[0]);
  pump(in[1], input, input_len, o[0], e[0], out, err);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 127;
}

static int enter_netns(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
    fprintf(stderr, "mesh-netns-exec: cannot enter network namespace %s: %s\n", path, strerror(errno));
    return -1;
  }
  close(fd);
  return 0;
}

// --wait mode: the netns this helper started in, to go back to between pods (a helper parked in a
// pod's netns would keep that netns alive after the pod is gone).
static int home_fd = -1;

// "@setns PATH" enters PATH's netns; "@setns" goes back home. A failure ends the helper (exit 3):
// commands queued behind it must never run in the wrong netns.
static int builtin_setns(long argc, char **argv) {
  if (argc == 2) {
    if (enter_netns(argv[1]) != 0) exit(3);
  } else if (home_fd < 0 || setns(home_fd, CLONE_NEWNET) != 0) {
    fprintf(stderr, "mesh-netns-exec: cannot return to the agent's network namespace: %s\n", strerror(errno));
    exit(3);
  }
  return 0;
}

// One request; returns 0 at a clean EOF, 1 when served, -1 on a protocol error.
static int serve_one(FILE *in, FILE *out) {
  long argc = read_number(in);
  if (argc == -1) return 0;
  if (argc < 1 || argc > MAX_ARGS) return -1;
  char *argv[MAX_ARGS + 1] = {0};
  size_t n = 0;
  int rc = -1;
  for (long i = 0; i < argc; i++) {
    if (!(argv[i] = read_frame(in, &n))) goto done;
  }
  char *input = read_frame(in, &n);
  if (!input) goto done;
  buf_t o = {0}, e = {0};
  int code = strcmp(argv[0], "@setns") == 0 && argc <= 2 ? builtin_setns(argc, argv)
             : argv[0][0] == '@'                     ? run_builtin((int)argc, argv, &o, &e)
                                                     : run(argv, input, n, &o, &e);
  fprintf(out, "%d\n%zu\n", code, o.len);
  fwrite(o.data, 1, o.len, out);
  fprintf(out, "%zu\n", e.len);
  fwrite(e.data, 1, e.len, out);
  rc = fflush(out) == 0 ? 1 : -1;
  free(o.data);
  free(e.data);
  free(input);
done:
  for (long i = 0; i < argc; i++) free(argv[i]);
  return rc;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fputs("usage: mesh-netns-exec NETNS_PATH|--wait (requests on stdin)\n", stderr);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  if (strcmp(argv[1], "--wait") == 0) {
    home_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  } else if (enter_netns(argv[1]) != 0) {
    return 3;
  }
  for (;;) {
    int r = serve_one(stdin, stdout);
    if (r == 0) return 0;
    if (r < 0) {
      fputs("mesh-netns-exec: malformed request\n", stderr);
      return 4;
    }
  }
}
