/* sockstate.c: TCP socket states through netlink sock_diag (sockstate.h).
 *
 * The special problem of sampling: the sampler asks for a dump many times a
 * second while roles are busy changing the very sockets it reads, so a dump
 * must be cheap and must never leave the netlink socket in a state that
 * breaks the next one.  Hence one buffer per sock_diag socket, allocated at
 * open and reused, a request that asks for the one extension we read
 * (INET_DIAG_INFO) and nothing else, and a drain of whatever is left of a
 * dump that failed half-way: a dump is produced by the kernel as we read it,
 * and unread parts of an old one would otherwise be taken for the answer to
 * the next request.
 *
 * What the kernel reports, and how ss shows it:
 *   - full sockets: state, queues, timer and INET_DIAG_INFO (struct tcp_info);
 *     for a listener idiag_rqueue is the accept queue's fill and
 *     idiag_wqueue its backlog, which ss prints as Recv-Q and Send-Q;
 *   - TIME-WAIT mini-sockets (and FIN-WAIT-2 ones after an orphaned close,
 *     reported with their substate): timer "timewait", no tcp_info;
 *   - request sockets (a SYN answered, the final ACK not yet received): state
 *     SYN-RECV, timer "on" for the SYN-ACK retransmit, no tcp_info.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>

#include "ipaddr.h"
#include "err.h"
#include "sockstate.h"

/* Kernel-internal state of request sockets (include/net/tcp_states.h); the
 * kernel reports them as TCP_SYN_RECV, but the name is known for parsing. */
#define SL__TCP_NEW_SYN_RECV 12

/* Large enough that a dump of a few dozen sockets, each with its tcp_info,
 * arrives in one recvmsg(): the kernel sizes the dump's skbs by the largest
 * read it has seen on the socket. */
#define SL__DIAG_BUFSZ 32768

/* How many times a dump the kernel flagged as interrupted (NLM_F_DUMP_INTR:
 * the socket tables changed under it) is tried again before giving up. */
#define SL__DUMP_TRIES 3

/* TCP_BOUND_INACTIVE of include/net/tcp_states.h (6.5 and later). */
#define SL__TCP_BOUND_INACTIVE 13

struct sl_sockdiag {
	struct mnl_socket *nl;
	unsigned int portid;
	unsigned int seq;
	int family; /* AF_INET (the default) or AF_INET6 */
	char buf[SL__DIAG_BUFSZ];
};

/* Where the parse callback writes: the caller's array and its size. */
struct dump_ctx {
	struct sl_sock *out;
	int max;
	int n;
};

