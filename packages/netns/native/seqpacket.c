/*
 * SOCK_SEQPACKET unix sockets with SCM_RIGHTS, the ZDS transport between the CNI node agent and
 * ztunnel (/var/run/ztunnel/ztunnel.sock, one protobuf message per datagram, the pod netns fd
 * attached to AddWorkload). Node's net module cannot do SEQPACKET, so these are plain non-blocking
 * fds driven from JS by a FdPoller. Would-block is reported as a null/false return, never an error.
 */
#include "common.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_FDS_PER_MESSAGE 16
#define MAX_MESSAGE_BYTES (1024 * 1024)
#define SEQ_TYPE (SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC)

static bool unix_addr(napi_env env, napi_value v, struct sockaddr_un *sun) {
  char *path = NULL;
  if (!arg_string(env, v, "path", &path)) return false;
  memset(sun, 0, sizeof *sun);
  sun->sun_family = AF_UNIX;
  size_t n = strlen(path);
  bool ok = n > 0 && n < sizeof sun->sun_path;
  if (ok) memcpy(sun->sun_path, path, n);
  free(path);
  if (!ok) throw_errno(env, ENAMETOOLONG, "unix socket path", "use a non-empty path shorter than 108 bytes");
  return ok;
}

static napi_value js_seqpacket_listen(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  struct sockaddr_un sun;
  int32_t backlog = 128;
  if (!get_args(env, info, 2, argv) || !unix_addr(env, argv[0], &sun)) return NULL;
  if (!is_nullish(env, argv[1]) && !arg_int32(env, argv[1], "backlog", &backlog)) return NULL;
  int fd = socket(AF_UNIX, SEQ_TYPE, 0);
  if (fd < 0) return throw_errno(env, errno, "socket(AF_UNIX, SOCK_SEQPACKET)", NULL);
  if (bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "bind(unix)", "does the socket file already exist, and is its directory writable?");
  }
  if (listen(fd, backlog) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "listen(unix)", NULL);
  }
  return make_int32(env, fd);
}

static napi_value js_seqpacket_connect(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  struct sockaddr_un sun;
  if (!get_args(env, info, 1, argv) || !unix_addr(env, argv[0], &sun)) return NULL;
  int fd = socket(AF_UNIX, SEQ_TYPE, 0);
  if (fd < 0) return throw_errno(env, errno, "socket(AF_UNIX, SOCK_SEQPACKET)", NULL);
  /* Unix connects complete at once; EAGAIN means the listener's backlog is full, so retry later. */
  if (connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "connect(unix)", "is the server listening on this path? (EAGAIN: backlog full, retry)");
  }
  return make_int32(env, fd);
}

static napi_value js_seqpacket_accept(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int lfd;
  if (!get_args(env, info, 1, argv) || !arg_fd(env, argv[0], "fd", &lfd)) return NULL;
  int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED) return make_null(env);
    return throw_errno(env, errno, "accept4", NULL);
  }
  return make_int32(env, fd);
}

static napi_value js_seqpacket_pair(napi_env env, napi_callback_info info) {
  int sv[2];
  if (socketpair(AF_UNIX, SEQ_TYPE, 0, sv) != 0) return throw_errno(env, errno, "socketpair(SOCK_SEQPACKET)", NULL);
  napi_value arr;
  if (napi_create_array_with_length(env, 2, &arr) != napi_ok ||
      napi_set_element(env, arr, 0, make_int32(env, sv[0])) != napi_ok ||
      napi_set_element(env, arr, 1, make_int32(env, sv[1])) != napi_ok) {
    close(sv[0]);
    close(sv[1]);
    return throw_napi_failure(env);
  }
  return arr;
}

/* Reads a JS array of fds; the caller keeps ownership (the kernel duplicates them in flight). */
static bool read_fd_array(napi_env env, napi_value v, int *fds, uint32_t *count) {
  *count = 0;
  if (is_nullish(env, v)) return true;
  bool is_array = false;
  napi_is_array(env, v, &is_array);
  if (!is_array) return throw_code(env, "EINVAL", "fds must be an array of file descriptors") != NULL;
  napi_get_array_length(env, v, count);
  if (*count > MAX_FDS_PER_MESSAGE) return throw_code(env, "EINVAL", "at most 16 fds per message") != NULL;
  for (uint32_t i = 0; i < *count; i++) {
    napi_value el;
    if (napi_get_element(env, v, i, &el) != napi_ok || !arg_fd(env, el, "fds[i]", &fds[i])) return false;
  }
  return true;
}

