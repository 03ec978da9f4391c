// Built-in requests of mesh-netns-exec (see netns-exec-netlink.h). They save a fork+exec of `ip`,
// `cat` and `ip[6]tables-save` per step of a CNI ADD, each ~1.5-3 ms on a busy node.
//
//   @probe PREF MARK MASK TABLE
//     prints "lo_ipv6 0|1", then for v4 and v6: "rules vN COUNT" (our fwmark rules, -1 when the
//     family is unsupported), "route vN 0|1|-1" (our local default route via lo in TABLE) and
//     "nft_tables vN COUNT" (nftables tables of that family, -1 when nf_tables cannot be asked),
//     then "nft_tables inet COUNT".
//   @routing 4|6 stop|force PREF MARK MASK TABLE OP...   OP: add-route add-rule del-rule del-route
//     the same netlink requests as `ip rule add fwmark MARK/MASK pref PREF lookup TABLE` and
//     `ip route replace local 0.0.0.0/0 (::/0) dev lo table TABLE`; "stop" ends at the first
//     failure, "force" tries every OP; exit 1 when one failed (reason on stderr).
#define _GNU_SOURCE
#include "netns-exec-netlink.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fib_rules.h>
#include <linux/netfilter.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NL_RECV_BUF_BYTES 65536
#define LO_IPV6_DISABLED_SYSCTL "/proc/sys/net/ipv6/conf/lo/disable_ipv6"

void buf_append(buf_t *b, const char *p, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 4096;
    while (cap < b->len + n) cap *= 2;
    b->data = realloc(b->data, cap);
    if (!b->data) {
      fputs("mesh-netns-exec: out of memory\n", stderr);
      exit(5);
    }
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
}

void buf_printf(buf_t *b, const char *fmt, ...) {
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n > 0) buf_append(b, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

typedef struct {
  uint32_t pref, mark, mask, table;
} inpod_route_t;

typedef struct {
  struct nlmsghdr n;
  union {
    struct rtmsg r;
    struct fib_rule_hdr f;
    struct nfgenmsg g;
    struct rtgenmsg rg;
  } u;
  char attrs[256];
} nl_req_t;

static uint32_t nl_seq;

static int nl_open(int proto) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
  if (fd < 0) return -errno;
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  return fd;
}

static void nl_attr(nl_req_t *req, unsigned short type, const void *data, unsigned short len) {
  size_t at = NLMSG_ALIGN(req->n.nlmsg_len);
  if (at + RTA_LENGTH(len) > sizeof *req) abort(); // a programming error: the attributes are fixed
  struct rtattr a = {.rta_len = (unsigned short)RTA_LENGTH(len), .rta_type = type};
  memcpy((char *)req + at, &a, sizeof a);
  memcpy((char *)req + at + RTA_LENGTH(0), data, len);
  req->n.nlmsg_len = (uint32_t)(at + RTA_ALIGN(a.rta_len));
}

typedef void (*nl_cb)(const struct nlmsghdr *h, void *arg);

// Sends one request and reads until its answer is complete: 0 (ack or end of dump) or -errno.
static int nl_talk(int fd, struct nlmsghdr *req, nl_cb cb, void *arg) {
  req->nlmsg_seq = ++nl_seq;
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  if (sendto(fd, req, req->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof sa) < 0) return -errno;
  static char buf[NL_RECV_BUF_BYTES];
  for (;;) {
    ssize_t got = recv(fd, buf, sizeof buf, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (got == 0) return -EPIPE;
    int len = (int)got;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != req->nlmsg_seq) continue;
      if (h->nlmsg_type == NLMSG_DONE) return 0;
      if (h->nlmsg_type == NLMSG_ERROR) return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
      if (cb) cb(h, arg);
      if (!(h->nlmsg_flags & NLM_F_MULTI)) return 0;
    }
  }
}

static int dump(int fd, uint16_t type, unsigned char family, nl_cb cb, void *arg) {
  nl_req_t req = {0};
  req.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtgenmsg));
  req.n.nlmsg_type = type;
  req.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.u.rg.rtgen_family = family;
  return nl_talk(fd, &req.n, cb, arg);
}

typedef struct {
  const inpod_route_t *want;
  unsigned char family;
  int lo;
  int count;
} match_t;

static uint32_t u32_attr(const struct rtattr *a) {
  uint32_t v;
  memcpy(&v, RTA_DATA(a), sizeof v);
  return v;
}

