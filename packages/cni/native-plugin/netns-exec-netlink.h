// Built-in requests of mesh-netns-exec, answered inside the helper over netlink (no fork/exec):
// the in-pod policy routing (Istio does it over netlink too: cni/pkg/iptables/iptables_linux.go)
// and a cheap "does this netns hold any nftables table" probe.
#ifndef MESH_NETNS_EXEC_NETLINK_H
#define MESH_NETNS_EXEC_NETLINK_H

#include <stddef.h>

typedef struct {
  char *data;
  size_t len;
  size_t cap;
} buf_t;

void buf_append(buf_t *b, const char *p, size_t n);
void buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// Runs builtin argv[0] (which starts with '@'); writes its output to out/err, returns an exit code.
int run_builtin(int argc, char **argv, buf_t *out, buf_t *err);

#endif
