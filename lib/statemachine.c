/* statemachine.c: runs laid over RFC 9293's state diagram
 * (statemachine.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ipaddr.h"
#include "kevent.h"
#include "statemachine.h"

static const char *const names[SL_SM_NSTATES] = {
	"CLOSED",      "LISTEN",     "SYN-SENT",   "SYN-RECEIVED",
	"ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT",
	"CLOSING",     "LAST-ACK",   "TIME-WAIT",
};

/* RFC 9293, figure 5, edge by edge with its event. */
static const struct {
	int from, to;
	const char *event;
} rfc[] = {
	{ SL_SM_CLOSED, SL_SM_LISTEN, "passive OPEN" },
	{ SL_SM_CLOSED, SL_SM_SYN_SENT, "active OPEN / snd SYN" },
	{ SL_SM_LISTEN, SL_SM_SYN_RECEIVED, "rcv SYN / snd SYN,ACK" },
	{ SL_SM_LISTEN, SL_SM_SYN_SENT, "SEND / snd SYN" },
	{ SL_SM_LISTEN, SL_SM_CLOSED, "CLOSE" },
	{ SL_SM_SYN_SENT, SL_SM_SYN_RECEIVED, "rcv SYN / snd ACK" },
	{ SL_SM_SYN_SENT, SL_SM_ESTABLISHED, "rcv SYN,ACK / snd ACK" },
	{ SL_SM_SYN_SENT, SL_SM_CLOSED, "CLOSE" },
	{ SL_SM_SYN_RECEIVED, SL_SM_ESTABLISHED, "rcv ACK of SYN" },
	{ SL_SM_SYN_RECEIVED, SL_SM_FIN_WAIT_1, "CLOSE / snd FIN" },
	{ SL_SM_SYN_RECEIVED, SL_SM_LISTEN, "rcv RST" },
	{ SL_SM_ESTABLISHED, SL_SM_FIN_WAIT_1, "CLOSE / snd FIN" },
	{ SL_SM_ESTABLISHED, SL_SM_CLOSE_WAIT, "rcv FIN / snd ACK" },
	{ SL_SM_FIN_WAIT_1, SL_SM_FIN_WAIT_2, "rcv ACK of FIN" },
	{ SL_SM_FIN_WAIT_1, SL_SM_CLOSING, "rcv FIN / snd ACK" },
	{ SL_SM_FIN_WAIT_2, SL_SM_TIME_WAIT, "rcv FIN / snd ACK" },
	{ SL_SM_CLOSING, SL_SM_TIME_WAIT, "rcv ACK of FIN" },
	{ SL_SM_CLOSE_WAIT, SL_SM_LAST_ACK, "CLOSE / snd FIN" },
	{ SL_SM_LAST_ACK, SL_SM_CLOSED, "rcv ACK of FIN" },
	{ SL_SM_TIME_WAIT, SL_SM_CLOSED, "timeout = 2 MSL" },
};

const char *sl_sm_state_name(int s)
{
	return s >= 0 && s < SL_SM_NSTATES ? names[s] : "?";
}

/* The kernel's state numbers (<netinet/tcp.h>) on the RFC's states; its
 * request socket (TCP_NEW_SYN_RECV) is a SYN-RECEIVED too. */
static int from_kernel(int k)
{
	static const int map[] = {
		[1] = SL_SM_ESTABLISHED,  [2] = SL_SM_SYN_SENT,
		[3] = SL_SM_SYN_RECEIVED, [4] = SL_SM_FIN_WAIT_1,
		[5] = SL_SM_FIN_WAIT_2,	  [6] = SL_SM_TIME_WAIT,
		[7] = SL_SM_CLOSED,	  [8] = SL_SM_CLOSE_WAIT,
		[9] = SL_SM_LAST_ACK,	  [10] = SL_SM_LISTEN,
		[11] = SL_SM_CLOSING,	  [12] = SL_SM_SYN_RECEIVED,
	};

	return k >= 1 && k <= 12 ? map[k] : -1;
}