// Counts fwmark rules like `ip rule show pref PREF` lines holding "fwmark MARK/MASK lookup TABLE".
static void count_rule(const struct nlmsghdr *h, void *arg) {
  match_t *m = arg;
  const struct fib_rule_hdr *f = NLMSG_DATA(h);
  if (h->nlmsg_type != RTM_NEWRULE || f->family != m->family || f->action != FR_ACT_TO_TBL) return;
  uint32_t table = f->table, pref = 0, mark = 0, mask = 0xffffffff;
  int has_mark = 0;
  int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof *f);
  for (const struct rtattr *a = (const void *)((const char *)f + NLMSG_ALIGN(sizeof *f)); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type == FRA_TABLE) table = u32_attr(a);
    else if (a->rta_type == FRA_PRIORITY) pref = u32_attr(a);
    else if (a->rta_type == FRA_FWMARK) mark = u32_attr(a), has_mark = 1;
    else if (a->rta_type == FRA_FWMASK) mask = u32_attr(a);
  }
  if (has_mark && table == m->want->table && pref == m->want->pref && mark == m->want->mark && mask == m->want->mask) m->count++;
}

// Counts `local default dev lo` routes in TABLE (what `ip route show table TABLE` would list).
static void count_route(const struct nlmsghdr *h, void *arg) {
  match_t *m = arg;
  const struct rtmsg *r = NLMSG_DATA(h);
  if (h->nlmsg_type != RTM_NEWROUTE || r->rtm_family != m->family || r->rtm_type != RTN_LOCAL || r->rtm_dst_len != 0) return;
  uint32_t table = r->rtm_table;
  int oif = -1;
  int len = (int)RTM_PAYLOAD(h);
  for (const struct rtattr *a = RTM_RTA(r); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type == RTA_TABLE) table = u32_attr(a);
    else if (a->rta_type == RTA_OIF) oif = (int)u32_attr(a);
  }
  if (table == m->want->table && oif == m->lo) m->count++;
}

static void count_nft_table(const struct nlmsghdr *h, void *arg) {
  match_t *m = arg;
  const struct nfgenmsg *g = NLMSG_DATA(h);
  if (g->nfgen_family == m->family) m->count++;
}

// nftables tables of one family, or -1 when nf_tables cannot be asked (fd < 0 or the dump failed).
static int count_nft_tables(int fd, unsigned char family) {
  if (fd < 0) return -1;
  match_t tables = {NULL, family, 0, 0};
  nl_req_t req = {0};
  req.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct nfgenmsg));
  req.n.nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE;
  req.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.u.g.nfgen_family = family;
  req.u.g.version = NFNETLINK_V0;
  int r = nl_talk(fd, &req.n, count_nft_table, &tables);
  return r < 0 ? -1 : tables.count;
}

static int family_of(const char *s) { return strcmp(s, "6") == 0 ? AF_INET6 : AF_INET; }

static int parse_route(char **argv, inpod_route_t *r) {
  char *end;
  uint32_t *fields[4] = {&r->pref, &r->mark, &r->mask, &r->table};
  for (int i = 0; i < 4; i++) {
    unsigned long v = strtoul(argv[i], &end, 0);
    if (*argv[i] == '\0' || *end != '\0' || v > 0xffffffffUL) return -1;
    *fields[i] = (uint32_t)v;
  }
  return 0;
}

