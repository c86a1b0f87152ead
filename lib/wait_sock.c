/* wait_sock.c: a role's looks at and waits on a socket's state (wait.h):
 * sock_diag decides, the kernel's events on the board wake and time. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "topology.h"
#include "ipaddr.h"
#include "board.h"
#include "clock.h"
#include "err.h"
#include "role.h"
#include "socklab.h"
#include "sockstate.h"
#include "wait.h"

#define SL_POLL_NS SL_NS_PER_MS
/* Where the kernel's events are awaited, a look at sock_diag this often in
 * case one was missed (the kernel's ring overwritten): never the way a
 * wait normally ends. */
#define SL_SAFETY_POLL_NS (100 * SL_NS_PER_MS)

/* t's addresses and ports as a socket's, in either family. */
static void tuple_sock(const struct sl_tuple *t, struct sl_sock *s)
{
	memset(s, 0, sizeof(*s));
	sl_ip_from_sockaddr(&t->local, &s->laddr, &s->lport);
	/* A listener's tuple has no peer (a zeroed sockaddr): sock_diag
	 * gives it the wildcard address of its own family, 0.0.0.0 or ::. */
	if (sl_ip_from_sockaddr(&t->peer, &s->raddr, &s->rport) < 0 &&
	    sl_ip_is4(&s->laddr))
		s->raddr = sl_ip_from4((struct in_addr){ 0 });
}

/* The socket on t as sock_diag shows it now: 1 and *out when there is
 * one (in want, if want is not SL_GONE and several share the 4-tuple),
 * else 0.  self->dumped_at is when the dump returned: what it shows was
 * true then. */
static int find_tuple(struct sl_role *self, const struct sl_tuple *t, int want,
		      struct sl_sock *out)
{
	struct sl_sock socks[256], key;
	struct sl_err e;
	int n, found = 0;

	tuple_sock(t, &key);
	if (!self->diag) {
		if (sl_sockdiag_open(&self->diag, -1, &e) < 0)
			sl__role_fail(self, e.msg, 0, __FILE__, __LINE__);
		sl_sockdiag_set_family(self->diag, self->topo->family);
	}
	if (sl_sockdiag_dump(self->diag, socks, 256, &n, &e) < 0)
		sl__role_fail(self, e.msg, 0, __FILE__, __LINE__);
	self->dumped_at = sl_now();
	for (int i = 0; i < n; i++) {
		if (socks[i].lport != key.lport ||
		    socks[i].rport != key.rport ||
		    !sl_ip_eq(&socks[i].laddr, &key.laddr) ||
		    !sl_ip_eq(&socks[i].raddr, &key.raddr))
			continue;
		if (!found || socks[i].state == want)
			*out = socks[i];
		found = 1;
	}
	return found;
}

/* What a wait on a 4-tuple saw when it returned goes on the timeline as
 * a socket-state line of this host: the samplers look every 2 to 20 ms and
 * may miss the moment, and predictions such as "in TIME-WAIT before the
 * RST" must not depend on that luck when the role itself saw it. */
static void record_sock(struct sl_role *self, int kind, const struct sl_sock *s)
{
	struct sl_event ev;

	sl_role_event(self, &ev, kind, NULL);
	/* When the dump saw it, not when we got round to writing it down. */
	if (self->dumped_at)
		ev.t = ev.t_start = self->dumped_at;
	ev.sock = *s;
	sl_board_append(self->board, &ev);
}

/* "(gone)": the socket as it was last seen, or just its 4-tuple. */
static void record_gone(struct sl_role *self, const struct sl_tuple *t,
			const struct sl_sock *last)
{
	struct sl_sock s;

	if (last)
		s = *last;
	else
		tuple_sock(t, &s);
	record_sock(self, SL_EV_GONE, &s);
}

int sl_record_tuple(struct sl_role *self, const struct sl_tuple *t)
{
	struct sl_sock s;

	if (find_tuple(self, t, -1, &s)) {
		record_sock(self, SL_EV_STATE, &s);
		return s.state;
	}
	record_gone(self, t, NULL);
	return SL_GONE;
}

/* What the kernel reported of t's socket on this host: its newest state
 * change (*latest), and the newest change into state made at or after
 * since (*into).  Each is 1 when found in what the ring still holds.
 * "Newest" by the kernel's timestamps, not by the ring's order: the reader
 * drains one CPU's buffer after the other, so events of two CPUs reach the
 * ring out of order. */
struct kernel_view {
	int have_latest, have_into;
	struct sl_board_kev latest, into;
};

