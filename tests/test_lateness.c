/* test_lateness.c: the lateness probe (lib/lateness.c) measures wake-ups
 * for as long as it runs, sees a stall of the processor it runs on, and
 * not the ordinary processes queued for it.
 *
 * The stall is made for real: the test pins itself and the probe to one
 * processor and spins there for 60 ms as a real-time (SCHED_FIFO 1)
 * thread, which the probe, real-time at the same priority, cannot preempt.
 * The probe and the stall need CAP_SYS_NICE; without it the tests say so
 * and are skipped.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "lateness.h"

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Whether this process may run a thread at a real-time priority. */
static int may_run_fifo(void)
{
	struct sched_param fifo = { .sched_priority = 1 }, other = { 0 };

	if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &fifo) != 0)
		return 0;
	pthread_setschedparam(pthread_self(), SCHED_OTHER, &other);
	return 1;
}

static void test_measures_while_running(void **state)
{
	struct sl_lateness *l;
	struct sl_err e = { "" };
	int64_t max_ns, t0, ran;
	long n;

	(void)state;
	if (!may_run_fifo())
		skip(); /* no CAP_SYS_NICE: the probe measures nothing */
	t0 = sl_now();
	assert_int_equal(sl_lateness_start(&l, &e), 0);
	sleep_ms(20 * SL_LATENESS_PERIOD_MS);
	sl_lateness_stop(l, &max_ns, &n);
	ran = sl_now() - t0;
	/* About one wake-up a period: at least a few, however slow the
	 * machine, and never more than there were periods. */
	print_message("%ld wake-ups in %.1f ms, the latest %.3f ms late\n", n,
		      (double)ran / 1e6, (double)max_ns / 1e6);
	assert_true(n >= 3);
	assert_true(n <= ran / (SL_LATENESS_PERIOD_MS * 1000000LL));
	/* No wake-up is later than the probe ran. */
	assert_true(max_ns >= 0 && max_ns < ran);
	/* Nothing started, nothing measured. */
	sl_lateness_stop(NULL, &max_ns, &n);
	assert_int_equal(max_ns, 0);
	assert_int_equal(n, 0);
}

/* What an ordinary thread measures, the probe's loop without its
 * priority: the latest of 20 wake-ups, in ns. */
static void *ordinary(void *arg)
{
	int64_t *max_ns = arg, due = sl_now();

	for (int i = 0; i < 20; i++) {
		struct timespec ts;
		int64_t now;

		due += SL_LATENESS_PERIOD_MS * 1000000LL;
		ts.tv_sec = due / SL_NS_PER_SEC;
		ts.tv_nsec = due % SL_NS_PER_SEC;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
				       NULL) != 0)
			;
		now = sl_now();
		if (now - due > *max_ns)
			*max_ns = now - due;
		if (due < now)
			due = now;
	}
	return NULL;
}

/* Busy ordinary processes on the probe's processor: a queue the probe
 * jumps, as the kernel's timers do, and an ordinary thread waits in. */
static void test_not_the_run_queue(void **state)
{
	cpu_set_t one, all;
	struct sl_lateness *l;
	struct sl_err e = { "" };
	pthread_t th;
	pid_t kids[4];
	int64_t max_ns, plain_ns = 0;
	long n;

	(void)state;
	if (!may_run_fifo())
		skip();
	assert_int_equal(sched_getaffinity(0, sizeof(all), &all), 0);
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	for (int i = 0; i < 4; i++) {
		kids[i] = fork();
		assert_true(kids[i] >= 0);
		if (kids[i] == 0)
			for (;;)
				;
	}
	assert_int_equal(sl_lateness_start(&l, &e), 0);
	assert_int_equal(pthread_create(&th, NULL, ordinary, &plain_ns), 0);
	pthread_join(th, NULL);
	sl_lateness_stop(l, &max_ns, &n);
	for (int i = 0; i < 4; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	assert_int_equal(sched_setaffinity(0, sizeof(all), &all), 0);
	print_message("4 busy processes on its processor: the probe's latest "
		      "wake-up of %ld %.3f ms late, an ordinary thread's "
		      "%.3f ms\n",
		      n, (double)max_ns / 1e6, (double)plain_ns / 1e6);
	/* The ordinary thread waits its turn among five, a scheduler slice
	 * each; the probe does not.  Whatever stalled the processor itself
	 * (a hypervisor) stalled both. */
	assert_true(n >= 3);
	assert_true(max_ns < plain_ns);
}

/* Spins on the calling thread for ms of the monotonic clock. */
static void spin_ms(int ms)
{
	int64_t end = sl_now() + (int64_t)ms * 1000000;

	while (sl_now() < end)
		;
}

static void test_sees_a_stall(void **state)
{
	struct sched_param fifo = { .sched_priority = 1 }, other = { 0 };
	struct sl_lateness *l;
	struct sl_err e = { "" };
	cpu_set_t one, all;
	int64_t max_ns;
	long n;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(all), &all), 0);
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	/* The probe's thread inherits the pinning. */
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	assert_int_equal(sl_lateness_start(&l, &e), 0);
	sleep_ms(3 * SL_LATENESS_PERIOD_MS);
	if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &fifo) != 0) {
		sl_lateness_stop(l, &max_ns, &n);
		sched_setaffinity(0, sizeof(all), &all);
		skip(); /* no CAP_SYS_NICE: the stall cannot be made */
	}
	spin_ms(60);
	assert_int_equal(
		pthread_setschedparam(pthread_self(), SCHED_OTHER, &other), 0);
	sleep_ms(3 * SL_LATENESS_PERIOD_MS);
	sl_lateness_stop(l, &max_ns, &n);
	assert_int_equal(sched_setaffinity(0, sizeof(all), &all), 0);
	print_message("stalled 60 ms: the latest wake-up %.3f ms late\n",
		      (double)max_ns / 1e6);
	/* Asleep through the stall, the probe wakes at its end: late by
	 * the stall less at most one period. */
	assert_true(max_ns >= (60 - SL_LATENESS_PERIOD_MS) * 1000000LL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_measures_while_running),
		cmocka_unit_test(test_sees_a_stall),
		cmocka_unit_test(test_not_the_run_queue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
