/* timeline_format.c: a timeline as text (timeline.h), in the conventions of
 * `tcpdump -nn` and `ss -tanoi`: times relative to the first packet,
 * sequence numbers relative to each side's initial sequence number. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "ipaddr.h"
#include "clock.h"
#include "timeline.h"
#include "kevent.h"

static const char *host_name(const struct sl_timeline *tl, int h)
{
	return h >= 0 && h < tl->nhosts ? tl->host[h] : "?";
}

static int same_flow(const struct sl_packet *a, const struct sl_packet *b)
{
	return sl_ip_eq(&a->saddr, &b->saddr) &&
	       sl_ip_eq(&a->daddr, &b->daddr) && a->sport == b->sport &&
	       a->dport == b->dport;
}

/* The initial sequence number of p's sender as of event i: the latest SYN
 * from the same endpoint at or before i (a new incarnation of a 4-tuple
 * starts a new numbering), else the first sequence number seen from it.
 * An injected SYN starts no numbering: its number is the point, and it
 * reads best against the connection it was crafted from ("seq 100002"
 * past the old ISN), as do the answers to it. */
static int flow_isn(const struct sl_timeline *tl, int i,
		    const struct sl_packet *p, uint32_t *isn)
{
	int found = 0;

	for (int j = 0; j < tl->n; j++) {
		const struct sl_event *e = &tl->ev[j];

		if (e->kind != SL_EV_PACKET || !same_flow(&e->pkt, p))
			continue;
		if (j > i && found)
			break;
		if ((e->pkt.flags & SL_TH_SYN) &&
		    strcmp(e->name, "injected") != 0) {
			*isn = e->pkt.seq;
			found = 2;
		} else if (!found) {
			*isn = e->pkt.seq;
			found = 1;
		}
		if (j >= i && found)
			break;
	}
	return found;
}

static void reverse(const struct sl_packet *p, struct sl_packet *r)
{
	memset(r, 0, sizeof(*r));
	r->saddr = p->daddr;
	r->daddr = p->saddr;
	r->sport = p->dport;
	r->dport = p->sport;
}

static void format_call(const struct sl_event *e, char *buf, size_t n)
{
	int64_t took = e->t - e->t_start;
	/* "read" prints as "read()", the way strace shows a call. */
	const char *parens = strpbrk(e->name, "( ") ? "" : "()";

	if (e->ret < 0 && e->err)
		snprintf(buf, n, "%s%s = %ld %s (%s)", e->name, parens, e->ret,
			 strerrorname_np(e->err) ? strerrorname_np(e->err) :
						   "?",
			 strerror(e->err));
	else
		snprintf(buf, n, "%s%s = %ld", e->name, parens, e->ret);
	if (took >= SL_NS_PER_MS) {
		size_t used = strlen(buf);

		snprintf(buf + used, n - used, "  [blocked %.1f ms]",
			 (double)took / SL_NS_PER_MS);
	}
}

/* A crafted segment is about its numbers: the role's note says where they
 * came from, and the sequence number is shown even where tcpdump would
 * leave it out (a bare ACK), or where tcpdump's unsigned relative number
 * hides that it lies before the connection's ISN. */
static void format_injected(const struct sl_event *e, int rel, uint32_t sbase,
			    char *body, size_t n)
{
	size_t used = strlen(body);
	int32_t delta = (int32_t)(e->pkt.seq - sbase);
	char seq[32] = "";

	if (rel && delta < 0)
		snprintf(seq, sizeof(seq), ", seq %d", delta);
	else if (!e->pkt.len &&
		 !(e->pkt.flags & (SL_TH_SYN | SL_TH_FIN | SL_TH_RST)))
		snprintf(seq, sizeof(seq), ", seq %u",
			 rel ? e->pkt.seq - sbase : e->pkt.seq);
	snprintf(body + used, n - used, " (injected%s%s%s)", seq,
		 e->text[0] ? ": " : "", e->text);
}

/* A packet as sent, in tcpdump's words, with sequence numbers relative to
 * each side's ISN. */
static void format_packet(const struct sl_timeline *tl, int i, char *body,
			  size_t n)
{
	const struct sl_event *e = &tl->ev[i];
	struct sl_packet rev;
	uint32_t sbase = 0, abase = 0;
	int rel = flow_isn(tl, i, &e->pkt, &sbase);
	size_t used;

	reverse(&e->pkt, &rev);
	if (!flow_isn(tl, i, &rev, &abase))
		abase = 0;
	snprintf(body, n, "%s ", sl_packet_ipver(&e->pkt));
	used = strlen(body);
	sl_packet_format(&e->pkt, rel != 0, sbase, abase, body + used,
			 n - used);
	if (strcmp(e->name, "injected") == 0)
		format_injected(e, rel, sbase, body, n);
}

