/* wait.c: a role's waits on the run's board (wait.h): marks, bytes in its
 * Recv-Q, segments the captures saw. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>

#include "board.h"
#include "clock.h"
#include "role.h"
#include "socklab.h"
#include "topology.h"
#include "wait.h"

int sl_wait_for(struct sl_role *self, sl_wait_check_fn check, void *arg,
		int64_t *cause)
{
	struct sl_board *b = self->board;
	int done = 0;

	/* Counted in before the sequence number is read (board.h). */
	sl_board_waiter_in(b);
	for (;;) {
		uint32_t seen = sl_board_seq(b);
		/* Moved by any pause at a mark (--step), afresh each turn. */
		int64_t deadline = sl_board_deadline(b, self->deadline);
		int64_t until = deadline;

		*cause = 0;
		if (check(self, arg, cause, &until)) {
			done = 1;
			break;
		}
		if (sl_now() >= deadline)
			break;
		if (until > deadline)
			until = deadline;
		sl_board_wait(b, seen, until);
	}
	sl_board_waiter_out(b);
	return done;
}

void sl_wait_record(struct sl_role *self, const char *kind, int64_t begun,
		    int64_t cause, const char *what,
		    const struct sl_sock *tuple, int flags)
{
	struct sl_event ev;

	sl_role_event(self, &ev, SL_EV_WAIT, kind);
	ev.t_start = cause;
	ev.ret = (long)begun;
	snprintf(ev.text, sizeof(ev.text), "%s", what);
	if (tuple)
		ev.sock = *tuple;
	ev.err = flags;
	sl_board_append(self->board, &ev);
}

struct mark_wait {
	int host;
	const char *name;
};

static int check_mark(struct sl_role *self, void *arg, int64_t *cause,
		      int64_t *until)
{
	struct mark_wait *w = arg;

	(void)until;
	sl_board_lock(self->board);
	*cause = sl_board_mark_time_locked(self->board, w->host, w->name);
	sl_board_unlock(self->board);
	return *cause != 0;
}

void sl_wait_mark(struct sl_role *self, const char *host, const char *name)
{
	struct mark_wait w = { sl_topology_host(self->topo, host), name };
	int64_t begun = sl_now(), cause;
	char what[128];

	if (w.host < 0)
		sl__role_fail(self, "unknown host name in sl_wait_mark()",
			      EINVAL, __FILE__, __LINE__);
	snprintf(what, sizeof(what), "mark %s:%s", host, name);
	if (!sl_wait_for(self, check_mark, &w, &cause)) {
		snprintf(what, sizeof(what), "wait for mark %s:%s", host, name);
		sl__role_fail(self, what, ETIMEDOUT, __FILE__, __LINE__);
	}
	sl_wait_record(self, "mark", begun, cause, what, NULL, 0);
}

/* Bytes to read: the kernel wakes an edge-triggered epoll at every arrival
 * (sk_data_ready), so the role checks FIONREAD exactly when it may have
 * changed.  Not SO_RCVLOWAT, which would do the same but changes when TCP
 * sends its ACKs (__tcp_ack_snd_check()): the very thing some claims are
 * about. */
