/* timeline.c: the merged, sorted record of a run and its text (timeline.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "timeline.h"

void sl_timeline_init(struct sl_timeline *tl)
{
	memset(tl, 0, sizeof(*tl));
}

void sl_timeline_free(struct sl_timeline *tl)
{
	free(tl->ev);
	free(tl->ctr);
	sl_timeline_init(tl);
}

void sl_timeline_set_hosts(struct sl_timeline *tl, const char *const names[],
			   int n)
{
	if (n > SL_TL_MAX_HOSTS)
		n = SL_TL_MAX_HOSTS;
	for (int i = 0; i < n; i++)
		snprintf(tl->host[i], sizeof(tl->host[i]), "%s", names[i]);
	tl->nhosts = n;
}

int sl_timeline_host(const struct sl_timeline *tl, const char *name)
{
	for (int i = 0; i < tl->nhosts; i++)
		if (strcmp(tl->host[i], name) == 0)
			return i;
	return -1;
}

static const char *host_name(const struct sl_timeline *tl, int h)
{
	return h >= 0 && h < tl->nhosts ? tl->host[h] : "?";
}

int sl_timeline_add(struct sl_timeline *tl, const struct sl_event *ev)
{
	if (tl->n == tl->cap) {
		int cap = tl->cap ? tl->cap * 2 : 256;
		struct sl_event *n = realloc(tl->ev, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		tl->ev = n;
		tl->cap = cap;
	}
	tl->ev[tl->n++] = *ev;
	return 0;
}

static int cmp_time(const void *a, const void *b)
{
	const struct sl_event *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	/* qsort is not stable: fall back on the order of arrival, which the
	 * caller keeps in t_start for ties (see sl_timeline_finish). */
	return 0;
}

static int same_segment(const struct sl_packet *a, const struct sl_packet *b)
{
	return a->saddr.s_addr == b->saddr.s_addr &&
	       a->daddr.s_addr == b->daddr.s_addr && a->sport == b->sport &&
	       a->dport == b->dport && a->seq == b->seq && a->ack == b->ack &&
	       a->flags == b->flags && a->len == b->len;
}

/* A segment a role injected (SL_EV_INJECT) is also captured, once by each
 * host it crosses: those copies are named "injected" and carry the role's
 * note, and the injection itself is hidden (ret 1), so that the timeline
 * shows the segment once, as sent.  The capture stamps it between the
 * injection's t_start and t; the first unclaimed identical segment from
 * then on, per capture point, is it.  An injection nobody captured stays
 * visible, saying so. */
static void match_injected(struct sl_timeline *tl)
{
	for (int i = 0; i < tl->n; i++) {
		struct sl_event *in = &tl->ev[i];
		unsigned seen = 0;

		if (in->kind != SL_EV_INJECT)
			continue;
		for (int j = 0; j < tl->n; j++) {
			struct sl_event *e = &tl->ev[j];

			if (e->kind != SL_EV_PACKET || e->t < in->t_start ||
			    e->name[0] || e->host < 0 || e->host >= 32 ||
			    (seen & 1u << e->host) ||
			    !same_segment(&e->pkt, &in->pkt))
				continue;
			snprintf(e->name, sizeof(e->name), "injected");
			snprintf(e->text, sizeof(e->text), "%s", in->text);
			seen |= 1u << e->host;
			in->ret = 1;
		}
	}
}

void sl_timeline_finish(struct sl_timeline *tl)
{
	/* Stable sort by time: insertion order breaks ties, which keeps a
	 * mark before the call that follows it when both carry the same
	 * nanosecond.  Insertion sort is fine for a few thousand events that
	 * arrive mostly in order. */
	for (int i = 1; i < tl->n; i++) {
		struct sl_event e = tl->ev[i];
		int j = i - 1;

		while (j >= 0 && cmp_time(&tl->ev[j], &e) > 0) {
			tl->ev[j + 1] = tl->ev[j];
			j--;
		}
		tl->ev[j + 1] = e;
	}
	tl->t0 = tl->n ? tl->ev[0].t : 0;
	for (int i = 0; i < tl->n; i++) {
		if (tl->ev[i].kind == SL_EV_PACKET) {
			tl->t0 = tl->ev[i].t;
			break;
		}
	}
	match_injected(tl);
}