static void kernel_view(struct sl_role *self, const struct sl_tuple *t,
			int state, int64_t since, struct kernel_view *v)
{
	struct sl_board *b = self->board;
	struct sl_sock key;

	tuple_sock(t, &key);
	memset(v, 0, sizeof(*v));
	sl_board_lock(b);
	for (unsigned long i = b->nkev;
	     i-- > 0 && b->nkev - i <= SL_BOARD_KEVS;) {
		const struct sl_board_kev *x = &b->kev[i % SL_BOARD_KEVS];

		if (x->host != self->host || x->k.type != SL_KEV_SET_STATE ||
		    x->k.lport != key.lport || x->k.rport != key.rport ||
		    !sl_ip_eq(&x->k.laddr, &key.laddr) ||
		    !sl_ip_eq(&x->k.raddr, &key.raddr))
			continue;
		if (!v->have_latest || x->t > v->latest.t) {
			v->latest = *x;
			v->have_latest = 1;
		}
		if (x->k.state == state && x->t >= since &&
		    (!v->have_into || x->t > v->into.t)) {
			v->into = *x;
			v->have_into = 1;
		}
	}
	sl_board_unlock(b);
}

struct tuple_wait {
	const struct sl_tuple *t;
	int state; /* TCP_*, or SL_GONE */
	int64_t begun;
	struct sl_sock s;    /* what the last look found */
	int found;	     /* ... a socket */
	int seen;	     /* some look found one */
	struct sl_sock last; /* the last one found */
	int moved_on;	     /* reached, but left before a dump saw it */
	int ended;	     /* a TIME-WAIT awaited on a connection that has
			      * closed and left nothing: it never comes */
	int silent;	     /* a look saw the mini-socket in another
				 * state first: no event timed the change */
};

static int is_mini(const struct sl_sock *s)
{
	return s->timer == SL_TIMER_TIMEWAIT;
}

/* What can time the wait's end afterwards (run.c, from the whole record:
 * the wait keeps no time of its own, since the kernel's event may reach
 * the role after the look that ended it): the socket's change to CLOSE
 * for a disappearance or a mini-socket taking the full socket's place,
 * its change into the state otherwise, nothing for a mini-socket's
 * unannounced change or end. */
static int wait_flags(const struct tuple_wait *w)
{
	if (w->silent || (w->state == SL_GONE && w->seen && is_mini(&w->last)))
		return SL_WAIT_UNTIMED;
	if (w->state == SL_GONE || w->state == TCP_TIME_WAIT ||
	    (w->found && is_mini(&w->s)))
		return SL_WAIT_BY_CLOSE;
	return 0;
}

/* A look with sock_diag decides: what it shows is so, and the role goes on
 * at once.  Where the kernel's events are live they wake the role (and
 * time the change); a state the socket passed through and left before any
 * look came is known from them alone.  What no event announces (the end
 * of a mini-socket, anything without tracefs) is looked for on a timer:
 * the mini-socket's own, or every millisecond. */
static int check_tuple(struct sl_role *self, void *arg, int64_t *cause,
		       int64_t *until)
{
	struct tuple_wait *w = arg;
	int live = self->board->kernel_live;
	struct kernel_view k;
	int64_t now;

	kernel_view(self, w->t, w->state == SL_GONE ? TCP_CLOSE : w->state,
		    w->begun, &k);
	/* A mini-socket that changes state (an orphan's FIN-WAIT-2 taking
	 * the peer's FIN into TIME-WAIT) does so without an event. */
	if (w->seen && is_mini(&w->last) && w->last.state != w->state)
		w->silent = 1;
	w->found = find_tuple(self, w->t, w->state, &w->s);
	(void)cause; /* timed afterwards: wait_flags() */
	if (w->state == SL_GONE ? !w->found :
				  w->found && w->s.state == w->state) {
		if (w->found) {
			w->last = w->s;
			w->seen = 1;
		}
		return 1;
	}
	if (w->found) {
		w->last = w->s;
		w->seen = 1;
	}
	if (live && w->state == TCP_TIME_WAIT && !w->found && k.have_latest &&
	    k.latest.k.state == TCP_CLOSE) {
		/* The kernel reports a TIME-WAIT's start as the full
		 * socket's change to CLOSE, made once the mini-socket is in
		 * the tables: a look after that event that finds nothing
		 * will never find the TIME-WAIT.  It was never entered, or
		 * it has ended already (a RST assassinated one that the
		 * role's close() outlasted, in a guest whose path had
		 * reordered the peer's ACK and FIN). */
		w->ended = 1;
		return 1;
	}
	if (live && w->state != SL_GONE && w->state != TCP_TIME_WAIT &&
	    ((k.have_latest && k.latest.k.state == w->state) || k.have_into)) {
		/* It has moved on since, as the kernel saw: no look ever
		 * showed the state, and none is recorded. */
		w->moved_on = 1;
		return 1;
	}
	now = sl_now();
	if (!live) {
		*until = now + SL_POLL_NS;
	} else if (w->found && is_mini(&w->s) && w->state == SL_GONE) {
		/* A mini-socket ends silently: look when its timer says,
		 * then every millisecond (the timer wheel may fire it a
		 * little late). */
		int64_t at = self->dumped_at +
			     (int64_t)w->s.expires_ms * SL_NS_PER_MS -
			     SL_POLL_NS;

		*until = at > now + SL_POLL_NS ? at : now + SL_POLL_NS;
	} else {
		*until = now + SL_SAFETY_POLL_NS;
	}
	return 0;
}