int sl_sockdiag_open(struct sl_sockdiag **dp, int nsfd, struct sl_err *e)
{
	struct sl_sockdiag *d;
	int oldns = -1;
	int ret = 0;

	*dp = NULL;
	d = calloc(1, sizeof(*d));
	if (d)
		d->family = AF_INET;
	if (!d)
		return sl_errf(e, ENOMEM, "allocate sock_diag socket");

	/* A netlink socket belongs to the namespace it was created in, so we
	 * step into nsfd only for socket() and bind() and come straight back:
	 * the thread must not stay in a host's namespace behind the caller's
	 * back. */
	if (nsfd >= 0) {
		oldns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (oldns < 0) {
			ret = sl_errf(e, errno,
				      "open /proc/thread-self/ns/net");
			goto out_free;
		}
		if (setns(nsfd, CLONE_NEWNET) < 0) {
			ret = sl_errf(e, errno, "open sock_diag in namespace");
			goto out_oldns;
		}
	}

	d->nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	if (!d->nl) {
		ret = sl_errf(e, errno, "open sock_diag socket%s",
			      nsfd >= 0 ? " in namespace" : "");
	} else if (mnl_socket_bind(d->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = sl_errf(e, errno, "bind sock_diag%s",
			      nsfd >= 0 ? " in namespace" : "");
		mnl_socket_close(d->nl);
		d->nl = NULL;
	}

	if (nsfd >= 0 && setns(oldns, CLONE_NEWNET) < 0) {
		/* Worse than any failure above: the thread now lives in the
		 * host's namespace.  Say so, whatever happened before. */
		ret = sl_errf(e, errno,
			      "return to own namespace after "
			      "opening sock_diag");
		if (d->nl) {
			mnl_socket_close(d->nl);
			d->nl = NULL;
		}
	}
	if (ret < 0)
		goto out_oldns;

	d->portid = mnl_socket_get_portid(d->nl);
	d->seq = 1;
	if (oldns >= 0)
		close(oldns);
	*dp = d;
	return 0;

out_oldns:
	if (oldns >= 0)
		close(oldns);
out_free:
	free(d);
	return ret;
}

void sl_sockdiag_close(struct sl_sockdiag *d)
{
	if (!d)
		return;
	if (d->nl)
		mnl_socket_close(d->nl);
	free(d);
}

static void fill_info(struct sl_sock *s, const struct nlattr *a)
{
	struct tcp_info ti;
	size_t len = mnl_attr_get_payload_len(a);

	/* Older kernels send a shorter struct tcp_info and newer ones a longer
	 * one: take the common prefix, and zeros for what is missing. */
	memset(&ti, 0, sizeof(ti));
	if (len > sizeof(ti))
		len = sizeof(ti);
	memcpy(&ti, mnl_attr_get_payload(a), len);
	s->has_info = true;
	s->rto_us = ti.tcpi_rto;
	s->backoff = ti.tcpi_backoff;
	s->probes = ti.tcpi_probes;
	s->retransmits = ti.tcpi_retransmits;
	s->total_retrans = ti.tcpi_total_retrans;
	s->unacked = ti.tcpi_unacked;
	s->lost = ti.tcpi_lost;
}

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *ctx = data;
	const struct inet_diag_msg *r;
	const struct nlattr *a;
	struct sl_sock *s;

	/* Too short for a socket record: nothing to take from it. */
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*r))
		return MNL_CB_OK;
	r = mnl_nlmsg_get_payload(nlh);
	if (r->idiag_family != AF_INET && r->idiag_family != AF_INET6)
		return MNL_CB_OK;
	/* No room for more: the rest are skipped, but still read, so that
	 * the dump is consumed to its end. */
	if (ctx->n >= ctx->max)
		return MNL_CB_OK;

	s = &ctx->out[ctx->n++];
	memset(s, 0, sizeof(*s));
	s->state = r->idiag_state;
	/* Four words for either family; an IPv4 socket fills the first. */
	if (r->idiag_family == AF_INET) {
		s->laddr = sl_ip_from4(
			(struct in_addr){ .s_addr = r->id.idiag_src[0] });
		s->raddr = sl_ip_from4(
			(struct in_addr){ .s_addr = r->id.idiag_dst[0] });
	} else {
		memcpy(&s->laddr, r->id.idiag_src, sizeof(s->laddr));
		memcpy(&s->raddr, r->id.idiag_dst, sizeof(s->raddr));
	}
	s->lport = ntohs(r->id.idiag_sport);
	s->rport = ntohs(r->id.idiag_dport);
	s->rqueue = r->idiag_rqueue;
	s->wqueue = r->idiag_wqueue;
	s->timer = r->idiag_timer;
	s->expires_ms = r->idiag_expires;
	s->retrans = r->idiag_retrans;
	s->inode = r->idiag_inode;

	/* One attribute is wanted; walking the list directly is cheaper than
	 * building a table of all of them with mnl_attr_parse(). */
	mnl_attr_for_each(a, nlh, sizeof(*r))
	{
		if (mnl_attr_get_type(a) == INET_DIAG_INFO) {
			fill_info(s, a);
			break;
		}
	}
	return MNL_CB_OK;
}

/* Reads and throws away what is left of a dump that failed half-way, so that
 * the next request starts on an empty socket.  Netlink produces the rest of
 * a dump on each read, so non-blocking reads until EAGAIN (or the dump's
 * end) get all of it. */
static void drain(struct sl_sockdiag *d)
{
	int fd = mnl_socket_get_fd(d->nl);

	for (;;) {
		ssize_t r = recv(fd, d->buf, sizeof(d->buf), MSG_DONTWAIT);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
	}
}

static int dump_once(struct sl_sockdiag *d, struct dump_ctx *ctx,
		     struct sl_err *e)
{
	struct inet_diag_req_v2 *req;
	struct nlmsghdr *nlh;
	unsigned int seq;
	ssize_t len;
	int ret;

