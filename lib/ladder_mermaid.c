/* ladder_mermaid.c: the ladder as a Mermaid sequenceDiagram
 * (ladder_mermaid.h).
 *
 * Mermaid reads a message up to the end of its line, and takes ";" and
 * "#" as its own (a statement's end, an entity), so labels go through
 * put_text(), which writes those two as entity codes.  A lost segment is
 * an arrow ending in a cross ("-x") to the router.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ladder_mermaid.h"
#include "ladder_scene.h"

static void put_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == ';')
			fputs("#59;", f);
		else if (*s == '#')
			fputs("#35;", f);
		else if ((unsigned char)*s >= 0x20)
			fputc(*s, f);
	}
}

/* One item of the scene in time order: an arrow (by its sending time)
 * or a note. */
struct item {
	int64_t t;
	int arrow; /* index, or -1 */
	int note;  /* index, or -1 */
};

static int cmp_item(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	return (x->t > y->t) - (x->t < y->t);
}

static void put_item(FILE *f, const struct sl_ladder *l, const struct item *it)
{
	const struct sl_timeline *tl = l->tl;

	if (it->arrow >= 0) {
		const struct sl_ladder_arrow *a = &l->arrow[it->arrow];
		int to = a->lost && l->router_lane >= 0 ? l->router_lane :
							  a->to;

		fprintf(f, "    %s%s%s: ", tl->host[l->lane_host[a->from]],
			a->lost ? "-x" : "->>", tl->host[l->lane_host[to]]);
		put_text(f, a->label);
		fprintf(f, "%s%s%s\n", a->lost ? " lost" : "",
			a->retransmitted ? " (again)" : "",
			a->injected ? " (injected)" : "");
		return;
	}
	{
		const struct sl_ladder_note *n = &l->note[it->note];
		const char *where = n->lane == 0	     ? "left of" :
				    n->lane == l->nlanes - 1 ? "right of" :
							       "over";

		fprintf(f, "    Note %s %s: ", where,
			tl->host[l->lane_host[n->lane]]);
		put_text(f, n->kind == SL_NOTE_STATE ? "state " : "");
		put_text(f, n->text);
		fputc('\n', f);
	}
}

int sl_ladder_mermaid(const struct sl_timeline *tl, FILE *f)
{
	struct sl_ladder l;
	struct item *it;
	int n = 0, ret = sl_ladder_build(tl, &l);
	int64_t last = 0;

	if (ret < 0)
		return ret;
	it = calloc(l.narrows + l.nnotes + 1, sizeof(*it));
	if (!it) {
		sl_ladder_free(&l);
		return -ENOMEM;
	}
	for (int i = 0; i < l.narrows; i++)
		it[n++] = (struct item){ l.arrow[i].t0, i, -1 };
	for (int i = 0; i < l.nnotes; i++)
		it[n++] = (struct item){ l.note[i].t, -1, i };
	/* Stable enough: qsort may swap equal times, which are the same
	 * instant on two hosts. */
	qsort(it, n, sizeof(*it), cmp_item);
	fprintf(f, "sequenceDiagram\n");
	for (int i = 0; i < l.nlanes; i++)
		fprintf(f, "    participant %s\n", tl->host[l.lane_host[i]]);
	for (int i = 0; i < n; i++) {
		if (i && it[i].t - last > 1000000000LL) {
			char len[32];

			sl_ladder_duration(it[i].t - last, len, sizeof(len));
			fprintf(f, "    Note over %s,%s: %s later\n",
				tl->host[l.lane_host[0]],
				tl->host[l.lane_host[l.nlanes - 1]], len);
		}
		put_item(f, &l, &it[i]);
		last = it[i].t;
	}
	free(it);
	sl_ladder_free(&l);
	return ferror(f) ? -EIO : 0;
}