void sl_sm_init(struct sl_sm *m)
{
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < sizeof(rfc) / sizeof(*rfc); i++) {
		m->edge[i].from = rfc[i].from;
		m->edge[i].to = rfc[i].to;
		m->edge[i].event = rfc[i].event;
	}
	m->nedges = sizeof(rfc) / sizeof(*rfc);
}

/* Marks from -> to as made by who, adding the edge if the RFC has none.
 * A variant counts once per edge: seen[] remembers which it marked. */
static int mark(struct sl_sm *m, int from, int to, const char *who,
		unsigned char *marked)
{
	struct sl_sm_edge *e = NULL;
	int i;

	if (from < 0 || to < 0 || from == to)
		return 0;
	for (i = 0; i < m->nedges; i++)
		if (m->edge[i].from == from && m->edge[i].to == to)
			break;
	if (i == m->nedges) {
		if (m->nedges == SL_SM_MAX_EDGES)
			return -ENOSPC;
		m->edge[m->nedges++] =
			(struct sl_sm_edge){ .from = from, .to = to };
	}
	e = &m->edge[i];
	if (marked[i])
		return 0;
	marked[i] = 1;
	e->seen++;
	for (int k = 0; k < e->nwho; k++)
		if (!strcmp(e->who[k], who))
			return 0;
	if (e->nwho < SL_SM_MAX_WHO)
		snprintf(e->who[e->nwho++], sizeof(e->who[0]), "%s", who);
	return 0;
}

static int same_tuple(const struct sl_event *a, const struct sl_event *b)
{
	const struct sl_kevent *k = &a->k;
	const struct sl_sock *s = &b->sock;

	return a->host == b->host && k->lport == s->lport &&
	       k->rport == s->rport && sl_ip_eq(&k->laddr, &s->laddr) &&
	       sl_ip_eq(&k->raddr, &s->raddr);
}

/* The kernel's change i to CLOSE: was its 4-tuple then sampled in
 * TIME-WAIT (the socket became a TIME-WAIT mini-socket)?  An orphan in
 * FIN-WAIT-2 becomes a mini-socket too, and the kernel says CLOSE then:
 * samples show it in FIN-WAIT-2 until the peer's FIN makes it a
 * TIME-WAIT (no event either) or tcp_fin_timeout ends it. */
static int into_timewait(const struct sl_timeline *tl, int i)
{
	for (int j = i + 1; j < tl->n; j++) {
		const struct sl_event *e = &tl->ev[j];

		if (e->kind == SL_EV_GONE && same_tuple(&tl->ev[i], e))
			return 0;
		if (e->kind != SL_EV_STATE || !same_tuple(&tl->ev[i], e) ||
		    e->sock.state == 5)
			continue;
		return e->sock.state == 6;
	}
	return 0;
}

/* The sampled TIME-WAITs that ended within the run (2 MSL, or cut short
 * by a RST or a new SYN), and, without the kernel's events, every
 * sampled change. */
static int sampled(struct sl_sm *m, const struct sl_timeline *tl,
		   const char *who, unsigned char *marked)
{
	int ret = 0;

	for (int i = 0; i < tl->n && ret == 0; i++) {
		const struct sl_event *e = &tl->ev[i];
		int prev = -1;

		if (e->kind != SL_EV_STATE && e->kind != SL_EV_GONE)
			continue;
		/* The state this socket was last sampled in. */
		for (int j = i - 1; j >= 0; j--) {
			const struct sl_event *q = &tl->ev[j];

			if ((q->kind == SL_EV_STATE || q->kind == SL_EV_GONE) &&
			    q->host == e->host &&
			    q->sock.lport == e->sock.lport &&
			    q->sock.rport == e->sock.rport &&
			    sl_ip_eq(&q->sock.raddr, &e->sock.raddr)) {
				prev = q->kind == SL_EV_STATE ? q->sock.state :
								-1;
				break;
			}
		}
		if (prev < 0)
			continue;
		if (e->kind == SL_EV_GONE) {
			if (prev == 6 || !tl->kernel)
				ret = mark(m, from_kernel(prev), SL_SM_CLOSED,
					   who, marked);
		} else if (!tl->kernel) {
			ret = mark(m, from_kernel(prev),
				   from_kernel(e->sock.state), who, marked);
		}
	}
	return ret;
}

