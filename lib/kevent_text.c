/* kevent_text.c: a kernel event as a line of the timeline and of its
 * recording (kevent.h).
 *
 * A change to CLOSE says why it happened when the timeline shows it: the
 * RST the same socket sent, or the RST it received, within a moment.  That
 * needs the events around it, hence the timeline here and not in kevent.c,
 * which the timeline includes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipaddr.h"
#include "kevent.h"
#include "timeline.h"

/* "198.19.3.2:7007 198.18.3.2:41234", local first, as ss prints them. */
static void endpoints(const struct sl_kevent *k, char *buf, size_t n)
{
	char l[SL_IPSTRLEN], r[SL_IPSTRLEN];

	sl_ip_ntop(&k->laddr, l, sizeof(l));
	sl_ip_ntop(&k->raddr, r, sizeof(r));
	/* ss's [addr]:port for IPv6, where a colon would be ambiguous. */
	if (!sl_ip_is4(&k->laddr)) {
		if (!sl_ip_is_any(&k->raddr) || k->rport)
			snprintf(buf, n, "[%s]:%u [%s]:%u", l, k->lport, r,
				 k->rport);
		else
			snprintf(buf, n, "[%s]:%u", l, k->lport);
	} else if (!sl_ip_is_any(&k->raddr) || k->rport) {
		snprintf(buf, n, "%s:%u %s:%u", l, k->lport, r, k->rport);
	} else {
		snprintf(buf, n, "%s:%u", l, k->lport);
	}
}

/* The RST that the same socket sends within a millisecond of a state
 * change to CLOSE: the reason the change happened, said on its line. */
static const struct sl_event *rst_of(const struct sl_timeline *tl, int i)
{
	const struct sl_event *e = &tl->ev[i];

	for (int j = i + 1; j < tl->n && tl->ev[j].t - e->t <= SL_KEV_PAIR_NS;
	     j++) {
		const struct sl_event *x = &tl->ev[j];

		if (x->kind == SL_EV_KERNEL && x->k.type == SL_KEV_SEND_RESET &&
		    x->host == e->host && x->k.sock && x->k.sock == e->k.sock)
			return x;
	}
	return NULL;
}

static int rst_received_before(const struct sl_timeline *tl, int i)
{
	const struct sl_event *e = &tl->ev[i];

	for (int j = i - 1; j >= 0 && e->t - tl->ev[j].t <= SL_KEV_PAIR_NS;
	     j--) {
		const struct sl_event *x = &tl->ev[j];

		if (x->kind == SL_EV_KERNEL &&
		    x->k.type == SL_KEV_RECEIVE_RESET && x->host == e->host &&
		    x->k.lport == e->k.lport && x->k.rport == e->k.rport)
			return 1;
	}
	return 0;
}

int sl_kevent_format(const struct sl_timeline *tl, int i, char *buf, size_t n)
{
	const struct sl_event *e = &tl->ev[i];
	const struct sl_kevent *k = &e->k;
	char ep[64];

	endpoints(k, ep, sizeof(ep));
	switch (k->type) {
	case SL_KEV_SET_STATE: {
		const struct sl_event *rst = k->state == 7 ? rst_of(tl, i) :
							     NULL;
		char why[80] = "";

		if (rst)
			snprintf(why, sizeof(why), " (RST sent: %s)",
				 rst->k.reason);
		else if (k->state == 7 && rst_received_before(tl, i))
			snprintf(why, sizeof(why), " (RST received)");
		return snprintf(buf, n, "kernel: %s -> %s%s  [%s]",
				sl_kstate_name(k->oldstate),
				sl_kstate_name(k->state), why, ep);
	}
	case SL_KEV_SEND_RESET:
		return snprintf(buf, n,
				"kernel: RST sent, reason %s (%s%s)  [%s]",
				k->reason[0] ? k->reason : "not given",
				k->state ? "socket in " : "no socket",
				k->state ? sl_kstate_name(k->state) : "", ep);
	case SL_KEV_RECEIVE_RESET:
		return snprintf(buf, n, "kernel: RST received  [%s]", ep);
	case SL_KEV_RETRANSMIT:
		return snprintf(buf, n,
				"kernel: %s retransmitted (socket in %s)  [%s]",
				k->state == 2 ? "SYN" : "segment",
				sl_kstate_name(k->state), ep);
	case SL_KEV_RETRANSMIT_SYNACK:
		return snprintf(buf, n, "kernel: SYN-ACK retransmitted  [%s]",
				ep);
	case SL_KEV_DROP:
		return snprintf(buf, n,
				"kernel: packet dropped, reason %s  [%s]",
				k->reason[0] ? k->reason : "not given", ep);
	}
	return snprintf(buf, n, "kernel: event %d", k->type);
}

