/* ladder.c: the ladder diagram of an exchange (ladder.h). */
#include <string.h>

#include "clock.h"
#include "ladder.h"

#define LADDER_WIDTH 44 /* characters between the two rails */

/* The copy of a sent segment at its receiver, if the receiver's capture
 * saw it. */
static int delivered(const struct sl_timeline *tl, int i)
{
	const struct sl_event *s = &tl->ev[i];

	for (int j = i + 1; j < tl->n; j++) {
		const struct sl_event *r = &tl->ev[j];

		if (r->kind == SL_EV_PACKET && r->host == s->to &&
		    r->pkt.saddr.s_addr == s->pkt.saddr.s_addr &&
		    r->pkt.sport == s->pkt.sport && r->pkt.seq == s->pkt.seq &&
		    r->pkt.ack == s->pkt.ack && r->pkt.flags == s->pkt.flags &&
		    r->pkt.len == s->pkt.len)
			return 1;
	}
	return 0;
}

/* The label on an arrow: flags, then relative seq/ack as the timeline
 * shows them ("P. 1:101 ack 1"). */
static void label(const struct sl_timeline *tl, int i, char *buf, size_t n)
{
	char line[512], flags[16];
	const struct sl_packet *p = &tl->ev[i].pkt;
	const char *seq, *ack;

	sl_flags_format(p->flags, flags);
	sl_timeline_format(tl, i, line, sizeof(line));
	seq = strstr(line, "seq ");
	ack = strstr(line, "ack ");
	snprintf(buf, n, "%s", flags);
	if (seq) {
		size_t used = strlen(buf);

		snprintf(buf + used, n - used, " %.*s",
			 (int)strcspn(seq + 4, ","), seq + 4);
	}
	if (ack && (p->flags & SL_TH_ACK)) {
		size_t used = strlen(buf);

		snprintf(buf + used, n - used, " ack %.*s",
			 (int)strcspn(ack + 4, ","), ack + 4);
	}
	if (p->len) {
		size_t used = strlen(buf);

		snprintf(buf + used, n - used, " (%u)", p->len);
	}
}

static void arrow(char *row, int rightward, int lost, const char *text)
{
	int len = (int)strlen(text), start;

	memset(row, '-', LADDER_WIDTH);
	row[LADDER_WIDTH] = '\0';
	if (rightward) {
		row[LADDER_WIDTH - 1] = lost ? 'x' : '>';
		if (lost)
			memset(row + LADDER_WIDTH / 2 + 4, ' ',
			       LADDER_WIDTH / 2 - 5);
	} else {
		row[0] = lost ? 'x' : '<';
		if (lost)
			memset(row + 1, ' ', LADDER_WIDTH / 2 - 5);
	}
	if (len > LADDER_WIDTH - 6)
		len = LADDER_WIDTH - 6;
	start = (LADDER_WIDTH - len) / 2;
	row[start - 1] = ' ';
	memcpy(row + start, text, len);
	row[start + len] = ' ';
}

void sl_ladder_write(const struct sl_timeline *tl, int left, int right, FILE *f)
{
	char row[LADDER_WIDTH + 1], text[128];

	fprintf(f, "%10s  %-*s%s\n", "", LADDER_WIDTH + 2, tl->host[left],
		tl->host[right]);
	for (int i = 0; i < tl->n; i++) {
		const struct sl_event *e = &tl->ev[i];
		double t = (double)(e->t - tl->t0) / SL_NS_PER_SEC;

		if (e->kind == SL_EV_PACKET) {
			if (!sl_timeline_is_sent(e) ||
			    !((e->from == left && e->to == right) ||
			      (e->from == right && e->to == left)))
				continue;
			label(tl, i, text, sizeof(text));
			arrow(row, e->from == left, !delivered(tl, i), text);
			fprintf(f, "%10.6f  |%s|\n", t, row);
		} else if (e->kind == SL_EV_MARK || e->kind == SL_EV_CALL) {
			char what[96];

			if (e->kind == SL_EV_MARK)
				snprintf(what, sizeof(what), "[%s]", e->name);
			else if (e->ret < 0 && e->err)
				snprintf(what, sizeof(what), "%s() = -1 %s",
					 e->name,
					 strerrorname_np(e->err) ?
						 strerrorname_np(e->err) :
						 "?");
			else
				snprintf(what, sizeof(what), "%s() = %ld",
					 e->name, e->ret);
			if (e->host == left)
				fprintf(f, "%10.6f  | %-*s|\n", t,
					LADDER_WIDTH - 1, what);
			else if (e->host == right)
				fprintf(f, "%10.6f  |%*s |\n", t,
					LADDER_WIDTH - 1, what);
		}
	}
}
