/* ladder.c: the ladder diagram of an exchange (ladder.h). */
#include <string.h>

#include "ipaddr.h"
#include "clock.h"
#include "ladder.h"

#define LADDER_WIDTH 44 /* characters between the two rails */

void sl_ladder_label(const struct sl_timeline *tl, int i, char *buf, size_t n)
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

void sl_ladder_note_text(const struct sl_event *e, char *buf, size_t n)
{
	/* "read" prints as "read()"; "setsockopt(SO_LINGER)" has its own. */
	const char *parens = strpbrk(e->name, "( ") ? "" : "()";

	if (e->kind == SL_EV_MARK)
		snprintf(buf, n, "[%s]", e->name);
	else if (e->ret < 0 && e->err)
		snprintf(buf, n, "%s%s = -1 %s", e->name, parens,
			 strerrorname_np(e->err) ? strerrorname_np(e->err) :
						   "?");
	else
		snprintf(buf, n, "%s%s = %ld", e->name, parens, e->ret);
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
			sl_ladder_label(tl, i, text, sizeof(text));
			arrow(row, e->from == left,
			      sl_timeline_delivered(tl, i) < 0, text);
			fprintf(f, "%10.6f  |%s|\n", t, row);
		} else if (e->kind == SL_EV_MARK || e->kind == SL_EV_CALL) {
			char what[96];

			sl_ladder_note_text(e, what, sizeof(what));
			if (e->host == left)
				fprintf(f, "%10.6f  | %-*s|\n", t,
					LADDER_WIDTH - 1, what);
			else if (e->host == right)
				fprintf(f, "%10.6f  |%*s |\n", t,
					LADDER_WIDTH - 1, what);
		}
	}
}