void sl_wait_recvq(struct sl_role *self, int fd, int bytes)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLRDHUP | EPOLLET,
		.data.fd = fd,
	};
	struct sl_board *b = self->board;
	int64_t begun = sl_now(), cause = 0;
	char what[128];
	int queued = 0;

	if (self->epfd < 0)
		self->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (self->epfd < 0 || epoll_ctl(self->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		sl__role_fail(self, "epoll for sl_wait_recvq()", errno,
			      __FILE__, __LINE__);
	for (;;) {
		struct epoll_event out;
		int64_t left;

		if (ioctl(fd, FIONREAD, &queued) < 0)
			sl__role_fail(self, "FIONREAD", errno, __FILE__,
				      __LINE__);
		if (queued >= bytes)
			break;
		left = sl_board_deadline(b, self->deadline) - sl_now();
		if (left <= 0) {
			snprintf(what, sizeof(what),
				 "wait for %d bytes in "
				 "Recv-Q (have %d)",
				 bytes, queued);
			sl__role_fail(self, what, ETIMEDOUT, __FILE__,
				      __LINE__);
		}
		if (epoll_wait(self->epfd, &out, 1,
			       (int)((left + SL_NS_PER_MS - 1) /
				     SL_NS_PER_MS)) < 0 &&
		    errno != EINTR)
			sl__role_fail(self, "epoll_wait", errno, __FILE__,
				      __LINE__);
	}
	epoll_ctl(self->epfd, EPOLL_CTL_DEL, fd, NULL);
	/* The event: the last segment captured on its way to this host. */
	sl_board_lock(b);
	for (unsigned long i = b->nseg;
	     i-- > 0 && b->nseg - i <= SL_BOARD_SEGS;) {
		const struct sl_board_seg *a = &b->seg[i % SL_BOARD_SEGS];

		if (a->to == self->host && a->pkt.len > 0) {
			cause = a->t;
			break;
		}
	}
	sl_board_unlock(b);
	snprintf(what, sizeof(what), "%d bytes in Recv-Q", bytes);
	sl_wait_record(self, "recvq", begun, cause, what, NULL, 0);
}

static int host_of(struct sl_role *self, const char *name)
{
	int h = name ? sl_topology_host(self->topo, name) : -1;

	if (name && h < 0)
		sl__role_fail(self, "unknown host name in sl_wait_segment()",
			      EINVAL, __FILE__, __LINE__);
	return h;
}

static void to_segment(const struct sl_board_seg *a, struct sl_segment *s)
{
	memset(s, 0, sizeof(*s));
	s->t = a->t;
	s->saddr = a->pkt.saddr;
	s->daddr = a->pkt.daddr;
	s->sport = a->pkt.sport;
	s->dport = a->pkt.dport;
	s->seq = a->pkt.seq;
	s->ack = a->pkt.ack;
	s->flags = a->pkt.flags;
	s->win = a->pkt.win;
	s->len = a->pkt.len;
	s->has_ts = a->pkt.opt.has_ts;
	s->tsval = a->pkt.opt.tsval;
	s->tsecr = a->pkt.opt.tsecr;
}

struct seg_wait {
	const struct sl_segment_match *m;
	int from, to, mark_host;
	const char *mark;
	uint8_t need, forbid;
	struct sl_segment seg;
	int overrun; /* the ring no longer holds the anchor */
};

static int seg_matches(const struct seg_wait *w, const struct sl_board_seg *a)
{
	const struct sl_segment_match *m = w->m;

	return !((w->from >= 0 && a->from != w->from) ||
		 (w->to >= 0 && a->to != w->to) ||
		 (m->sport && a->pkt.sport != m->sport) ||
		 (m->dport && a->pkt.dport != m->dport) ||
		 (a->pkt.flags & w->need) != w->need ||
		 (a->pkt.flags & w->forbid) ||
		 (m->zero_window && a->pkt.win != 0));
}

/* The match closest to the anchor: the first after it (.after_segment, .after,
 * or the start of the run), or the last before it (.before).  Never "the
 * newest": a retransmission must not pass for the segment it repeats. */
static int check_segment(struct sl_role *self, void *arg, int64_t *cause,
			 int64_t *until)
{
	struct seg_wait *w = arg;
	struct sl_board *l = self->board;
	unsigned long oldest;
	int64_t lo = INT64_MIN;
	int found = 0;

	(void)until;
	sl_board_lock(l);
	oldest = l->nseg > SL_BOARD_SEGS ? l->nseg - SL_BOARD_SEGS : 0;
	if (w->m->after_segment)
		lo = w->m->after_segment->t;
	if (w->mark) {
		lo = sl_board_mark_time_locked(l, w->mark_host, w->mark);
		if (!lo) {
			/* Not marked yet: nothing after it yet either. */
			sl_board_unlock(l);
			return 0;
		}
	}
	/* Closest to the anchor by the captures' timestamps: the two
	 * captures are read one after the other, so the ring holds their
	 * segments out of order by up to a read's worth. */
	for (unsigned long i = oldest; i < l->nseg; i++) {
		const struct sl_board_seg *a = &l->seg[i % SL_BOARD_SEGS];

		if (!seg_matches(w, a))
			continue;
		if (w->m->before_segment ? a->t >= w->m->before_segment->t :
					   a->t <= lo)
			continue;
		if (found && (w->m->before_segment ? a->t <= w->seg.t :
						     a->t >= w->seg.t))
			continue;
		to_segment(a, &w->seg);
		found = 1;
	}
	if (oldest > 0) {
		/* The ring has wrapped: what it lost may have been closer to
		 * the anchor than anything it still holds. */
		int64_t first = INT64_MAX;

		for (unsigned long i = oldest; i < l->nseg; i++)
			if (l->seg[i % SL_BOARD_SEGS].t < first)
				first = l->seg[i % SL_BOARD_SEGS].t;
		/* Before an anchor: what it lost is older than what it
		 * holds, so only a miss is in doubt. */
		if (w->m->before_segment ? !found : first > lo) {
			w->overrun = 1;
			found = 0;
		}
	} else if (w->m->before_segment && !found) {
		/* Everything before a captured segment has been captured:
		 * no match now means none. */
		w->overrun = -1;
	}
	sl_board_unlock(l);
	if (found)
		*cause = w->seg.t;
	return found || w->overrun;
}

struct sl_segment sl__wait_segment(struct sl_role *self,
				   const struct sl_segment_match *m)
{
	struct seg_wait w = { .m = m,
			      .from = host_of(self, m->from),
			      .to = host_of(self, m->to),
			      .mark_host = -1 };
	int64_t begun = sl_now(), cause;
	char what[200], flags[16] = "any";
	int ok;

	if ((m->flags && sl_flags_parse(m->flags, &w.need) < 0) ||
	    (m->not_flags && sl_flags_parse(m->not_flags, &w.forbid) < 0) ||
	    (!!m->after_segment + !!m->before_segment + !!m->after > 1))
		sl__role_fail(self,
			      "bad flags, or more than one anchor, in "
			      "sl_wait_segment()",
			      EINVAL, __FILE__, __LINE__);
	if (m->after) {
		const char *colon = strchr(m->after, ':');

		w.mark = m->after;
		if (colon) {
			char host[32];

			snprintf(host, sizeof(host), "%.*s",
				 (int)(colon - m->after), m->after);
			w.mark_host = host_of(self, host);
			w.mark = colon + 1;
		}
	}
	if (m->flags)
		snprintf(flags, sizeof(flags), "%s", m->flags);
	snprintf(what, sizeof(what), "a segment%s%s%s%s [%s]%s %s%s",
		 m->from ? " from " : "", m->from ? m->from : "",
		 m->to ? " to " : "", m->to ? m->to : "", flags,
		 m->zero_window ? " with win 0" : "",
		 m->after_segment  ? "after the one given" :
		 m->before_segment ? "before the one given" :
		 m->after	   ? "after mark " :
				     "since the start",
		 m->after ? m->after : "");
	ok = sl_wait_for(self, check_segment, &w, &cause);
	if (w.overrun > 0) {
		char why[260];

		snprintf(why, sizeof(why),
			 "wait for %.160s: more than %d "
			 "segments since, the captures' ring no longer holds "
			 "it",
			 what, SL_BOARD_SEGS);
		sl__role_fail(self, why, EOVERFLOW, __FILE__, __LINE__);
	}
	if (!ok || w.overrun) {
		char why[230];

		snprintf(why, sizeof(why), "wait for %.200s in the captures",
			 what);
		sl__role_fail(self, why, w.overrun ? ENOENT : ETIMEDOUT,
			      __FILE__, __LINE__);
	}
	sl_wait_record(self, "segment", begun, cause, what, NULL, 0);
	return w.seg;
}
