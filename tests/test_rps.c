/* test_rps.c: the processor a run's interfaces are steered to, and its
 * mask as rps_cpus takes it (lib/rps.c; the write itself is seen in
 * test_topology). */
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "rps.h"

static void test_mask(void **state)
{
	char buf[64];

	(void)state;
	sl_rps_mask(0, buf, sizeof(buf));
	assert_string_equal(buf, "1");
	sl_rps_mask(3, buf, sizeof(buf));
	assert_string_equal(buf, "8");
	sl_rps_mask(31, buf, sizeof(buf));
	assert_string_equal(buf, "80000000");
	/* Groups of 32 bits, the most significant first. */
	sl_rps_mask(32, buf, sizeof(buf));
	assert_string_equal(buf, "1,00000000");
	sl_rps_mask(65, buf, sizeof(buf));
	assert_string_equal(buf, "2,00000000,00000000");
}

static void test_cpu_is_ours_and_spread(void **state)
{
	cpu_set_t set, seen;
	int n;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	n = CPU_COUNT(&set);
	CPU_ZERO(&seen);
	/* n slots in a row land on n different processors, each one this
	 * process may run on; the next slot starts over. */
	for (int slot = 0; slot < n; slot++) {
		int cpu = sl_rps_cpu(slot);

		assert_true(cpu >= 0);
		assert_true(CPU_ISSET(cpu, &set));
		assert_false(CPU_ISSET(cpu, &seen));
		CPU_SET(cpu, &seen);
	}
	assert_int_equal(sl_rps_cpu(n), sl_rps_cpu(0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mask),
		cmocka_unit_test(test_cpu_is_ours_and_spread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
