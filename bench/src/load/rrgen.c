// Open-loop HTTP/1.1 request generator: rr.mjs (rate > 0 mode) without Node's 1 ms timer granularity.
// Sends are scheduled every 1e9/rate ns from the start; a due request goes to a free keep-alive connection,
// else into a FIFO served when one frees. Latency = response complete minus SCHEDULED send time, so queueing
// behind a stalled proxy is charged to it (no coordinated omission). Single thread, epoll + a timerfd armed
// at the next absolute CLOCK_MONOTONIC send time with 1 ns timer slack; it sleeps between sends (no spinning).
// Wakeup lateness (~25 us on a 2-core VM waking from idle) still counts in every peer's latency, direct included.
// Usage: rrgen <host> <port> <durationMs> <connections> <rate> <bodyBytes>   -> one JSON line, like rr.mjs.
// Build: gcc -O2 -Wall -Wextra -o rrgen rrgen.c
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_HEADER 65536
#define TIMER_TAG UINT32_MAX

typedef struct {
  int fd, busy;
  int64_t sched;           // scheduled send time of the request in flight
  size_t off;              // bytes of the request written so far
  char *in;                // received, not yet consumed response bytes
  size_t len, cap;
} Conn;

static const char *host, *port;
static struct addrinfo *addr;
static int ep;
static char *req;
static size_t reqLen;
static Conn *conns;
static int nconns;
static int64_t *queue, *lat; // FIFO of scheduled times; latencies (ns) of completed requests
static size_t qhead, qtail, nlat;
static long completed, errors;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what) {
  fprintf(stderr, "rrgen: %s %s:%s: %s\n", what, host, port, strerror(errno));
  exit(1);
}

static void conn_open(Conn *c) {
  int one = 1;
  c->fd = socket(addr->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->fd < 0 || connect(c->fd, addr->ai_addr, addr->ai_addrlen) < 0) die("cannot connect to");
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (fcntl(c->fd, F_SETFL, O_NONBLOCK) < 0) die("fcntl on connection to");
  struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)(c - conns) };
  if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl on connection to");
  c->busy = 0;
  c->len = 0;
}

static void conn_send(Conn *c, int64_t sched);

// The connection broke (closed, reset, unparseable response): its request in flight is lost (an error); reconnect.
static void conn_reset(Conn *c) {
  if (c->busy) errors++;
  close(c->fd);
  conn_open(c);
  if (qhead < qtail) conn_send(c, queue[qhead++]);
}

