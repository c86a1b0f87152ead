/* lateness.c: a thread that measures how late its timer wakes it
 * (lateness.h). */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "lateness.h"

struct sl_lateness {
	pthread_t thread;
	atomic_int stop;
	/* Written by the thread alone, read after the join. */
	int64_t max_ns;
	long samples;
};

static void *measure(void *arg)
{
	struct sl_lateness *l = arg;
	const int64_t period = (int64_t)SL_LATENESS_PERIOD_MS * 1000000;
	struct sched_param fifo = { .sched_priority = 1 };
	int64_t due = sl_now() + period;

	/* Real-time or not at all (lateness.h): an ordinary thread would
	 * measure the run queue, not the timers. */
	if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &fifo) != 0)
		return NULL;

	while (!atomic_load(&l->stop)) {
		struct timespec ts = { .tv_sec = due / SL_NS_PER_SEC,
				       .tv_nsec = due % SL_NS_PER_SEC };
		int64_t now;

		if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
				    NULL) != 0)
			continue; /* EINTR: the same deadline again */
		now = sl_now();
		if (now - due > l->max_ns)
			l->max_ns = now - due;
		l->samples++;
		/* The next deadline from the one before, not from now, so
		 * that a late wake-up does not shift every later one; after
		 * a stall longer than a period, start afresh from now. */
		due += period;
		if (due <= now)
			due = now + period;
	}
	return NULL;
}

int sl_lateness_start(struct sl_lateness **lp, struct sl_err *e)
{
	struct sl_lateness *l = calloc(1, sizeof(*l));
	int ret;

	*lp = NULL;
	if (!l)
		return sl_errf(e, ENOMEM, "allocate the lateness probe");
	ret = pthread_create(&l->thread, NULL, measure, l);
	if (ret != 0) {
		free(l);
		return sl_errf(e, ret, "start the lateness probe's thread");
	}
	*lp = l;
	return 0;
}

void sl_lateness_stop(struct sl_lateness *l, int64_t *max_ns, long *samples)
{
	*max_ns = 0;
	*samples = 0;
	if (!l)
		return;
	atomic_store(&l->stop, 1);
	pthread_join(l->thread, NULL);
	*max_ns = l->max_ns;
	*samples = l->samples;
	free(l);
}

void sl_lateness_undo(void *arg)
{
	struct sl_lateness **lp = arg;
	int64_t max_ns;
	long samples;

	sl_lateness_stop(*lp, &max_ns, &samples);
	*lp = NULL;
}