	nlh = mnl_nlmsg_put_header(d->buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	/* Sequence 0 would turn off mnl_cb_run()'s check that an answer
	 * belongs to this request, so it is skipped when the counter wraps. */
	if (!d->seq)
		d->seq = 1;
	nlh->nlmsg_seq = seq = d->seq++;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = (uint8_t)d->family;
	req->sdiag_protocol = IPPROTO_TCP;
	/* Every state but one: TIME_WAIT and NEW_SYN_RECV (request sockets)
	 * included, TCP_BOUND_INACTIVE (bound, neither listening nor
	 * connected: ss's UNCONN) left out.  The kernel finds those by
	 * walking the bind hash, which every namespace shares with the
	 * machine (only the established hash can be a namespace's own,
	 * topology.c): 65536 buckets on a 2-core VM, ~230 us of CPU per dump
	 * whatever the namespace holds, against ~17 us for everything else
	 * with a private established hash.  No claim is about a socket that
	 * is only bound; dumps stay cheap on every machine. */
	req->idiag_states = 0xffffffff & ~(1u << SL__TCP_BOUND_INACTIVE);
	req->idiag_ext = 1 << (INET_DIAG_INFO - 1);

	if (mnl_socket_sendto(d->nl, nlh, nlh->nlmsg_len) < 0)
		return sl_errf(e, errno, "send sock_diag dump request");

	ctx->n = 0;
	for (;;) {
		len = mnl_socket_recvfrom(d->nl, d->buf, sizeof(d->buf));
		if (len < 0) {
			if (errno == EINTR)
				continue;
			ret = sl_errf(e, errno, "receive sock_diag dump");
			break;
		}
		ret = mnl_cb_run(d->buf, len, seq, d->portid, dump_cb, ctx);
		if (ret == MNL_CB_STOP)
			return 0;
		if (ret == MNL_CB_ERROR) {
			/* EINTR here is NLM_F_DUMP_INTR, which the caller
			 * retries once the rest of this dump is gone. */
			if (errno == EINTR) {
				drain(d);
				return -EINTR;
			}
			ret = sl_errf(e, errno, "parse sock_diag dump");
			break;
		}
	}
	drain(d);
	return ret;
}

void sl_sockdiag_set_family(struct sl_sockdiag *d, int family)
{
	d->family = family;
}

int sl_sockdiag_dump(struct sl_sockdiag *d, struct sl_sock *out, int max,
		     int *n, struct sl_err *e)
{
	struct dump_ctx ctx = { .out = out, .max = max < 0 ? 0 : max };
	int ret = -EINTR;

	*n = 0;
	for (int i = 0; i < SL__DUMP_TRIES && ret == -EINTR; i++)
		ret = dump_once(d, &ctx, e);
	if (ret == -EINTR)
		return sl_errf(e, EINTR,
			       "sock_diag dump interrupted %d times in a row",
			       SL__DUMP_TRIES);
	if (ret < 0)
		return ret;
	*n = ctx.n;
	return 0;
}

/* Indexed by kernel state: the names ss prints (misc/ss.c, sstate_name). */
static const char *const state_names[] = {
	[TCP_ESTABLISHED] = "ESTAB",	[TCP_SYN_SENT] = "SYN-SENT",
	[TCP_SYN_RECV] = "SYN-RECV",	[TCP_FIN_WAIT1] = "FIN-WAIT-1",
	[TCP_FIN_WAIT2] = "FIN-WAIT-2", [TCP_TIME_WAIT] = "TIME-WAIT",
	[TCP_CLOSE] = "UNCONN",		[TCP_CLOSE_WAIT] = "CLOSE-WAIT",
	[TCP_LAST_ACK] = "LAST-ACK",	[TCP_LISTEN] = "LISTEN",
	[TCP_CLOSING] = "CLOSING",	[SL__TCP_NEW_SYN_RECV] = "NEW-SYN-RECV",
};

const char *sl_state_name(int state)
{
	if (state < 0 ||
	    state >= (int)(sizeof(state_names) / sizeof(state_names[0])) ||
	    !state_names[state])
		return "?";
	return state_names[state];
}

/* Other spellings: the kernel's (tcp_states.h, and the tracepoints' TCP_
 * names once the prefix is gone) and the usual "CLOSED". */
static const struct {
	const char *name;
	int state;
} state_aliases[] = {
	{ "ESTABLISHED", TCP_ESTABLISHED },
	{ "FIN-WAIT1", TCP_FIN_WAIT1 },
	{ "FIN-WAIT2", TCP_FIN_WAIT2 },
	{ "CLOSE", TCP_CLOSE },
	{ "CLOSED", TCP_CLOSE },
};

/* Case-insensitive, and '-' and '_' are the same letter, so that ss's
 * TIME-WAIT and the kernel's TIME_WAIT both match. */
static int fold(char c)
{
	return c == '_' ? '-' : tolower((unsigned char)c);
}

static bool name_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (fold(*a) != fold(*b))
			return false;
	return *a == *b;
}