static void format_inject(const struct sl_event *e, char *body, size_t n)
{
	size_t used;

	snprintf(body, n, "inject: %s ", sl_packet_ipver(&e->pkt));
	used = strlen(body);
	sl_packet_format(&e->pkt, false, 0, 0, body + used, n - used);
	used = strlen(body);
	snprintf(body + used, n - used,
		 " (injected%s%s; not seen by the capture)",
		 e->text[0] ? ": " : "", e->text);
}

static void format_sock(const struct sl_event *e, char *body, size_t n)
{
	char s[256], l[SL_IPSTRLEN], r[SL_IPSTRLEN];

	if (e->kind == SL_EV_STATE) {
		sl_sock_format(&e->sock, s, sizeof(s));
		snprintf(body, n, "ss: %s", s);
		return;
	}
	sl_ip_ntop(&e->sock.laddr, l, sizeof(l));
	sl_ip_ntop(&e->sock.raddr, r, sizeof(r));
	if (sl_ip_is4(&e->sock.laddr))
		snprintf(body, n, "ss: (gone) %s:%u %s:%u", l, e->sock.lport, r,
			 e->sock.rport);
	else
		snprintf(body, n, "ss: (gone) [%s]:%u [%s]:%u", l,
			 e->sock.lport, r, e->sock.rport);
}

static void format_wait(const struct sl_event *e, char *body, size_t n)
{
	if (e->t_start)
		snprintf(body, n, "waited for %s: on %.3f ms after it", e->text,
			 (double)(e->t - e->t_start) / SL_NS_PER_MS);
	else
		snprintf(body, n, "waited for %s (polled)", e->text);
}

int sl_timeline_format(const struct sl_timeline *tl, int i, char *buf, size_t n)
{
	const struct sl_event *e = &tl->ev[i];
	char body[512];

	switch (e->kind) {
	case SL_EV_PACKET:
		format_packet(tl, i, body, sizeof(body));
		break;
	case SL_EV_INJECT:
		format_inject(e, body, sizeof(body));
		break;
	case SL_EV_MARK:
		snprintf(body, sizeof(body), "--- %s ---", e->name);
		break;
	case SL_EV_CALL:
		format_call(e, body, sizeof(body));
		break;
	case SL_EV_STATE:
	case SL_EV_GONE:
		format_sock(e, body, sizeof(body));
		break;
	case SL_EV_ROLE_ERROR:
		snprintf(body, sizeof(body), "ERROR: %s", e->text);
		break;
	case SL_EV_KERNEL:
		sl_kevent_format(tl, i, body, sizeof(body));
		break;
	case SL_EV_WAIT:
		format_wait(e, body, sizeof(body));
		break;
	case SL_EV_NOTE:
	default:
		snprintf(body, sizeof(body), "%s", e->text);
		break;
	}
	return snprintf(buf, n, "%10.6f  %-6s  %s",
			(double)(e->t - tl->t0) / SL_NS_PER_SEC,
			host_name(tl, e->host), body);
}

void sl_timeline_write(const struct sl_timeline *tl, FILE *f)
{
	char line[768];

	fprintf(f,
		"# time: seconds from the first packet; packets as sent "
		"(tcpdump -nn, relative seq);\n"
		"# ss: socket states from sock_diag (ss -tanoi); --- mark ---: "
		"a role's named moment\n"
		"# kernel: the kernel's own events (tracepoints: state changes, "
		"RSTs and their reason, retransmissions, drops)\n");
	if (tl->kernel != SL_KEV_ALL)
		fprintf(f, "# kernel events %s: %s\n",
			tl->kernel ? "partly recorded" : "not recorded",
			tl->kernel_why[0] ? tl->kernel_why : "unknown reason");
	for (int i = 0; i < tl->n; i++) {
		if (tl->ev[i].kind == SL_EV_PACKET &&
		    !sl_timeline_is_sent(&tl->ev[i]))
			continue;
		if (tl->ev[i].kind == SL_EV_INJECT && tl->ev[i].ret)
			continue;
		/* The harness's bookkeeping, not what the run did. */
		if (tl->ev[i].kind == SL_EV_WAIT)
			continue;
		sl_timeline_format(tl, i, line, sizeof(line));
		fprintf(f, "%s\n", line);
	}
}