static int lo_ipv6_enabled(void) {
  int fd = open(LO_IPV6_DISABLED_SYSCTL, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char c = '1';
  ssize_t n = read(fd, &c, 1);
  close(fd);
  return n == 1 && c != '1';
}

static int probe(char **argv, buf_t *out, buf_t *err) {
  inpod_route_t want;
  if (parse_route(argv, &want) < 0) {
    buf_printf(err, "mesh-netns-exec: @probe PREF MARK MASK TABLE: bad number\n");
    return 2;
  }
  buf_printf(out, "lo_ipv6 %d\n", lo_ipv6_enabled());
  int rt = nl_open(NETLINK_ROUTE);
  int lo = (int)if_nametoindex("lo");
  const unsigned char fams[2] = {AF_INET, AF_INET6};
  for (int i = 0; i < 2; i++) {
    match_t rules = {&want, fams[i], lo, 0}, routes = {&want, fams[i], lo, 0};
    int rr = rt < 0 ? rt : dump(rt, RTM_GETRULE, fams[i], count_rule, &rules);
    int ro = rt < 0 ? rt : dump(rt, RTM_GETROUTE, fams[i], count_route, &routes);
    buf_printf(out, "rules v%d %d\nroute v%d %d\n", i ? 6 : 4, rr < 0 ? -1 : rules.count, i ? 6 : 4, ro < 0 ? -1 : routes.count > 0);
  }
  if (rt >= 0) close(rt);
  int nf = nl_open(NETLINK_NETFILTER);
  buf_printf(out, "nft_tables v4 %d\n", count_nft_tables(nf, NFPROTO_IPV4));
  buf_printf(out, "nft_tables v6 %d\n", count_nft_tables(nf, NFPROTO_IPV6));
  // inet tables: where the native nftables backend keeps its rules (removal skips nft without them).
  buf_printf(out, "nft_tables inet %d\n", count_nft_tables(nf, NFPROTO_INET));
  if (nf >= 0) close(nf);
  return 0;
}

// `ip route replace|del local <any> dev lo table T`: scope host, proto boot, as iproute2 sends it.
static int route_op(int fd, int family, const inpod_route_t *w, int add, int lo) {
  nl_req_t req = {0};
  req.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
  req.n.nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
  req.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
  req.u.r.rtm_family = (unsigned char)family;
  req.u.r.rtm_type = RTN_LOCAL;
  req.u.r.rtm_scope = add ? RT_SCOPE_HOST : RT_SCOPE_NOWHERE;
  req.u.r.rtm_protocol = add ? RTPROT_BOOT : RTPROT_UNSPEC;
  if (w->table < 256) req.u.r.rtm_table = (unsigned char)w->table;
  else nl_attr(&req, RTA_TABLE, &w->table, sizeof w->table);
  unsigned char any[16] = {0};
  nl_attr(&req, RTA_DST, any, family == AF_INET6 ? 16 : 4);
  uint32_t oif = (uint32_t)lo;
  nl_attr(&req, RTA_OIF, &oif, sizeof oif);
  return nl_talk(fd, &req.n, NULL, NULL);
}

// `ip rule add|del fwmark MARK/MASK pref PREF lookup TABLE`.
static int rule_op(int fd, int family, const inpod_route_t *w, int add) {
  nl_req_t req = {0};
  req.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct fib_rule_hdr));
  req.n.nlmsg_type = add ? RTM_NEWRULE : RTM_DELRULE;
  req.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
  req.u.f.family = (unsigned char)family;
  req.u.f.action = FR_ACT_TO_TBL;
  if (w->table < 256) req.u.f.table = (unsigned char)w->table;
  else nl_attr(&req, FRA_TABLE, &w->table, sizeof w->table);
  nl_attr(&req, FRA_PRIORITY, &w->pref, sizeof w->pref);
  nl_attr(&req, FRA_FWMARK, &w->mark, sizeof w->mark);
  nl_attr(&req, FRA_FWMASK, &w->mask, sizeof w->mask);
  return nl_talk(fd, &req.n, NULL, NULL);
}

static int routing(int argc, char **argv, buf_t *err) {
  inpod_route_t want;
  if (argc < 7 || parse_route(argv + 3, &want) < 0) {
    buf_printf(err, "mesh-netns-exec: usage: @routing 4|6 stop|force PREF MARK MASK TABLE OP...\n");
    return 2;
  }
  int family = family_of(argv[1]);
  int force = strcmp(argv[2], "force") == 0;
  int fd = nl_open(NETLINK_ROUTE);
  if (fd < 0) {
    buf_printf(err, "mesh-netns-exec: netlink socket: %s\n", strerror(-fd));
    return 1;
  }
  int lo = (int)if_nametoindex("lo");
  int rc = 0;
  for (int i = 7; i < argc; i++) {
    const char *op = argv[i];
    int r;
    if (strcmp(op, "add-route") == 0 || strcmp(op, "del-route") == 0) r = lo > 0 ? route_op(fd, family, &want, op[0] == 'a', lo) : -ENODEV;
    else if (strcmp(op, "add-rule") == 0 || strcmp(op, "del-rule") == 0) r = rule_op(fd, family, &want, op[0] == 'a');
    else r = -EINVAL;
    if (r == 0) continue;
    buf_printf(err, "mesh-netns-exec: %s (IPv%s, pref %u, fwmark 0x%x/0x%x, table %u): %s\n", op, argv[1], want.pref, want.mark, want.mask,
               want.table, strerror(-r));
    rc = 1;
    if (!force) break;
  }
  close(fd);
  return rc;
}

int run_builtin(int argc, char **argv, buf_t *out, buf_t *err) {
  if (strcmp(argv[0], "@probe") == 0 && argc == 5) return probe(argv + 1, out, err);
  if (strcmp(argv[0], "@routing") == 0) return routing(argc, argv, err);
  buf_printf(err, "mesh-netns-exec: unknown built-in %s (or wrong arguments)\n", argv[0]);
  return 127;
}