static void tuple_wait_fail(struct sl_role *self, const struct tuple_wait *w)
{
	char what[192];

	snprintf(what, sizeof(what), "wait for %s on port %u (it is %s)",
		 w->state == SL_GONE ? "no socket" : sl_state_name(w->state),
		 sl_port(&w->t->local),
		 w->ended ? "gone: the connection closed and left no "
			    "TIME-WAIT, or one that has ended already" :
		 w->found ? sl_state_name(w->s.state) :
			    "gone");
	sl__role_fail(self, what, ETIMEDOUT, __FILE__, __LINE__);
}

void sl_wait_tuple(struct sl_role *self, const struct sl_tuple *t, int state)
{
	int64_t begun = sl_now(), cause;
	struct tuple_wait w = { .t = t, .state = state, .begun = begun };
	struct sl_sock tup;
	char what[96];

	if (!sl_wait_for(self, check_tuple, &w, &cause) || w.ended)
		tuple_wait_fail(self, &w);
	if (state != SL_GONE && !w.moved_on)
		record_sock(self, SL_EV_STATE, &w.s);
	else
		record_gone(self, t, w.seen ? &w.last : NULL);
	snprintf(what, sizeof(what), "%s on port %u",
		 state == SL_GONE ? "no socket" : sl_state_name(state),
		 sl_port(&t->local));
	tuple_sock(t, &tup);
	tup.state = state;
	sl_wait_record(self, state == SL_GONE ? "gone" : "state", begun, cause,
		       what, &tup, wait_flags(&w));
}

/* TCP_TIMEWAIT_LEN in include/net/tcp.h: the timer every TIME-WAIT starts
 * with (timewait-duration measures it). */
#define SL_TIMEWAIT_MS 60000

struct age_wait {
	const struct sl_tuple *t;
	int ms;
	struct sl_sock s;
	int found;
	int64_t due; /* when the age is reached, by its timer */
};

/* The age of a TIME-WAIT is what its own timer says: the kernel arms it
 * for 60 s on entry, so the age is 60 s minus what is left.  The role
 * looks again when that time comes. */
static int check_age(struct sl_role *self, void *arg, int64_t *cause,
		     int64_t *until)
{
	struct age_wait *w = arg;
	int age;

	w->found = find_tuple(self, w->t, TCP_TIME_WAIT, &w->s);
	if (!w->found || w->s.state != TCP_TIME_WAIT ||
	    w->s.timer != SL_TIMER_TIMEWAIT) {
		/* Not a TIME-WAIT (any more): the wait has failed. */
		*until = 0;
		return 0;
	}
	age = SL_TIMEWAIT_MS - (int)w->s.expires_ms;
	w->due = self->dumped_at + (int64_t)(w->ms - age) * SL_NS_PER_MS;
	if (age >= w->ms) {
		*cause = w->due;
		return 1;
	}
	*until = w->due;
	return 0;
}

void sl_wait_timewait_ms(struct sl_role *self, const struct sl_tuple *t, int ms)
{
	struct age_wait w = { .t = t, .ms = ms };
	int64_t begun = sl_now(), cause;
	char what[160];

	for (;;) {
		if (sl_wait_for(self, check_age, &w, &cause))
			break;
		if (!w.found || w.s.state != TCP_TIME_WAIT ||
		    sl_now() >=
			    sl_board_deadline(self->board, self->deadline)) {
			snprintf(what, sizeof(what),
				 "wait for a TIME-WAIT %d "
				 "ms old on port %u (%s)",
				 ms, sl_port(&t->local),
				 !w.found ? "it is gone" :
				 w.s.state != TCP_TIME_WAIT ?
					    sl_state_name(w.s.state) :
					    "deadline");
			sl__role_fail(self, what, ETIMEDOUT, __FILE__,
				      __LINE__);
		}
	}
	record_sock(self, SL_EV_STATE, &w.s);
	snprintf(what, sizeof(what), "TIME-WAIT %d ms old on port %u", ms,
		 sl_port(&t->local));
	sl_wait_record(self, "timewait age", begun, cause, what, NULL, 0);
}