int sl_timeline_is_sent(const struct sl_event *ev)
{
	if (ev->kind != SL_EV_PACKET)
		return 0;
	/* A packet from an address we do not know (the router's) is shown
	 * where it was seen. */
	return ev->from < 0 || ev->from == ev->host;
}

int sl_timeline_find_mark(const struct sl_timeline *tl, const char *spec)
{
	const char *colon = strchr(spec, ':');
	const char *name = colon ? colon + 1 : spec;
	int host = -1;

	if (colon) {
		char h[16];
		size_t len = colon - spec;

		if (len >= sizeof(h))
			return -1;
		memcpy(h, spec, len);
		h[len] = '\0';
		host = sl_timeline_host(tl, h);
		if (host < 0)
			return -1;
	}
	for (int i = 0; i < tl->n; i++) {
		const struct sl_event *e = &tl->ev[i];

		if (e->kind == SL_EV_MARK && strcmp(e->name, name) == 0 &&
		    (host < 0 || e->host == host))
			return i;
	}
	return -1;
}

static int same_flow(const struct sl_packet *a, const struct sl_packet *b)
{
	return a->saddr.s_addr == b->saddr.s_addr &&
	       a->daddr.s_addr == b->daddr.s_addr && a->sport == b->sport &&
	       a->dport == b->dport;
}

/* The initial sequence number of p's sender as of event i: the latest SYN
 * from the same endpoint at or before i (a new incarnation of a 4-tuple
 * starts a new numbering), else the first sequence number seen from it.
 * An injected SYN starts no numbering: its number is the point, and it
 * reads best against the connection it was crafted from ("seq 100002"
 * past the old ISN), as do the answers to it. */
static int flow_isn(const struct sl_timeline *tl, int i, const struct sl_packet *p,
		    uint32_t *isn)
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
			 strerrorname_np(e->err) ? strerrorname_np(e->err) : "?",
			 strerror(e->err));
	else
		snprintf(buf, n, "%s%s = %ld", e->name, parens, e->ret);
	if (took >= SL_NS_PER_MS) {
		size_t used = strlen(buf);

		snprintf(buf + used, n - used, "  [blocked %.1f ms]",
			 (double)took / SL_NS_PER_MS);
	}
}

