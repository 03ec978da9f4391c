// Part of istio-cni.c (one translation unit): environment and network-config checks, mirroring
// src/plugin/cni-env.ts and src/plugin/plugin-config.ts message for message.
typedef struct {
  char *cni_version, *name, *type, *run_dir, *pod_namespace, *log_level, *socket_path;
  bool ambient, has_prev;
  json_span excluded, prev;
} config;

static const char *const COMMANDS[] = {"ADD", "DEL", "CHECK", "VERSION", "GC", "STATUS"};

static bool container_id_ok(const char *id) {
  for (const char *p = id; *p; p++) {
    bool alnum = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9');
    if (!alnum && (p == id || !strchr("_.-", *p))) return false;
  }
  return true;
}

// CNI_ARGS value of `key` (malloc'd), "" when absent; fails with code 4 on a malformed pair.
static char *cni_arg(const char *key) {
  const char *raw = getenv("CNI_ARGS");
  char *found = strdup("");
  for (const char *p = raw ? raw : ""; *p;) {
    const char *end = strchr(p, ';');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    const char *eq = memchr(p, '=', n);
    if (n > 0 && (!eq || eq == p)) {
      char pair[1024];
      snprintf(pair, sizeof pair, "%.*s", (int)n, p);
      char q[1100];
      FILE *m = fmemopen(q, sizeof q, "w");
      json_write_string(m, pair);
      fclose(m);
      failf(ERR_INVALID_ENV, NULL, "invalid CNI_ARGS pair %s: expected KEY=VALUE", q);
    }
    if (n > 0 && (size_t)(eq - p) == strlen(key) && !strncmp(p, key, strlen(key))) {
      free(found);
      found = strndup(eq + 1, n - (size_t)(eq - p) - 1);
    }
    p += n + (end ? 1 : 0);
  }
  return found;
}

static void check_env(const char *command) {
  if (!command || !*command) fail(ERR_INVALID_ENV, "required env variable CNI_COMMAND is missing", NULL);
  bool known = false;
  for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++) known |= !strcmp(command, COMMANDS[i]);
  if (!known) failf(ERR_INVALID_ENV, NULL, "unknown CNI_COMMAND \"%s\"", command);
  static const char *const netns_cmds[] = {"CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH"};
  static const char *const del_cmds[] = {"CNI_CONTAINERID", "CNI_IFNAME", "CNI_PATH"};
  static const char *const path_only[] = {"CNI_PATH"};
  const char *const *req = NULL;
  size_t n = 0;
  if (!strcmp(command, "ADD") || !strcmp(command, "CHECK")) req = netns_cmds, n = 4;
  else if (!strcmp(command, "DEL")) req = del_cmds, n = 3;
  else if (!strcmp(command, "GC") || !strcmp(command, "STATUS")) req = path_only, n = 1;
  char missing[256] = "";
  for (size_t i = 0; i < n; i++) {
    const char *v = getenv(req[i]);
    if (v && *v) continue;
    if (missing[0]) strcat(missing, ",");
    strcat(missing, req[i]);
  }
  if (missing[0]) failf(ERR_INVALID_ENV, NULL, "required env variables [%s] missing", missing);
  const char *id = getenv("CNI_CONTAINERID");
  if (id && *id && !container_id_ok(id)) failf(ERR_INVALID_ENV, NULL, "invalid characters in CNI_CONTAINERID \"%s\"", id);
  free(cni_arg("")); // validates CNI_ARGS for every command, as the Node plugin does
}

static char *opt_string(json_span root, const char *key, const char *def) {
  json_span v;
  if (!json_get(root, key, &v) || json_type_of(v) == JT_NULL) return def ? strdup(def) : NULL;
  if (json_type_of(v) != JT_STRING) failf(ERR_INVALID_CONFIG, NULL, "invalid network configuration: \"%s\" must be a string", key);
  char *s = json_string(v);
  if (s && !*s && def) {
    free(s);
    return strdup(def);
  }
  if (s && !*s) {
    free(s);
    return NULL;
  }
  return s;
}

static char *req_string(json_span root, const char *key) {
  json_span v;
  char *s = json_get(root, key, &v) ? json_string(v) : NULL;
  if (!s || !*s) failf(ERR_INVALID_CONFIG, NULL, "invalid network configuration: \"%s\" must be a non-empty string", key);
  return s;
}

static void parse_config(json_span root, config *c) {
  memset(c, 0, sizeof *c);
  c->run_dir = opt_string(root, "cni_agent_run_dir", DEFAULT_RUN_DIR);
  c->has_prev = json_get(root, "prevResult", &c->prev);
  if (c->has_prev && json_type_of(c->prev) != JT_OBJECT) fail(ERR_INVALID_CONFIG, "invalid network configuration: prevResult must be an object", NULL);
  json_span ex, it = {0};
  if (json_get(root, "exclude_namespaces", &ex) && json_type_of(ex) != JT_NULL) {
    bool ok = json_type_of(ex) == JT_ARRAY;
    while (ok && json_next(ex, &it)) ok = json_type_of(it) == JT_STRING;
    if (!ok) fail(ERR_INVALID_CONFIG, "invalid network configuration: exclude_namespaces must be an array of strings", NULL);
    c->excluded = ex;
  }
  c->cni_version = req_string(root, "cniVersion");
  c->name = req_string(root, "name");
  c->type = req_string(root, "type");
  json_span amb;
  if (json_get(root, "ambient_enabled", &amb) && json_type_of(amb) != JT_NULL) {
    if (json_type_of(amb) != JT_BOOL) fail(ERR_INVALID_CONFIG, "invalid network configuration: \"ambient_enabled\" must be a boolean", NULL);
    c->ambient = json_is_true(amb);
  }
  c->pod_namespace = opt_string(root, "pod_namespace", "");
  c->log_level = opt_string(root, "plugin_log_level", "info");
  c->socket_path = opt_string(root, "cni_event_address", NULL);
  if (!c->socket_path) {
    size_t n = strlen(c->run_dir);
    while (n > 0 && c->run_dir[n - 1] == '/') n--;
    if (asprintf(&c->socket_path, "%.*s/pluginevent.sock", (int)n, c->run_dir) < 0) fail(100, "istio-cni internal error", "out of memory");
  }
}

static int compare_versions(const char *a, const char *b) {
  for (int i = 0; i < 3; i++) {
    long x = a ? strtol(a, (char **)&a, 10) : 0, y = b ? strtol(b, (char **)&b, 10) : 0;
    if (x != y) return x < y ? -1 : 1;
    a = a && *a == '.' ? a + 1 : NULL;
    b = b && *b == '.' ? b + 1 : NULL;
  }
  return 0;
}

static void check_version(const char *version, const char *command) {
  if (!supported(version)) {
    failf(ERR_INCOMPATIBLE, NULL, "incompatible CNI versions: config is \"%s\", plugin supports [0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0]", version);
  }
  if ((!strcmp(command, "GC") || !strcmp(command, "STATUS")) && compare_versions(version, "1.1.0") < 0) {
    failf(ERR_INCOMPATIBLE, NULL, "command %s requires cniVersion >= 1.1.0, config is %s", command, version);
  }
}

static bool excluded(const config *c, const char *ns) {
  json_span it = {0};
  if (!c->excluded.p) return false;
  while (json_next(c->excluded, &it)) {
    char *s = json_string(it);
    bool eq = s && !strcmp(s, ns);
    free(s);
    if (eq) return true;
  }
  return false;
}
