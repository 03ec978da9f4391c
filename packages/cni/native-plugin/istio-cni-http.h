// Part of istio-cni.c (one translation unit): POST /cmdadd over the agent's unix socket, mirroring
// src/plugin/agent-client.ts and cmdAdd in src/plugin/run-plugin.ts.
static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// Waits for `events` on fd until the deadline; false on timeout.
static bool wait_fd(int fd, short events, long long deadline) {
  for (;;) {
    long long left = deadline - now_ms();
    if (left <= 0) return false;
    struct pollfd p = {fd, events, 0};
    int r = poll(&p, 1, (int)left);
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
}

typedef struct {
  int status;
  char *body;
} agent_response;

// Decodes a chunked body in place; returns its length.
static size_t dechunk(char *b, size_t n) {
  size_t in = 0, out = 0;
  while (in < n) {
    char *end;
    unsigned long sz = strtoul(b + in, &end, 16);
    char *crlf = strstr(end, "\r\n");
    if (!crlf || sz == 0) break;
    in = (size_t)(crlf + 2 - b);
    if (sz > n - in) sz = n - in;
    memmove(b + out, b + in, sz);
    out += sz;
    in += sz + 2;
  }
  b[out] = '\0';
  return out;
}

// Returns NULL on success, else the reason (the CNI error's details).
static const char *post_add(const char *socket_path, const char *payload, agent_response *res) {
  static char reason[512];
  long long deadline = now_ms() + AGENT_REQUEST_TIMEOUT_MS;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(socket_path) >= sizeof addr.sun_path) return "socket path too long";
  strcpy(addr.sun_path, socket_path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    const char *name = strerrorname_np(errno); // "connect ENOENT <path>", as Node words it
    snprintf(reason, sizeof reason, "connect %s %s", name ? name : strerror(errno), socket_path);
    return reason;
  }
  char *req;
  int n = asprintf(&req, "POST /cmdadd HTTP/1.1\r\nhost: unix\r\ncontent-type: application/json\r\ncontent-length: %zu\r\nconnection: close\r\n\r\n%s",
                   strlen(payload), payload);
  for (int off = 0; n > 0 && off < n;) {
    if (!wait_fd(fd, POLLOUT, deadline)) return "no answer within 5000 ms";
    ssize_t w = send(fd, req + off, (size_t)(n - off), MSG_NOSIGNAL);
    if (w < 0 && errno != EINTR) return strerror(errno);
    if (w > 0) off += (int)w;
  }
  size_t cap = MAX_AGENT_BODY_BYTES + 8192, len = 0;
  char *buf = malloc(cap + 1);
  for (;;) {
    if (!wait_fd(fd, POLLIN, deadline)) return "no answer within 5000 ms";
    ssize_t r = read(fd, buf + len, cap - len);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return strerror(errno);
    if (r == 0 || (len += (size_t)r) == cap) break; // connection: close ends the response
  }
  close(fd);
  buf[len] = '\0';
  char *head_end = strstr(buf, "\r\n\r\n");
  if (strncmp(buf, "HTTP/1.", 7) != 0 || !head_end || len < 12) return "malformed HTTP response from the agent";
  res->status = atoi(buf + 9);
  *head_end = '\0';
  res->body = head_end + 4;
  size_t body_len = len - (size_t)(res->body - buf);
  if (strcasestr(buf, "\r\ntransfer-encoding: chunked")) body_len = dechunk(res->body, body_len);
  if (body_len > MAX_DETAILS_BYTES) {
    body_len = MAX_DETAILS_BYTES;
    while (body_len > 0 && ((unsigned char)res->body[body_len] & 0xC0) == 0x80) body_len--; // whole UTF-8 characters
  }
  res->body[body_len] = '\0';
  return NULL;
}

// {"Netns":..,"PodName":..,"PodNamespace":..,"PodUID":..,"IPs":[{"Address":..,"Gateway":..,"Interface":n}]}
static char *add_event(const config *c, const char *name, const char *ns, const char *uid) {
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  fputs("{\"Netns\":", f);
  json_write_string(f, getenv("CNI_NETNS"));
  fputs(",\"PodName\":", f);
  json_write_string(f, name);
  fputs(",\"PodNamespace\":", f);
  json_write_string(f, ns);
  fputs(",\"PodUID\":", f);
  json_write_string(f, uid);
  fputs(",\"IPs\":[", f);
  json_span ips, it = {0}, v;
  bool first = true;
  if (c->has_prev && json_get(c->prev, "ips", &ips) && json_type_of(ips) == JT_ARRAY) {
    while (json_next(ips, &it)) {
      if (json_type_of(it) != JT_OBJECT || !json_get(it, "address", &v) || json_type_of(v) != JT_STRING) continue;
      fputs(first ? "{\"Address\":" : ",{\"Address\":", f);
      first = false;
      json_write_min(f, v, NULL, NULL);
      if (json_get(it, "gateway", &v) && json_type_of(v) == JT_STRING) fputs(",\"Gateway\":", f), json_write_min(f, v, NULL, NULL);
      if (json_get(it, "interface", &v) && json_type_of(v) == JT_NUMBER) fputs(",\"Interface\":", f), json_write_min(f, v, NULL, NULL);
      fputc('}', f);
    }
  }
  fputs("]}", f);
  fclose(f);
  return out;
}

static void cmd_add(const config *c) {
  char *name = cni_arg("K8S_POD_NAME"), *ns = cni_arg("K8S_POD_NAMESPACE"), *uid = cni_arg("K8S_POD_UID");
  char pod[600];
  snprintf(pod, sizeof pod, "%s/%s", ns, name);
  const char *cid = getenv("CNI_CONTAINERID") ? getenv("CNI_CONTAINERID") : "";
  if (!c->ambient) return;
  if (!*name || !*ns) {
    plog("debug", "not a kubernetes pod, skipping", "pod", pod, "containerId", cid);
    return;
  }
  if (excluded(c, ns)) {
    plog("info", "pod namespace excluded", "pod", pod, "containerId", cid);
    return;
  }
  if (!strncmp(name, CNI_AGENT_POD_PREFIX, strlen(CNI_AGENT_POD_PREFIX)) && !strcmp(ns, c->pod_namespace)) {
    {
    plog("info", "pod is the istio-cni agent itself, skipping", "pod", pod, "containerId", cid);
    return;
  }
  }
  agent_response res = {0};
  const char *err = post_add(c->socket_path, add_event(c, name, ns, uid), &res);
  if (err) {
    failf(ERR_TRY_AGAIN, err, "istio-cni cmdAdd failed to contact node Istio CNI agent at %s; is the istio-cni-node pod running on this node?",
          c->socket_path);
  }
  if (res.status != 200) {
    failf(ERR_TRY_AGAIN, res.body, "istio-cni cmdAdd: node Istio CNI agent failed to set up redirection (status %d)", res.status);
  }
  plog("info", "node agent accepted pod", "pod", pod, "containerId", cid);
}