int sl_timeline_format(const struct sl_timeline *tl, int i, char *buf,
		       size_t n)
{
	const struct sl_event *e = &tl->ev[i];
	char body[512];

	switch (e->kind) {
	case SL_EV_PACKET: {
		struct sl_packet rev;
		uint32_t sbase = 0, abase = 0;
		int rel = flow_isn(tl, i, &e->pkt, &sbase);

		reverse(&e->pkt, &rev);
		if (!flow_isn(tl, i, &rev, &abase))
			abase = 0;
		memcpy(body, "IP ", 3);
		sl_packet_format(&e->pkt, rel != 0, sbase, abase, body + 3,
				 sizeof(body) - 3);
		/* A crafted segment is about its numbers: the role's note
		 * says where they came from, and the sequence number is
		 * shown even where tcpdump would leave it out (a bare ACK). */
		if (strcmp(e->name, "injected") == 0) {
			size_t used = strlen(body);
			int32_t delta = (int32_t)(e->pkt.seq - sbase);
			char seq[32] = "";

			/* Also where tcpdump's unsigned relative number
			 * hides that it lies before the connection's ISN. */
			if (rel && delta < 0)
				snprintf(seq, sizeof(seq), ", seq %d", delta);
			else if (!e->pkt.len &&
				 !(e->pkt.flags & (SL_TH_SYN | SL_TH_FIN |
						   SL_TH_RST)))
				snprintf(seq, sizeof(seq), ", seq %u",
					 rel ? e->pkt.seq - sbase : e->pkt.seq);
			snprintf(body + used, sizeof(body) - used,
				 " (injected%s%s%s)", seq,
				 e->text[0] ? ": " : "", e->text);
		}
		break;
	}
	case SL_EV_INJECT: {
		size_t used;

		memcpy(body, "inject: IP ", 11);
		sl_packet_format(&e->pkt, false, 0, 0, body + 11,
				 sizeof(body) - 11);
		used = strlen(body);
		snprintf(body + used, sizeof(body) - used,
			 " (injected%s%s; not seen by the capture)",
			 e->text[0] ? ": " : "", e->text);
		break;
	}
	case SL_EV_MARK:
		snprintf(body, sizeof(body), "--- %s ---", e->name);
		break;
	case SL_EV_CALL:
		format_call(e, body, sizeof(body));
		break;
	case SL_EV_STATE: {
		char s[256];

		sl_sock_format(&e->sock, s, sizeof(s));
		snprintf(body, sizeof(body), "ss: %s", s);
		break;
	}
	case SL_EV_GONE: {
		char l[32], r[32];

		inet_ntop(AF_INET, &e->sock.laddr, l, sizeof(l));
		inet_ntop(AF_INET, &e->sock.raddr, r, sizeof(r));
		snprintf(body, sizeof(body), "ss: (gone) %s:%u %s:%u", l,
			 e->sock.lport, r, e->sock.rport);
		break;
	}
	case SL_EV_ROLE_ERROR:
		snprintf(body, sizeof(body), "ERROR: %s", e->text);
		break;
	case SL_EV_KERNEL:
		sl_kevent_format(tl, i, body, sizeof(body));
		break;
	case SL_EV_WAIT:
		if (e->t_start)
			snprintf(body, sizeof(body), "waited for %s: on "
				 "%.3f ms after it", e->text,
				 (double)(e->t - e->t_start) / SL_NS_PER_MS);
		else
			snprintf(body, sizeof(body), "waited for %s (polled)",
				 e->text);
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

	fprintf(f, "# time: seconds from the first packet; packets as sent "
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

/* ---- recording format ----
 * One event per line, fields separated by tabs:
 *   host-names line: "hosts<TAB>client<TAB>router<TAB>server"
 *   "P t host from to saddr sport daddr dport seq ack flags win len
 *    [injected]"
 *   "M t host name"
 *   "C t t_start host ret err name"
 *   "S t host state laddr lport raddr rport rq wq timer expires retrans"
 *   "G t host laddr lport raddr rport"
 *   "E t host text"   (a role error; "T t host text [name]" for a note)
 *   "W t cause host begun kind text [laddr lport raddr rport state flags]"
 *	(a role's wait, on a socket)
 *   "K t host type oldstate state reason laddr lport raddr rport sock"
 *   header lines "kernel mask why" and "counters state why", then
 *   "N host name delta" per counter that moved (trace.h, counters.h)
 * Times are nanoseconds.  Only what predictions read is kept. */

int sl_timeline_save(const struct sl_timeline *tl, const char *path)
{
	FILE *f = fopen(path, "w");
	char a[32], b[32];

	if (!f)
		return -errno;
	fprintf(f, "hosts");
	for (int i = 0; i < tl->nhosts; i++)
		fprintf(f, "\t%s", tl->host[i]);
	fprintf(f, "\n");
	sl_trace_save_header(f, tl);
	sl_counters_save(f, tl);
	for (int i = 0; i < tl->n; i++) {
		const struct sl_event *e = &tl->ev[i];

		switch (e->kind) {
		case SL_EV_PACKET:
			inet_ntop(AF_INET, &e->pkt.saddr, a, sizeof(a));
			inet_ntop(AF_INET, &e->pkt.daddr, b, sizeof(b));
			fprintf(f, "P\t%lld\t%d\t%d\t%d\t%s\t%u\t%s\t%u\t%u\t%u\t%u\t%u\t%u%s\n",
				(long long)e->t, e->host, e->from, e->to, a,
				e->pkt.sport, b, e->pkt.dport, e->pkt.seq,
				e->pkt.ack, e->pkt.flags, e->pkt.win, e->pkt.len,
				strcmp(e->name, "injected") ? "" : "\tinjected");
			break;
		case SL_EV_INJECT:
			/* Kept as the "injected" field of the packets it
			 * matched; predictions never read the injection. */
			break;
		case SL_EV_MARK:
			fprintf(f, "M\t%lld\t%d\t%s\n", (long long)e->t, e->host,
				e->name);
			break;
		case SL_EV_CALL:
			fprintf(f, "C\t%lld\t%lld\t%d\t%ld\t%d\t%s\n",
				(long long)e->t, (long long)e->t_start, e->host,
				e->ret, e->err, e->name);
			break;
		case SL_EV_STATE:
		case SL_EV_GONE:
			inet_ntop(AF_INET, &e->sock.laddr, a, sizeof(a));
			inet_ntop(AF_INET, &e->sock.raddr, b, sizeof(b));
			fprintf(f, "%c\t%lld\t%d\t%u\t%s\t%u\t%s\t%u\t%u\t%u\t%u\t%u\t%u\n",
				e->kind == SL_EV_STATE ? 'S' : 'G',
				(long long)e->t, e->host, e->sock.state, a,
				e->sock.lport, b, e->sock.rport, e->sock.rqueue,
				e->sock.wqueue, e->sock.timer,
				e->sock.expires_ms, e->sock.retrans);
			break;
		case SL_EV_KERNEL:
			sl_kevent_save(f, e);
			break;
		case SL_EV_WAIT:
			fprintf(f, "W\t%lld\t%lld\t%d\t%ld\t%s\t%s",
				(long long)e->t, (long long)e->t_start, e->host,
				e->ret, e->name, e->text);
			if (e->sock.lport) {
				inet_ntop(AF_INET, &e->sock.laddr, a, sizeof(a));
				inet_ntop(AF_INET, &e->sock.raddr, b, sizeof(b));
				fprintf(f, "\t%s\t%u\t%s\t%u\t%u\t%d", a,
					e->sock.lport, b, e->sock.rport,
					e->sock.state, e->err);
			}
			fprintf(f, "\n");
			break;
		default:
			/* Role errors load back as role errors, notes as
			 * notes: a prediction must not mistake one for the
			 * other in a recorded run. */
			fprintf(f, "%c\t%lld\t%d\t%s",
				e->kind == SL_EV_ROLE_ERROR ? 'E' : 'T',
				(long long)e->t, e->host, e->text);
			/* A note's name says what it is about ("reboot":
			 * sockhist.c reads it). */
			if (e->kind != SL_EV_ROLE_ERROR && e->name[0])
				fprintf(f, "\t%s", e->name);
			fprintf(f, "\n");
			break;
		}
	}
	if (fclose(f) != 0)
		return -errno;
	return 0;
}

static int load_line(struct sl_timeline *tl, char *line)
{
	struct sl_event e;
	char *f[16];
	int nf = 0;
	long long t, t2;
	char a[32], b[32];

	line[strcspn(line, "\n")] = '\0';
	for (char *s = line; nf < 16;) {
		f[nf++] = s;
		s = strchr(s, '\t');
		if (!s)
			break;
		*s++ = '\0';
	}
	if (nf == 0 || !*f[0] || f[0][0] == '#')
		return 0;
	if (strcmp(f[0], "hosts") == 0) {
		sl_timeline_set_hosts(tl, (const char *const *)&f[1], nf - 1);
		return 0;
	}
	if (strcmp(f[0], "kernel") == 0)
		return sl_trace_load_header(tl, f, nf);
	if (strcmp(f[0], "counters") == 0)
		return sl_counters_load_header(tl, f, nf);
	if (strcmp(f[0], "N") == 0)
		return sl_counters_load(tl, f, nf);
	memset(&e, 0, sizeof(e));
	e.from = e.to = -1;
	switch (f[0][0]) {
	case 'P':
		if ((nf != 14 && nf != 15) || sscanf(f[1], "%lld", &t) != 1)
			return -EINVAL;
		if (nf == 15 && strcmp(f[14], "injected"))
			return -EINVAL;
		if (nf == 15)
			snprintf(e.name, sizeof(e.name), "injected");
		e.kind = SL_EV_PACKET;
		e.t = t;
		e.host = atoi(f[2]);
		e.from = atoi(f[3]);
		e.to = atoi(f[4]);
		if (inet_pton(AF_INET, f[5], &e.pkt.saddr) != 1 ||
		    inet_pton(AF_INET, f[7], &e.pkt.daddr) != 1)
			return -EINVAL;
		e.pkt.sport = atoi(f[6]);
		e.pkt.dport = atoi(f[8]);
		e.pkt.seq = strtoul(f[9], NULL, 10);
		e.pkt.ack = strtoul(f[10], NULL, 10);
		e.pkt.flags = atoi(f[11]);
		e.pkt.win = atoi(f[12]);
		e.pkt.len = strtoul(f[13], NULL, 10);
		e.pkt.opt.wscale = -1;
		break;
	case 'M':
		if (nf != 4 || sscanf(f[1], "%lld", &t) != 1)
			return -EINVAL;
		e.kind = SL_EV_MARK;
		e.t = t;
		e.host = atoi(f[2]);
		snprintf(e.name, sizeof(e.name), "%s", f[3]);
		break;
	case 'C':
		if (nf != 7 || sscanf(f[1], "%lld", &t) != 1 ||
		    sscanf(f[2], "%lld", &t2) != 1)
			return -EINVAL;
		e.kind = SL_EV_CALL;
		e.t = t;
		e.t_start = t2;
		e.host = atoi(f[3]);
		e.ret = atol(f[4]);
		e.err = atoi(f[5]);
		snprintf(e.name, sizeof(e.name), "%s", f[6]);
		break;
	case 'S':
	case 'G':
		if (nf != 13 || sscanf(f[1], "%lld", &t) != 1)
			return -EINVAL;
		e.kind = f[0][0] == 'S' ? SL_EV_STATE : SL_EV_GONE;
		e.t = t;
		e.host = atoi(f[2]);
		snprintf(a, sizeof(a), "%s", f[4]);
		snprintf(b, sizeof(b), "%s", f[6]);
		if (inet_pton(AF_INET, a, &e.sock.laddr) != 1 ||
		    inet_pton(AF_INET, b, &e.sock.raddr) != 1)
			return -EINVAL;
		e.sock.state = atoi(f[3]);
		e.sock.lport = atoi(f[5]);
		e.sock.rport = strtoul(f[7], NULL, 10);
		e.sock.rqueue = strtoul(f[8], NULL, 10);
		e.sock.wqueue = strtoul(f[9], NULL, 10);
		e.sock.timer = strtoul(f[10], NULL, 10);
		e.sock.expires_ms = strtoul(f[11], NULL, 10);
		e.sock.retrans = strtoul(f[12], NULL, 10);
		break;
	case 'K':
		if (sl_kevent_load(&e, f, nf) < 0)
			return -EINVAL;
		break;
	case 'W':
		if ((nf != 7 && nf != 13) || sscanf(f[1], "%lld", &t) != 1 ||
		    sscanf(f[2], "%lld", &t2) != 1)
			return -EINVAL;
		e.kind = SL_EV_WAIT;
		e.t = t;
		e.t_start = t2;
		e.host = atoi(f[3]);
		e.ret = atol(f[4]);
		snprintf(e.name, sizeof(e.name), "%s", f[5]);
		snprintf(e.text, sizeof(e.text), "%s", f[6]);
		if (nf == 13) {
			if (inet_pton(AF_INET, f[7], &e.sock.laddr) != 1 ||
			    inet_pton(AF_INET, f[9], &e.sock.raddr) != 1)
				return -EINVAL;
			e.sock.lport = atoi(f[8]);
			e.sock.rport = atoi(f[10]);
			e.sock.state = atoi(f[11]);
			e.err = atoi(f[12]);
		}
		break;
	case 'E':
	case 'T':
		if ((nf != 4 && (nf != 5 || f[0][0] != 'T')) ||
		    sscanf(f[1], "%lld", &t) != 1)
			return -EINVAL;
		e.kind = f[0][0] == 'E' ? SL_EV_ROLE_ERROR : SL_EV_NOTE;
		e.t = t;
		e.host = atoi(f[2]);
		snprintf(e.text, sizeof(e.text), "%s", f[3]);
		if (nf == 5)
			snprintf(e.name, sizeof(e.name), "%s", f[4]);
		break;
	default:
		return -EINVAL;
	}
	return sl_timeline_add(tl, &e);
}

int sl_timeline_load(struct sl_timeline *tl, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int ret = 0;

	if (!f)
		return -errno;
	sl_timeline_init(tl);
	snprintf(tl->kernel_why, sizeof(tl->kernel_why),
		 "the recording has no kernel events");
	snprintf(tl->counters_why, sizeof(tl->counters_why),
		 "the recording has no kernel counters");
	while (fgets(line, sizeof(line), f)) {
		ret = load_line(tl, line);
		if (ret < 0)
			break;
	}
	fclose(f);
	if (ret < 0) {
		sl_timeline_free(tl);
		return ret;
	}
	sl_timeline_finish(tl);
	return 0;
}