void sl_kevent_save(FILE *f, const struct sl_event *e)
{
	const struct sl_kevent *k = &e->k;
	char a[SL_IPSTRLEN], b[SL_IPSTRLEN];

	sl_ip_ntop(&k->laddr, a, sizeof(a));
	sl_ip_ntop(&k->raddr, b, sizeof(b));
	fprintf(f, "K\t%lld\t%d\t%s\t%d\t%d\t%s\t%s\t%u\t%s\t%u\t%u\n",
		(long long)e->t, e->host, sl_kev_name(k->type), k->oldstate,
		k->state, k->reason[0] ? k->reason : "-", a, k->lport, b,
		k->rport, k->sock);
}

int sl_kevent_load(struct sl_event *e, char **f, int nf)
{
	struct sl_kevent *k = &e->k;
	long long t;
	int type;

	if (nf != 12 || sscanf(f[1], "%lld", &t) != 1)
		return -EINVAL;
	type = sl_kev_parse(f[3]);
	if (type < 0)
		return -EINVAL;
	e->kind = SL_EV_KERNEL;
	e->t = e->t_start = t;
	e->host = atoi(f[2]);
	k->type = type;
	k->oldstate = atoi(f[4]);
	k->state = atoi(f[5]);
	snprintf(k->reason, sizeof(k->reason), "%s",
		 strcmp(f[6], "-") ? f[6] : "");
	if (sl_ip_pton(f[7], &k->laddr) < 0 || sl_ip_pton(f[9], &k->raddr) < 0)
		return -EINVAL;
	k->lport = atoi(f[8]);
	k->rport = atoi(f[10]);
	k->sock = strtoul(f[11], NULL, 10);
	return 0;
}

void sl_trace_save_header(FILE *f, const struct sl_timeline *tl)
{
	fprintf(f, "kernel\t%u\t%d\t%s\n", tl->kernel, tl->kernel_lost,
		tl->kernel_why[0] ? tl->kernel_why : "-");
	for (int k = 0; k < SL_KEV_COUNT; k++)
		if (tl->kernel_limit[k][0])
			fprintf(f, "klimit\t%s\t%s\n", sl_kev_name(k),
				tl->kernel_limit[k]);
}

int sl_trace_load_limit(struct sl_timeline *tl, char **f, int nf)
{
	int k = nf == 3 ? sl_kev_parse(f[1]) : -1;

	if (k < 0)
		return -EINVAL;
	snprintf(tl->kernel_limit[k], sizeof(tl->kernel_limit[k]), "%s", f[2]);
	return 0;
}

int sl_trace_load_header(struct sl_timeline *tl, char **f, int nf)
{
	if (nf != 4)
		return -EINVAL;
	tl->kernel = strtoul(f[1], NULL, 10) & SL_KEV_ALL;
	tl->kernel_lost = atoi(f[2]);
	snprintf(tl->kernel_why, sizeof(tl->kernel_why), "%s",
		 strcmp(f[3], "-") ? f[3] : "");
	return 0;
}
