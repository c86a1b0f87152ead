/* test_lateness.c: the lateness probe (lib/lateness.c) measures wake-ups
 * for as long as it runs, and sees a stall of the processor it runs on.
 *
 * The stall is made for real: the test pins itself and the probe to one
 * processor and spins there for 60 ms as a real-time (SCHED_FIFO) thread,
 * which an ordinary thread such as the probe's cannot preempt.  That needs
 * CAP_SYS_NICE; without it that test says so and is skipped.
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
#include <time.h>

#include "clock.h"
#include "lateness.h"

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void test_measures_while_running(void **state)
{
	struct sl_lateness *l;
	struct sl_err e = { "" };
	int64_t max_ns, t0, ran;
	long n;

	(void)state;
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
	assert_true(max_ns >= 0);
	/* Nothing started, nothing measured. */
	sl_lateness_stop(NULL, &max_ns, &n);
	assert_int_equal(max_ns, 0);
	assert_int_equal(n, 0);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
