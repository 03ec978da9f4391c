// istio-cni, native build: the same CNI plugin as src/plugin (the reference implementation, whose
// tests run against both), in C because a runtime execs it for every pod and Node alone needs
// ~30-60 ms to start. Same protocol: config on stdin, CNI_* env, POST /cmdadd to the agent's unix
// socket, prevResult (cniVersion set) on stdout, or the CNI error JSON with the same codes.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "json.h"

#define DEFAULT_CNI_VERSION "1.0.0"
#define DEFAULT_RUN_DIR "/var/run/istio-cni"
#define AGENT_REQUEST_TIMEOUT_MS 5000
#define MAX_STDIN_BYTES (4u * 1024u * 1024u)
#define MAX_AGENT_BODY_BYTES (64u * 1024u)
#define MAX_DETAILS_BYTES 1024u
#define CNI_AGENT_POD_PREFIX "istio-cni-node-"

enum { ERR_INCOMPATIBLE = 1, ERR_INVALID_ENV = 4, ERR_DECODE = 6, ERR_INVALID_CONFIG = 7, ERR_TRY_AGAIN = 11 };

static const char *const SUPPORTED[] = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"};
#define N_SUPPORTED (sizeof SUPPORTED / sizeof SUPPORTED[0])

static const char *g_version = DEFAULT_CNI_VERSION;
static char g_log_path[4200];
static int g_log_min = 20;

static int level_rank(const char *l) {
  if (!strcmp(l, "debug")) return 10;
  if (!strcmp(l, "warn")) return 30;
  if (!strcmp(l, "error")) return 40;
  return 20;
}

// Appends one JSON line (like the Node plugin's file logger); failures are ignored.
static void plog(const char *level, const char *msg, const char *k1, const char *v1, const char *k2, const char *v2) {
  if (!g_log_path[0] || level_rank(level) < g_log_min) return;
  FILE *f = fopen(g_log_path, "a");
  if (!f) return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char t[96];
  snprintf(t, sizeof t, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
           tm.tm_sec, ts.tv_nsec / 1000000);
  fprintf(f, "{\"time\":\"%s\",\"level\":\"%s\",\"component\":\"istio-cni\",\"msg\":", t, level);
  json_write_string(f, msg);
  if (k1 && !strcmp(k1, "code")) fprintf(f, ",\"code\":%s", v1); // a number, as in the Node plugin's log
  else if (k1) fprintf(f, ",\"%s\":", k1), json_write_string(f, v1);
  if (k2) fprintf(f, ",\"%s\":", k2), json_write_string(f, v2);
  fputs("}\n", f);
  fclose(f);
}

static _Noreturn void fail(int code, const char *msg, const char *details) {
  char c[16];
  snprintf(c, sizeof c, "%d", code);
  plog("error", msg, "code", c, details && *details ? "details" : NULL, details);
  printf("{\"cniVersion\":");
  json_write_string(stdout, g_version);
  printf(",\"code\":%d,\"msg\":", code);
  json_write_string(stdout, msg);
  if (details && *details) printf(",\"details\":"), json_write_string(stdout, details);
  printf("}\n");
  fflush(stdout);
  exit(1);
}

static _Noreturn void failf(int code, const char *details, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static _Noreturn void failf(int code, const char *details, const char *fmt, ...) {
  char msg[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fail(code, msg, details);
}

static bool supported(const char *v) {
  for (size_t i = 0; i < N_SUPPORTED; i++)
    if (!strcmp(v, SUPPORTED[i])) return true;
  return false;
}

static char *read_stdin(size_t *len) {
  size_t cap = 65536, n = 0;
  char *buf = malloc(cap);
  ssize_t r;
  while (buf && (r = read(0, buf + n, cap - n)) != 0) {
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    n += (size_t)r;
    if (n == cap && cap < MAX_STDIN_BYTES) buf = realloc(buf, cap *= 2);
    else if (n == cap) break;
  }
  if (!buf) fail(ERR_DECODE, "failed to read network configuration from stdin", "out of memory");
  *len = n;
  return buf;
}

static void print_version(const char *in, size_t len) {
  json_span root, v;
  const char *version = DEFAULT_CNI_VERSION;
  char *req = NULL;
  if (json_parse(in, len, &root) && json_get(root, "cniVersion", &v) && (req = json_string(v)) && supported(req)) version = req;
  printf("{\"cniVersion\":");
  json_write_string(stdout, version);
  printf(",\"supportedVersions\":[");
  for (size_t i = 0; i < N_SUPPORTED; i++) printf("%s\"%s\"", i ? "," : "", SUPPORTED[i]);
  printf("]}\n");
  free(req);
}

#include "istio-cni-config.h"
#include "istio-cni-http.h"

int main(void) {
  const char *command = getenv("CNI_COMMAND");
  check_env(command);
  size_t len;
  char *in = read_stdin(&len);
  if (!strcmp(command, "VERSION")) {
    print_version(in, len);
    return 0;
  }
  json_span root;
  if (!json_parse(in, len, &root)) fail(ERR_DECODE, "failed to decode network configuration from stdin", "SyntaxError: invalid JSON");
  if (json_type_of(root) != JT_OBJECT) fail(ERR_DECODE, "network configuration on stdin is not a JSON object", NULL);
  config cfg;
  parse_config(root, &cfg);
  g_version = cfg.cni_version;
  snprintf(g_log_path, sizeof g_log_path, "%s/plugin.log", cfg.run_dir);
  g_log_min = level_rank(cfg.log_level);
  check_version(cfg.cni_version, command);
  if (strcmp(command, "ADD") != 0) return 0; // DEL, CHECK, GC, STATUS: like Istio, nothing to do here
  cmd_add(&cfg);
  json_span empty = {"{}", 2};
  json_write_min(stdout, cfg.has_prev ? cfg.prev : empty, "cniVersion", cfg.cni_version);
  fputc('\n', stdout);
  return fflush(stdout) == 0 ? 0 : 1;
}
