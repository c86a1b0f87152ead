/* board.c: the run's shared board (board.h). */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "board.h"
#include "clock.h"
#include "err.h"

int sl_board_create(struct sl_board **bp, struct sl_err *e)
{
	pthread_mutexattr_t ma;
	struct sl_board *b;

	b = mmap(NULL, sizeof(*b), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED)
		return sl_errf(e, errno, "map the run's shared board");
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	/* A role killed while it holds the lock must not wedge the others. */
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&b->mu, &ma);
	pthread_mutexattr_destroy(&ma);
	b->cmdlog_fd = -1;
	b->step_fd = -1;
	b->server = getpid();
	*bp = b;
	return 0;
}

void sl_board_destroy(struct sl_board *b)
{
	if (b)
		munmap(b, sizeof(*b));
}

void sl_board_lock(struct sl_board *b)
{
	if (pthread_mutex_lock(&b->mu) == EOWNERDEAD)
		pthread_mutex_consistent(&b->mu);
}

void sl_board_unlock(struct sl_board *b)
{
	pthread_mutex_unlock(&b->mu);
}

/* ---- futexes ----
 *
 * Not FUTEX_PRIVATE_FLAG: the words are shared between processes. */

static void futex_wake_all(uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* Sleeps while *word is seen, until deadline (CLOCK_MONOTONIC ns;
 * FUTEX_WAIT_BITSET takes an absolute time on that clock). */
static int futex_wait_until(uint32_t *word, uint32_t seen, int64_t deadline)
{
	struct timespec until = {
		.tv_sec = deadline / SL_NS_PER_SEC,
		.tv_nsec = deadline % SL_NS_PER_SEC,
	};

	if (syscall(SYS_futex, word, FUTEX_WAIT_BITSET, seen, &until, NULL,
		    FUTEX_BITSET_MATCH_ANY) < 0 &&
	    errno == ETIMEDOUT)
		return -ETIMEDOUT;
	return 0;
}

void sl_board_wake(struct sl_board *b)
{
	__atomic_add_fetch(&b->seq, 1, __ATOMIC_SEQ_CST);
	futex_wake_all(&b->seq);
}

uint32_t sl_board_seq(struct sl_board *b)
{
	return __atomic_load_n(&b->seq, __ATOMIC_SEQ_CST);
}

int sl_board_wait(struct sl_board *b, uint32_t seen, int64_t deadline)
{
	return futex_wait_until(&b->seq, seen, deadline);
}

int sl_board_wait_locked(struct sl_board *b, int64_t deadline)
{
	uint32_t seen = sl_board_seq(b);
	int rc;

	sl_board_unlock(b);
	rc = sl_board_wait(b, seen, deadline);
	sl_board_lock(b);
	return rc;
}

void sl_board_waiter_in(struct sl_board *b)
{
	__atomic_add_fetch(&b->waiters, 1, __ATOMIC_SEQ_CST);
}

void sl_board_waiter_out(struct sl_board *b)
{
	__atomic_sub_fetch(&b->waiters, 1, __ATOMIC_SEQ_CST);
}

/* Wakes the waiters after a publication, if there are any: a waiter counts
 * itself in before it reads the sequence number and checks, so a
 * publisher that comes after the check sees the count and wakes it, and
 * one that came before is seen by the check. */
static void wake_waiters(struct sl_board *b)
{
	if (__atomic_load_n(&b->waiters, __ATOMIC_SEQ_CST))
		sl_board_wake(b);
}

/* ---- events and rings ---- */

void sl_board_append(struct sl_board *b, const struct sl_event *ev)
{
	sl_board_lock(b);
	if (b->n < SL_BOARD_EVENTS)
		b->ev[b->n++] = *ev;
	else
		b->dropped++;
	sl_board_unlock(b);
	/* After the event is in: a waiter that read the old number either
	 * sees the event when it checks, or finds the number changed. */
	sl_board_wake(b);
}

int64_t sl_board_mark_time_locked(struct sl_board *b, int host,
				  const char *name)
{
	for (int i = 0; i < b->n; i++)
		if (b->ev[i].kind == SL_EV_MARK &&
		    (host < 0 || b->ev[i].host == host) &&
		    strcmp(b->ev[i].name, name) == 0)
			return b->ev[i].t;
	return 0;
}

int sl_board_export(struct sl_board *b, struct sl_timeline *tl)
{
	int ret = 0;

	sl_board_lock(b);
	for (int i = 0; i < b->n && !ret; i++)
		ret = sl_timeline_add(tl, &b->ev[i]);
	sl_board_unlock(b);
	return ret;
}

const char *sl_board_error(struct sl_board *b, int *host)
{
	for (int i = 0; i < b->n; i++) {
		if (b->ev[i].kind == SL_EV_ROLE_ERROR) {
			*host = b->ev[i].host;
			return b->ev[i].text;
		}
	}
	return NULL;
}

void sl_board_add_segment(struct sl_board *b, const struct sl_event *ev)
{
	struct sl_board_seg *s;

	sl_board_lock(b);
	s = &b->seg[b->nseg % SL_BOARD_SEGS];
	s->t = ev->t;
	s->from = ev->from;
	s->to = ev->to;
	s->pkt = ev->pkt;
	b->nseg++;
	sl_board_unlock(b);
	wake_waiters(b);
}

void sl_board_add_kernel(void *arg, const struct sl_event *ev)
{
	struct sl_board *b = arg;
	struct sl_board_kev *k;

	sl_board_lock(b);
	k = &b->kev[b->nkev % SL_BOARD_KEVS];
	k->t = ev->t;
	k->host = ev->host;
	k->k = ev->k;
	b->nkev++;
	sl_board_unlock(b);
	wake_waiters(b);
}

/* ---- the roles ---- */

void sl_board_set_pid(struct sl_board *b, int host, pid_t pid)
{
	if (host >= 0 && host < SL_BOARD_HOSTS)
		__atomic_store_n(&b->role_pid[host], pid, __ATOMIC_SEQ_CST);
}

pid_t sl_board_pid(struct sl_board *b, int host)
{
	if (host < 0 || host >= SL_BOARD_HOSTS)
		return 0;
	return __atomic_load_n(&b->role_pid[host], __ATOMIC_SEQ_CST);
}

void sl_board_role_started(struct sl_board *b, int host)
{
	if (host < 0 || host >= SL_BOARD_HOSTS ||
	    __atomic_exchange_n(&b->role_live[host], 1, __ATOMIC_SEQ_CST))
		return;
	__atomic_add_fetch(&b->running, 1, __ATOMIC_SEQ_CST);
}

void sl_board_role_ended(struct sl_board *b, int host)
{
	if (host < 0 || host >= SL_BOARD_HOSTS ||
	    !__atomic_exchange_n(&b->role_live[host], 0, __ATOMIC_SEQ_CST))
		return;
	if (__atomic_sub_fetch(&b->running, 1, __ATOMIC_SEQ_CST) == 0)
		futex_wake_all(&b->running);
}

int sl_board_wait_roles_ended(struct sl_board *b, int64_t deadline)
{
	for (;;) {
		uint32_t n = __atomic_load_n(&b->running, __ATOMIC_SEQ_CST);

		if (n == 0)
			return 0;
		int64_t until = sl_board_deadline(b, deadline);

		/* Woken at the old deadline during a pause: look again. */
		if (sl_now() >= sl_board_deadline(b, deadline))
			return -ETIMEDOUT;
		futex_wait_until(&b->running, n, until);
	}
}

int64_t sl_board_deadline(struct sl_board *b, int64_t deadline)
{
	/* pause_since first: a pause's end adds to paused_ns before it
	 * clears pause_since, so a pause ending between the two loads is
	 * counted twice (a later deadline, harmless), never not at all. */
	int64_t since = __atomic_load_n(&b->pause_since, __ATOMIC_SEQ_CST);
	int64_t paused = __atomic_load_n(&b->paused_ns, __ATOMIC_SEQ_CST);

	/* While a pause lasts, the deadline moves on with the clock: a wait
	 * that wakes at the deadline it computed before finds it moved. */
	if (since)
		paused += sl_now() - since;
	return deadline + paused;
}

/* ---- requests ---- */

/* Takes a free slot for op on host, waiting for one if need be (with the
 * lock held).  Returns the slot or -ETIMEDOUT. */
static int post(struct sl_board *b, int op, int host, const char *name,
		int64_t deadline)
{
	for (;;) {
		for (int i = 0; i < SL_BOARD_REQS; i++) {
			struct sl_board_req *r = &b->req[i];

			if (r->state != SL_REQ_FREE)
				continue;
			memset(r, 0, sizeof(*r));
			r->state = SL_REQ_POSTED;
			r->op = op;
			r->host = host;
			snprintf(r->name, sizeof(r->name), "%s",
				 name ? name : "");
			return i;
		}
		if (sl_now() >= sl_board_deadline(b, deadline))
			return -ETIMEDOUT;
		sl_board_wait_locked(b, sl_board_deadline(b, deadline));
	}
}

int sl_board_request(struct sl_board *b, int op, int host, int64_t deadline,
		     char *why, size_t n)
{
	return sl_board_request_named(b, op, host, NULL, deadline, why, n);
}

int sl_board_request_named(struct sl_board *b, int op, int host,
			   const char *name, int64_t deadline, char *why,
			   size_t n)
{
	struct sl_board_req *r;
	int slot, ret;

	sl_board_lock(b);
	slot = post(b, op, host, name, deadline);
	sl_board_unlock(b);
	if (slot < 0) {
		snprintf(why, n, "wait for the run to take a request");
		return slot;
	}
	/* The run process waits for its roles in the fault server, which
	 * sleeps in sigtimedwait() with SIGUSR1 blocked: it serves the
	 * request as soon as it wakes. */
	kill(b->server, SIGUSR1);
	r = &b->req[slot];
	sl_board_lock(b);
	/* The deadline is looked at afresh after each wake: a pause served
	 * meanwhile (this very request, for one) has moved it. */
	while (r->state != SL_REQ_DONE &&
	       sl_now() < sl_board_deadline(b, deadline))
		sl_board_wait_locked(b, sl_board_deadline(b, deadline));
	if (r->state == SL_REQ_DONE) {
		ret = r->ret;
		snprintf(why, n, "%s", r->why);
		r->state = SL_REQ_FREE;
	} else {
		ret = -ETIMEDOUT;
		snprintf(why, n, "the run did not answer the request in time");
		/* Taken: the server frees the slot when it answers. */
		r->state = r->state == SL_REQ_TAKEN ? SL_REQ_ABANDONED :
						      SL_REQ_FREE;
	}
	sl_board_unlock(b);
	sl_board_wake(b); /* another role may wait for a slot */
	return ret;
}

int sl_board_take_request(struct sl_board *b, struct sl_board_req *req)
{
	int slot = -1;

	sl_board_lock(b);
	for (int i = 0; i < SL_BOARD_REQS && slot < 0; i++) {
		if (b->req[i].state != SL_REQ_POSTED)
			continue;
		b->req[i].state = SL_REQ_TAKEN;
		*req = b->req[i];
		slot = i;
	}
	sl_board_unlock(b);
	return slot;
}

void sl_board_answer(struct sl_board *b, int slot, int ret, const char *why)
{
	struct sl_board_req *r = &b->req[slot];

	sl_board_lock(b);
	if (r->state == SL_REQ_TAKEN) {
		r->ret = ret;
		snprintf(r->why, sizeof(r->why), "%s", why);
		r->state = SL_REQ_DONE;
	} else {
		r->state = SL_REQ_FREE;
	}
	sl_board_unlock(b);
	sl_board_wake(b);
}