int sl_sm_add(struct sl_sm *m, const struct sl_timeline *tl, const char *who)
{
	unsigned char marked[SL_SM_MAX_EDGES] = { 0 };
	int ret = 0;

	m->timelines++;
	if (!tl->kernel)
		m->sampled++;
	for (int i = 0; i < tl->n && ret == 0; i++) {
		const struct sl_event *e = &tl->ev[i];
		int to;

		if (!tl->kernel || e->kind != SL_EV_KERNEL ||
		    e->k.type != SL_KEV_SET_STATE)
			continue;
		to = from_kernel(e->k.state);
		if (to == SL_SM_CLOSED && into_timewait(tl, i))
			to = SL_SM_TIME_WAIT;
		ret = mark(m, from_kernel(e->k.oldstate), to, who, marked);
	}
	if (ret == 0)
		ret = sampled(m, tl, who, marked);
	return ret;
}

/* A dot string: names and ids have no quotes or backslashes, but be
 * safe. */
static void put_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* An observed edge's label: its experiments, four at most, one a line. */
static void who_label(const struct sl_sm_edge *e, char *buf, size_t n)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int k = 0; k < e->nwho && k < 4 && used < n; k++)
		used += snprintf(buf + used, n - used, "%s%s", k ? "\n" : "",
				 e->who[k]);
	if (e->nwho > 4 && used < n)
		snprintf(buf + used, n - used, "\n+%d more", e->nwho - 4);
}

void sl_sm_dot(const struct sl_sm *m, FILE *f)
{
	char label[512];

	fprintf(f, "digraph tcp {\n"
		   "  label=\"TCP's states (RFC 9293, figure 5) as the kernel "
		   "walked them\\nbold: observed, with the experiments that "
		   "made them; faint: never observed; orange: Linux's own, "
		   "not in the RFC's diagram\";\n"
		   "  labelloc=t; fontname=\"DejaVu Sans\"; fontsize=12;\n"
		   "  pad=0.5;\n"
		   "  node [shape=box, style=\"rounded,filled\", "
		   "fillcolor=\"#eceff1\", fontname=\"DejaVu Sans Mono\", "
		   "fontsize=11];\n"
		   "  edge [fontname=\"DejaVu Sans Mono\", fontsize=8];\n");
	for (int s = 0; s < SL_SM_NSTATES; s++)
		fprintf(f, "  \"%s\";\n", names[s]);
	for (int i = 0; i < m->nedges; i++) {
		const struct sl_sm_edge *e = &m->edge[i];

		fprintf(f, "  \"%s\" -> \"%s\" [", names[e->from],
			names[e->to]);
		if (!e->seen) {
			fprintf(f, "color=\"#cfd8dc\", fontcolor=\"#b0bec5\", "
				   "style=dashed, label=");
			put_quoted(f, e->event);
		} else {
			who_label(e, label, sizeof(label));
			fprintf(f,
				"penwidth=2, color=\"%s\", fontcolor=\"%s\", "
				"label=",
				e->event ? "#263238" : "#e65100",
				e->event ? "#263238" : "#e65100");
			put_quoted(f, label);
		}
		fprintf(f, "];\n");
	}
	fprintf(f, "}\n");
}

void sl_sm_text(const struct sl_sm *m, FILE *f)
{
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < m->nedges; i++) {
			const struct sl_sm_edge *e = &m->edge[i];

			if (!!e->seen != !pass)
				continue;
			fprintf(f, "%-13s -> %-13s %-24s", names[e->from],
				names[e->to],
				e->event ? e->event : "(not in RFC 9293)");
			if (!e->seen) {
				fprintf(f, " never observed\n");
				continue;
			}
			fprintf(f, " %d variant%s:", e->seen,
				e->seen == 1 ? "" : "s");
			for (int k = 0; k < e->nwho; k++)
				fprintf(f, "%s%s", k ? ", " : " ", e->who[k]);
			fprintf(f, "\n");
		}
}
