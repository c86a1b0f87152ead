/* test_counters.c: snmp/netstat counters and their deltas (lib/counters.c).
 *
 * tests/data/proc-net-{snmp,netstat}-6.18.txt are /proc/net/snmp and
 * /proc/net/netstat of a fresh namespace on kernel 6.18, as nstat reads
 * them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "counters.h"
#include "timeline.h"

#include "recorded.h"

static const struct sl_counter *get(const struct sl_counters *c, int host,
				    const char *name)
{
	for (int i = 0; i < c->n; i++)
		if (c->c[i].host == host && !strcmp(c->c[i].name, name))
			return &c->c[i];
	return NULL;
}

static void parse_file(struct sl_counters *c, int host, const char *path)
{
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	assert_int_equal(sl_counters_parse(c, host, f), 0);
	fclose(f);
}

static void parse_text(struct sl_counters *c, int host, const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");

	assert_non_null(f);
	assert_int_equal(sl_counters_parse(c, host, f), 0);
	fclose(f);
}

/* nstat's names: the line's prefix and the column's name together. */
static void test_parse_real_files(void **state)
{
	struct sl_counters c;
	const struct sl_counter *x;

	(void)state;
	sl_counters_init(&c);
	parse_file(&c, 2, SL_TEST_DATA "/proc-net-snmp-6.18.txt");
	parse_file(&c, 2, SL_TEST_DATA "/proc-net-netstat-6.18.txt");
	assert_true(c.n > 200);
	assert_non_null(get(&c, 2, "TcpExtTCPAbortOnClose"));
	assert_non_null(get(&c, 2, "TcpExtTCPAbortOnData"));
	assert_non_null(get(&c, 2, "TcpExtListenOverflows"));
	assert_non_null(get(&c, 2, "TcpOutRsts"));
	assert_non_null(get(&c, 2, "IpExtInOctets"));
	x = get(&c, 2, "TcpMaxConn"); /* a gauge, and negative */
	assert_non_null(x);
	assert_int_equal(x->value, -1);
	x = get(&c, 2, "TcpRtoMin");
	assert_int_equal(x->value, 200);
	assert_null(get(&c, 1, "TcpOutRsts"));
	sl_counters_free(&c);
}

static void test_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"Tcp: ActiveOpens PassiveOpens\nTcp: 1\n", /* short */
		"Tcp: ActiveOpens\nUdp: 1\n",		   /* mismatch */
		"Tcp: ActiveOpens\n",			   /* no values */
		"Tcp: ActiveOpens\nTcp: one\n",		   /* not a number */
		"garbage\nmore garbage\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sl_counters c;
		FILE *f = fmemopen((void *)bad[i], strlen(bad[i]), "r");

		sl_counters_init(&c);
		assert_int_equal(sl_counters_parse(&c, 0, f), -EINVAL);
		fclose(f);
		sl_counters_free(&c);
	}
}

static void test_delta(void **state)
{
	struct sl_counters before, after;
	struct sl_timeline tl;
	int found;

	(void)state;
	sl_counters_init(&before);
	sl_counters_init(&after);
	sl_timeline_init(&tl);
	parse_text(&before, 2,
		   "Tcp: OutRsts CurrEstab\nTcp: 5 1\n"
		   "TcpExt: TCPAbortOnClose TCPAbortOnData\nTcpExt: 7 0\n");
	parse_text(&before, 0, "Tcp: OutRsts CurrEstab\nTcp: 0 1\n");
	/* IcmpMsg columns exist only once a type was seen: this one
	 * appears during the run and counts from 0. */
	parse_text(&after, 0,
		   "Tcp: OutRsts CurrEstab\nTcp: 0 0\n"
		   "IcmpMsg: OutType3\nIcmpMsg: 2\n");
	parse_text(&after, 2,
		   "Tcp: OutRsts CurrEstab\nTcp: 6 1\n"
		   "TcpExt: TCPAbortOnClose TCPAbortOnData\nTcpExt: 8 0\n");
	assert_int_equal(sl_counters_delta(&before, &after, &tl), 0);
	assert_int_equal(tl.counters, 1);
	assert_int_equal(sl_counters_get(&tl, 2, "TcpOutRsts", &found), 1);
	assert_int_equal(found, 1);
	assert_int_equal(
		sl_counters_get(&tl, 2, "TcpExtTCPAbortOnClose", &found), 1);
	assert_int_equal(
		sl_counters_get(&tl, 2, "TcpExtTCPAbortOnData", &found), 0);
	assert_int_equal(found, 1);
	assert_int_equal(sl_counters_get(&tl, 0, "TcpCurrEstab", &found), -1);
	assert_int_equal(sl_counters_get(&tl, 0, "IcmpMsgOutType3", &found), 2);
	/* Read live, every name is known: an unknown one is not a zero. */
	assert_int_equal(
		sl_counters_get(&tl, 2, "TcpExtTCPAbortOnLinger", &found), 0);
	assert_int_equal(found, 0);
	sl_counters_free(&before);
	sl_counters_free(&after);
	sl_timeline_free(&tl);
}

/* A recording keeps the counters that moved; a loaded timeline reads the
 * others as 0, but only for names that can be counters at all. */
static void test_recorded(void **state)
{
	struct sl_timeline tl;
	int found;

	(void)state;
	load_recorded(&tl, "kernel-close-unread-rst.tl");
	assert_int_equal(tl.counters, 2);
	assert_int_equal(
		sl_counters_get(&tl, 2, "TcpExtTCPAbortOnClose", &found), 1);
	assert_int_equal(found, 1);
	assert_int_equal(sl_counters_get(&tl, 0, "TcpActiveOpens", &found), 1);
	assert_int_equal(
		sl_counters_get(&tl, 2, "TcpExtTCPAbortOnData", &found), 0);
	assert_int_equal(found, 1);
	sl_counters_get(&tl, 2, "AbortOnClose", &found);
	assert_int_equal(found, 0);
	sl_timeline_free(&tl);

	/* No counters in recordings made before they existed. */
	load_recorded(&tl, "close-unread-rst.tl");
	assert_int_equal(tl.counters, 0);
	assert_non_null(strstr(tl.counters_why, "no kernel counters"));
	sl_timeline_free(&tl);
}

static void test_save_load(void **state)
{
	struct sl_timeline tl, back;
	int found;

	(void)state;
	load_recorded(&tl, "kernel-linger-zero.tl");
	save_and_reload(&tl, &back);
	assert_int_equal(back.nctr, tl.nctr);
	for (int i = 0; i < tl.nctr; i++)
		assert_int_equal(sl_counters_get(&back, tl.ctr[i].host,
						 tl.ctr[i].name, &found),
				 tl.ctr[i].value);
	sl_timeline_free(&tl);
	sl_timeline_free(&back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_real_files),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_delta),
		cmocka_unit_test(test_recorded),
		cmocka_unit_test(test_save_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
