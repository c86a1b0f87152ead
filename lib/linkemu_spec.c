/* linkemu_spec.c: what a fault asks of the link emulator (linkemu_proto.h):
 * a struct sl_fault checked into the struct sl__le_spec that crosses the
 * control socket, and the comment lines that say in the cmdlog what it
 * does and which backend serves it. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "linkemu_proto.h"
#include "packet.h"
#include "socklab.h"

static const char *const kind_name[LE_NKINDS] = { "delay", "loss", "reorder",
						  "drop" };

static int dirs_of(const char *from, struct sl_err *e)
{
	if (!from)
		return 3;
	if (!strcmp(from, "client"))
		return 1;
	if (!strcmp(from, "server"))
		return 2;
	return sl_errf(e, EINVAL,
		       "fault .from = \"%s\": the router sits "
		       "between \"client\" and \"server\" (or NULL: both)",
		       from);
}

int sl__le_spec_check(const struct sl_fault *f, struct sl__le_spec *s,
		      struct sl_err *e)
{
	int k;

	memset(s, 0, sizeof(*s));
	if (!f->kind)
		return sl_errf(e, EINVAL, "fault without a kind");
	for (k = 0; k < LE_NKINDS; k++)
		if (!strcmp(f->kind, kind_name[k]))
			break;
	if (k == LE_NKINDS)
		return sl_errf(e, EINVAL,
			       "fault kind \"%s\" is not the link "
			       "emulator's (delay, loss, reorder, drop)",
			       f->kind);
	s->kind = k;
	s->dirs = dirs_of(f->from, e);
	if (s->dirs < 0)
		return s->dirs;
	switch (k) {
	case LE_DELAY:
		if (f->delay_ms <= 0 || f->jitter_ms < 0 ||
		    f->jitter_ms > f->delay_ms)
			return sl_errf(e, EINVAL,
				       "delay: .delay_ms must be > 0 "
				       "and 0 <= .jitter_ms <= .delay_ms (got "
				       "%d, %d)",
				       f->delay_ms, f->jitter_ms);
		break;
	case LE_LOSS:
		if (!(f->loss > 0 && f->loss <= 1))
			return sl_errf(e, EINVAL,
				       "loss: .loss must be in (0, 1] "
				       "(got %g)",
				       f->loss);
		break;
	case LE_REORDER:
		/* Each hold lets one segment overtake, so at most every
		 * other segment can be sent ahead. */
		if (f->reorder_pct <= 0 || f->reorder_pct > 50 ||
		    f->delay_ms < 0)
			return sl_errf(e, EINVAL,
				       "reorder: .reorder_pct must be "
				       "in 1..50 (got %d)",
				       f->reorder_pct);
		break;
	case LE_DROP:
		if (f->count < 0)
			return sl_errf(e, EINVAL, "drop: .count must be >= 0");
		if ((f->flags && sl_flags_parse(f->flags, &s->need) < 0) ||
		    (f->not_flags &&
		     sl_flags_parse(f->not_flags, &s->forbid) < 0))
			return sl_errf(
				e, EINVAL,
				"drop: bad flags \"%s\" / "
				"\"%s\" (tcpdump letters F S R P . U E W)",
				f->flags ? f->flags : "",
				f->not_flags ? f->not_flags : "");
		s->len = f->len;
		s->count = f->count ? f->count : 1;
		break;
	}
	s->delay_ms = f->delay_ms;
	s->jitter_ms = f->jitter_ms;
	s->loss = f->loss;
	s->reorder_pct = f->reorder_pct;
	return 0;
}

void sl__le_spec_describe(FILE *f, int id, const struct sl__le_spec *s,
			  int backend, const struct sl_fault *src, int fifo)
{
	const char *dir = s->dirs == 3 ? "both directions" :
			  s->dirs == 1 ? "from client" :
					 "from server";

	if (!f)
		return;
	fprintf(f, "# fault %d: %s %s", id, kind_name[s->kind], dir);
	switch (s->kind) {
	case LE_DELAY:
		fprintf(f, ", %d ms", s->delay_ms);
		if (s->jitter_ms)
			fprintf(f, " +- %d ms", s->jitter_ms);
		break;
	case LE_LOSS:
		fprintf(f, ", %g%% of packets, seed %" PRIu32, 100 * s->loss,
			s->seed);
		break;
	case LE_REORDER:
		fprintf(f, ", %d%% of segments sent ahead, seed %" PRIu32,
			s->reorder_pct, s->seed);
		break;
	case LE_DROP:
		fprintf(f, ", the next %d segment%s", s->count,
			s->count == 1 ? "" : "s");
		if (src->flags)
			fprintf(f, " with [%s]", src->flags);
		if (src->not_flags)
			fprintf(f, " without [%s]", src->not_flags);
		if (s->len)
			fprintf(f, " of length %ld", s->len - 1);
		break;
	}
	if (backend == LE_B_NETEM)
		fprintf(f, "; backend netem (tc qdisc on the router's way "
			   "out)\n");
	else
		fprintf(f,
			"; backend linkemu (socklab's link emulator: "
			"NFQUEUE %s in the router, timerfd, %s)\n"
			"# (the rule below hands the packets to that process; "
			"with no process reading the queue, the kernel drops "
			"them)\n",
			s->dirs == 3 ? "0 and 1" :
			s->dirs == 1 ? "0" :
				       "1",
			fifo ? "SCHED_FIFO" : "SCHED_OTHER");
}