static void conn_flush(Conn *c) {
  while (c->off < reqLen) {
    ssize_t n = send(c->fd, req + c->off, reqLen - c->off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n <= 0) {
      conn_reset(c);
      return;
    }
    c->off += (size_t)n;
  }
  struct epoll_event ev = { .events = EPOLLIN | (c->off < reqLen ? EPOLLOUT : 0), .data.u32 = (uint32_t)(c - conns) };
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_send(Conn *c, int64_t sched) {
  c->busy = 1;
  c->sched = sched;
  c->off = 0;
  conn_flush(c);
}

// Does the header line [l, e) contain `word` (case-insensitive)?
static int line_has(const char *l, const char *e, const char *word) {
  size_t w = strlen(word);
  for (; l + w <= e; l++) if (strncasecmp(l, word, w) == 0) return 1;
  return 0;
}

// One complete response at the start of b: its length; 0 = incomplete; -1 = malformed or unframed.
static long parse_response(const char *b, size_t n, int *status, int *closeAfter) {
  const char *end = memmem(b, n, "\r\n\r\n", 4);
  if (!end) return n > MAX_HEADER ? -1 : 0;
  if (end - b < 12 || memcmp(b, "HTTP/1.", 7) != 0) return -1;
  *status = atoi(b + 9);
  long clen = -1;
  int chunked = 0;
  for (const char *l = (const char *)memchr(b, '\n', (size_t)(end - b) + 2) + 1, *e; l < end + 2; l = e + 2) {
    e = memmem(l, (size_t)(end + 2 - l), "\r\n", 2);
    if (strncasecmp(l, "content-length:", 15) == 0) clen = strtol(l + 15, NULL, 10);
    else if (strncasecmp(l, "transfer-encoding:", 18) == 0) chunked = line_has(l, e, "chunked");
    else if (strncasecmp(l, "connection:", 11) == 0) *closeAfter = line_has(l, e, "close");
  }
  size_t p = (size_t)(end - b) + 4;
  if (!chunked) {
    if (clen < 0 && *status != 204 && *status != 304) return -1; // body delimited by close: not keep-alive
    if (clen < 0) clen = 0;
    return n >= p + (size_t)clen ? (long)(p + (size_t)clen) : 0;
  }
  for (;;) { // chunk-size [ext] CRLF data CRLF ... 0 CRLF [trailers] CRLF
    const char *le = memmem(b + p, n - p, "\r\n", 2);
    if (!le) return 0;
    char *digitsEnd;
    unsigned long size = strtoul(b + p, &digitsEnd, 16);
    if (digitsEnd == b + p || size > (1UL << 30)) return -1; // no digits, or a size that would wrap below
    p = (size_t)(le - b) + 2;
    if (size == 0) {
      for (;;) {
        le = memmem(b + p, n - p, "\r\n", 2);
        if (!le) return 0;
        if (le == b + p) return (long)(p + 2);
        p = (size_t)(le - b) + 2;
      }
    }
    if (n - p < size + 2) return 0;
    if (memcmp(b + p + size, "\r\n", 2) != 0) return -1;
    p += size + 2;
  }
}

static void conn_readable(Conn *c) {
  int eof = 0; // parse what arrived before the close first: a "Connection: close" response may end with it
  while (!eof) {
    if (c->len + 1 >= c->cap && !(c->in = realloc(c->in, c->cap *= 2))) die("out of memory reading from");
    ssize_t n = read(c->fd, c->in + c->len, c->cap - c->len - 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    eof = n <= 0;
    c->len += eof ? 0 : (size_t)n;
    c->in[c->len] = 0; // the parser's strtol/atoi stop here at the latest
  }
  for (;;) {
    int status = 0, closeAfter = 0;
    long used = parse_response(c->in, c->len, &status, &closeAfter);
    if (used == 0) {
      if (eof) conn_reset(c);
      return;
    }
    if (used < 0 || !c->busy) {
      errors++;
      conn_reset(c);
      return;
    }
    lat[nlat++] = now_ns() - c->sched;
    completed++;
    if (status < 200 || status > 299) errors++;
    c->busy = 0;
    memmove(c->in, c->in + used, c->len - (size_t)used);
    c->len -= (size_t)used;
    c->in[c->len] = 0;
    if (closeAfter) {
      conn_reset(c);
      return;
    }
    if (qhead < qtail) conn_send(c, queue[qhead++]);
  }
}

static void arm(int tfd, int64_t at) {
  struct itimerspec its = { .it_value = { .tv_sec = at / 1000000000, .tv_nsec = at % 1000000000 } };
  if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0) die("timerfd_settime, target");
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

// percentile() of http-client.mjs, rounded to 0.1 us like rr.mjs; printed as a JSON number.
static void print_pct(const char *name, double p) {
  size_t i = nlat ? (size_t)(p / 100 * (double)nlat) : 0;
  int64_t tenths = nlat ? (lat[i < nlat ? i : nlat - 1] + 50) / 100 : 0;
  printf(",\"%s\":%lld", name, (long long)(tenths / 10));
  if (tenths % 10) printf(".%lld", (long long)(tenths % 10));
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: rrgen <host> <port> <durationMs> <connections> <rate> <bodyBytes>\n");
    return 2;
  }
  host = argv[1];
  port = argv[2];
  long durationMs = atol(argv[3]), bodyBytes = atol(argv[6]);
  nconns = atoi(argv[4]);
  double rate = strtod(argv[5], NULL);
  if (durationMs <= 0 || nconns <= 0 || rate <= 0 || bodyBytes < 0) {
    fprintf(stderr, "rrgen: durationMs, connections and rate must be > 0 (closed loop: use rr.mjs)\n");
    return 2;
  }
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
  int gai = getaddrinfo(host, port, &hints, &addr);
  if (gai != 0) {
    fprintf(stderr, "rrgen: cannot resolve %s:%s: %s\n", host, port, gai_strerror(gai));
    return 1;
  }
  int hlen = snprintf(NULL, 0, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain\r\nContent-Length: %ld\r\n\r\n", host, bodyBytes);
  reqLen = (size_t)hlen + (size_t)bodyBytes;
  req = malloc(reqLen + 1);
  if (!req) die("out of memory for the request to");
  snprintf(req, (size_t)hlen + 1, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain\r\nContent-Length: %ld\r\n\r\n", host, bodyBytes);
  memset(req + hlen, 'x', (size_t)bodyBytes);

  int64_t interval = (int64_t)(1e9 / rate + 0.5);
  if (interval < 1) interval = 1;
  size_t total = (size_t)(durationMs * 1000000 / interval) + 2;
  queue = malloc(total * sizeof *queue);
  lat = malloc(total * sizeof *lat);
  ep = epoll_create1(EPOLL_CLOEXEC);
  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (ep < 0 || tfd < 0 || !queue || !lat || !req) die("setup failed for");
  struct epoll_event tev = { .events = EPOLLIN, .data.u32 = TIMER_TAG };
  epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &tev);
  conns = calloc((size_t)nconns, sizeof *conns);
  for (int i = 0; i < nconns; i++) {
    conns[i].in = malloc(conns[i].cap = 65536);
    conn_open(&conns[i]);
  }

  int64_t start = now_ns(), stop = start + (int64_t)durationMs * 1000000, next = start, drainUntil = 0;
  for (;;) {
    int64_t t = now_ns();
    for (; next <= t && next < stop; next += interval) {
      int i = 0;
      while (i < nconns && conns[i].busy) i++;
      if (i < nconns) conn_send(&conns[i], next);
      else queue[qtail++] = next;
    }
    if (next >= stop && !drainUntil) drainUntil = now_ns() + 2000000000LL;
    if (drainUntil) {
      int busy = qhead < qtail;
      for (int i = 0; i < nconns; i++) busy |= conns[i].busy;
      if (!busy || now_ns() >= drainUntil) break;
    }
    arm(tfd, drainUntil ? drainUntil : next);
    struct epoll_event evs[64];
    int n = epoll_wait(ep, evs, 64, -1);
    if (n < 0 && errno != EINTR) die("epoll_wait, target");
    for (int k = 0; k < n; k++) {
      uint64_t expirations;
      if (evs[k].data.u32 == TIMER_TAG) {
        if (read(tfd, &expirations, sizeof expirations) < 0 && errno != EAGAIN) die("timerfd read, target");
        continue;
      }
      Conn *c = &conns[evs[k].data.u32];
      if (evs[k].events & EPOLLOUT) conn_flush(c);
      if (evs[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) conn_readable(c);
    }
  }
  // Requests still queued or in flight when the drain ended got no answer in time: errors, not silently dropped.
  errors += (long)(qtail - qhead);
  for (int i = 0; i < nconns; i++) errors += conns[i].busy;
  double elapsedS = (double)(now_ns() - start) / 1e9;
  qsort(lat, nlat, sizeof *lat, cmp_i64);
  printf("{\"requests\":%ld,\"elapsedS\":%.6f,\"rps\":%.3f", completed, elapsedS, (double)completed / ((double)durationMs / 1000));
  print_pct("p50Us", 50);
  print_pct("p90Us", 90);
  print_pct("p99Us", 99);
  printf(",\"samples\":%zu,\"errors\":%ld}\n", nlat, errors);
  return 0;
}