/* sendMsg(fd, data, fds?) -> true when sent, false when the socket buffer is full (wait for writable). */
static napi_value js_send_msg(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int fd, fds[MAX_FDS_PER_MESSAGE];
  uint32_t nfds;
  void *data = NULL;
  size_t len = 0;
  bool is_buf = false;
  if (!get_args(env, info, 3, argv) || !arg_fd(env, argv[0], "fd", &fd)) return NULL;
  napi_is_buffer(env, argv[1], &is_buf);
  if (!is_buf) return throw_code(env, "EINVAL", "data must be a Buffer or Uint8Array");
  NAPI_OK(env, napi_get_buffer_info(env, argv[1], &data, &len));
  if (!read_fd_array(env, argv[2], fds, &nfds)) return NULL;
  union { char buf[CMSG_SPACE(sizeof(int) * MAX_FDS_PER_MESSAGE)]; struct cmsghdr align; } ctrl;
  memset(&ctrl, 0, sizeof ctrl);
  struct iovec iov = {.iov_base = data, .iov_len = len};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
  if (nfds > 0) {
    msg.msg_control = ctrl.buf;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (c == NULL) return throw_code(env, "EINVAL", "control buffer too small");
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
  }
  ssize_t n;
  do n = sendmsg(fd, &msg, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return make_bool(env, false);
    return throw_errno(env, errno, "sendmsg", errno == EMSGSIZE ? "message larger than the socket send buffer" : NULL);
  }
  return make_bool(env, true);
}

static void close_all(const int *fds, int n) {
  for (int i = 0; i < n; i++) close(fds[i]);
}

/* Collects SCM_RIGHTS fds from all control messages; returns the count. */
static int collect_fds(struct msghdr *msg, int *fds) {
  int n = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    for (int i = 0; i < k && n < MAX_FDS_PER_MESSAGE; i++) memcpy(&fds[n++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
  }
  return n;
}

/*
 * A zero-byte read means either an empty datagram or end of stream. An empty datagram with no fds
 * is only reported as EOF when the peer has also hung up (POLLRDHUP/POLLHUP).
 */
static bool peer_gone(int fd) {
  struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
  return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP)) != 0;
}

static napi_value make_message(napi_env env, const char *buf, size_t n, const int *fds, int nfds, bool eof) {
  napi_value obj, data, arr;
  if (napi_create_object(env, &obj) != napi_ok || napi_create_buffer_copy(env, n, buf, NULL, &data) != napi_ok ||
      napi_create_array_with_length(env, (size_t)nfds, &arr) != napi_ok) {
    close_all(fds, nfds);
    return throw_napi_failure(env);
  }
  for (int i = 0; i < nfds; i++) napi_set_element(env, arr, (uint32_t)i, make_int32(env, fds[i]));
  napi_set_named_property(env, obj, "data", data);
  napi_set_named_property(env, obj, "fds", arr);
  napi_set_named_property(env, obj, "eof", make_bool(env, eof));
  return obj;
}

/* recvMsg(fd, maxBytes) -> {data, fds, eof} | null (nothing to read). Truncation throws EMSGSIZE. */
static napi_value js_recv_msg(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd, fds[MAX_FDS_PER_MESSAGE];
  uint32_t max_bytes;
  if (!get_args(env, info, 2, argv) || !arg_fd(env, argv[0], "fd", &fd)) return NULL;
  if (!arg_uint32(env, argv[1], "maxBytes", &max_bytes)) return NULL;
  if (max_bytes == 0 || max_bytes > MAX_MESSAGE_BYTES) return throw_code(env, "EINVAL", "maxBytes must be 1..1048576");
  char *buf = malloc(max_bytes);
  if (buf == NULL) return throw_errno(env, ENOMEM, "malloc", NULL);
  union { char buf[CMSG_SPACE(sizeof(int) * MAX_FDS_PER_MESSAGE)]; struct cmsghdr align; } ctrl;
  struct iovec iov = {.iov_base = buf, .iov_len = max_bytes};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl.buf, .msg_controllen = sizeof ctrl.buf};
  ssize_t n;
  do n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
  if (n < 0) {
    int err = errno;
    free(buf);
    if (err == EAGAIN || err == EWOULDBLOCK) return make_null(env);
    return throw_errno(env, err, "recvmsg", NULL);
  }
  int nfds = collect_fds(&msg, fds);
  if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
    /* The rest of the datagram (or excess fds) is gone; never hand out a partial message. */
    close_all(fds, nfds);
    free(buf);
    return throw_errno(env, EMSGSIZE, (msg.msg_flags & MSG_CTRUNC) ? "recvmsg (fds truncated)" : "recvmsg (data truncated)",
                       "the peer sent a message larger than maxBytes or more than 16 fds");
  }
  bool eof = n == 0 && nfds == 0 && peer_gone(fd);
  napi_value r = make_message(env, buf, (size_t)n, fds, nfds, eof);
  free(buf);
  return r;
}

bool init_seqpacket(napi_env env, napi_value exports) {
  return export_fn(env, exports, "seqpacketListen", js_seqpacket_listen) &&
         export_fn(env, exports, "seqpacketConnect", js_seqpacket_connect) &&
         export_fn(env, exports, "seqpacketAccept", js_seqpacket_accept) &&
         export_fn(env, exports, "seqpacketPair", js_seqpacket_pair) &&
         export_fn(env, exports, "sendMsg", js_send_msg) && export_fn(env, exports, "recvMsg", js_recv_msg);
}