int sl_state_parse(const char *name)
{
	size_t i;

	if (!name)
		return -1;
	if (!strncasecmp(name, "TCP_", 4))
		name += 4;
	for (i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (state_names[i] && name_eq(name, state_names[i]))
			return (int)i;
	for (i = 0; i < sizeof(state_aliases) / sizeof(state_aliases[0]); i++)
		if (name_eq(name, state_aliases[i].name))
			return state_aliases[i].state;
	return -1;
}

/* snprintf's result turned into what sockstate.h promises: the length
 * actually in buf, never more than n - 1. */
static int clamp_len(int r, size_t n)
{
	if (r < 0 || n == 0)
		return 0;
	return (size_t)r < n ? r : (int)(n - 1);
}

/* ss's print_ms_timer(): whole minutes ("2min", seconds dropped from ten
 * minutes on), else seconds with milliseconds as a fraction ("7.200ms",
 * which is how ss writes 7.2 s; "59sec" when the milliseconds are zero or
 * there are ten seconds or more), else "200ms".  Zero prints nothing, as in
 * ss. */
static void format_ms(char *buf, size_t n, uint32_t ms)
{
	unsigned int secs = ms / 1000, minutes = secs / 60, msecs = ms % 1000;
	size_t used = 0;

	secs %= 60;
	buf[0] = '\0';
	if (minutes) {
		msecs = 0;
		used += snprintf(buf + used, n - used, "%umin", minutes);
		if (minutes > 9)
			secs = 0;
	}
	if (secs && used < n) {
		if (secs > 9)
			msecs = 0;
		used += snprintf(buf + used, n - used, "%u%s", secs,
				 msecs ? "." : "sec");
	}
	if (msecs && used < n)
		snprintf(buf + used, n - used, "%03ums", msecs);
}

int sl_sock_format_timer(const struct sl_sock *s, char *buf, size_t n)
{
	static const char *const names[] = {
		[SL_TIMER_NONE] = "off",
		[SL_TIMER_ON] = "on",
		[SL_TIMER_KEEPALIVE] = "keepalive",
		[SL_TIMER_TIMEWAIT] = "timewait",
		[SL_TIMER_PERSIST] = "persist",
	};
	char when[32];

	if (n)
		buf[0] = '\0';
	if (s->timer == SL_TIMER_NONE)
		return 0;
	format_ms(when, sizeof(when), s->expires_ms);
	return clamp_len(snprintf(buf, n, "timer:(%s,%s,%u)",
				  s->timer <= SL_TIMER_PERSIST ?
					  names[s->timer] :
					  "unknown",
				  when, s->retrans),
			 n);
}

/* ss -n writes port 0 (an unconnected peer, an unbound socket) as "*". */
/* ss -n writes port 0 (an unconnected peer, an unbound socket) as "*",
 * and an IPv6 address in brackets: [2001:2:0:1803::2]:41234. */
static void format_endpoint(char *buf, size_t n, const struct in6_addr *a,
			    uint16_t port)
{
	char ip[SL_IPSTRLEN + 2], p[8] = "*";

	if (sl_ip_is4(a)) {
		sl_ip_ntop(a, ip, sizeof(ip));
	} else {
		ip[0] = '[';
		sl_ip_ntop(a, ip + 1, sizeof(ip) - 2);
		strcat(ip, "]");
	}
	if (port)
		snprintf(p, sizeof(p), "%u", port);
	snprintf(buf, n, "%s:%s", ip, p);
}

int sl_sock_format(const struct sl_sock *s, char *buf, size_t n)
{
	char local[SL_IPSTRLEN + 10], peer[SL_IPSTRLEN + 10], timer[64];

	format_endpoint(local, sizeof(local), &s->laddr, s->lport);
	format_endpoint(peer, sizeof(peer), &s->raddr, s->rport);
	sl_sock_format_timer(s, timer, sizeof(timer));
	return clamp_len(snprintf(buf, n, "%s %u %u %s %s%s%s",
				  sl_state_name(s->state), s->rqueue, s->wqueue,
				  local, peer, timer[0] ? " " : "", timer),
			 n);
}
