/* test_statemachine.c: recorded runs laid over RFC 9293's diagram mark
 * exactly the transitions their kernel made: the TIME-WAIT the kernel
 * reports as CLOSE is found from the samples, an abort is an edge of
 * Linux's own, and what a run did not do stays unobserved.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "statemachine.h"
#include "timeline.h"

static const struct sl_sm_edge *edge(const struct sl_sm *m, int from, int to)
{
	for (int i = 0; i < m->nedges; i++)
		if (m->edge[i].from == from && m->edge[i].to == to)
			return &m->edge[i];
	return NULL;
}

static int seen(const struct sl_sm *m, int from, int to)
{
	const struct sl_sm_edge *e = edge(m, from, to);

	return e ? e->seen : -1; /* -1: not even on the map */
}

static void add(struct sl_sm *m, const char *file, const char *who)
{
	struct sl_timeline tl;
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", SL_TEST_DATA, file);
	assert_int_equal(sl_timeline_load(&tl, path), 0);
	assert_int_equal(sl_sm_add(m, &tl, who), 0);
	sl_timeline_free(&tl);
}

static void test_rfc_map(void **state)
{
	struct sl_sm m;

	(void)state;
	sl_sm_init(&m);
	assert_int_equal(m.nedges, 20);
	for (int i = 0; i < m.nedges; i++) {
		assert_non_null(m.edge[i].event);
		assert_int_equal(m.edge[i].seen, 0);
	}
	assert_string_equal(sl_sm_state_name(SL_SM_SYN_RECEIVED),
			    "SYN-RECEIVED");
}

/* An orderly close: the active closer's FIN-WAIT-2 -> CLOSE is, by the
 * samples, its entry into TIME-WAIT, which did not end within the run. */
static void test_timewait_from_samples(void **state)
{
	struct sl_sm m;

	(void)state;
	sl_sm_init(&m);
	add(&m, "kernel-timewait.tl", "timewait");
	assert_int_equal(seen(&m, SL_SM_FIN_WAIT_2, SL_SM_TIME_WAIT), 1);
	assert_int_equal(seen(&m, SL_SM_CLOSE_WAIT, SL_SM_LAST_ACK), 1);
	assert_int_equal(seen(&m, SL_SM_LAST_ACK, SL_SM_CLOSED), 1);
	/* Not what it did: */
	assert_int_equal(seen(&m, SL_SM_FIN_WAIT_2, SL_SM_CLOSED), -1);
	assert_int_equal(seen(&m, SL_SM_TIME_WAIT, SL_SM_CLOSED), 0);
	assert_int_equal(seen(&m, SL_SM_FIN_WAIT_1, SL_SM_CLOSING), 0);
	assert_int_equal(seen(&m, SL_SM_ESTABLISHED, SL_SM_CLOSED), -1);
	assert_string_equal(edge(&m, SL_SM_FIN_WAIT_2, SL_SM_TIME_WAIT)->who[0],
			    "timewait");
}

/* SO_LINGER {1, 0}: ESTABLISHED straight to CLOSED, which the RFC's
 * diagram does not draw; no FIN-WAIT at all. */
static void test_abort_is_linux_own(void **state)
{
	struct sl_sm m;
	const struct sl_sm_edge *e;

	(void)state;
	sl_sm_init(&m);
	add(&m, "kernel-linger-zero.tl", "linger");
	e = edge(&m, SL_SM_ESTABLISHED, SL_SM_CLOSED);
	assert_non_null(e);
	assert_null(e->event);
	assert_int_equal(e->seen, 1);
	assert_int_equal(seen(&m, SL_SM_ESTABLISHED, SL_SM_FIN_WAIT_1), 0);
	assert_int_equal(m.nedges, 21);
}

/* Without the kernel's events, the samples' changes: a 60 s TIME-WAIT
 * seen to end is its 2 MSL timeout. */
static void test_samples_only(void **state)
{
	struct sl_sm m;

	(void)state;
	sl_sm_init(&m);
	add(&m, "timewait-60s.tl", "duration");
	assert_int_equal(m.sampled, 1);
	assert_int_equal(seen(&m, SL_SM_TIME_WAIT, SL_SM_CLOSED), 1);
}

/* Two variants of one experiment count twice, the experiment once. */
static void test_counts(void **state)
{
	struct sl_sm m;
	const struct sl_sm_edge *e;

	(void)state;
	sl_sm_init(&m);
	add(&m, "kernel-timewait.tl", "timewait");
	add(&m, "kernel-timewait.tl", "timewait");
	add(&m, "kernel-lastack-dead.tl", "lastack");
	e = edge(&m, SL_SM_CLOSE_WAIT, SL_SM_LAST_ACK);
	assert_int_equal(e->seen, 3);
	assert_int_equal(e->nwho, 2);
	assert_int_equal(m.timelines, 3);
}

static void test_dot(void **state)
{
	struct sl_sm m;
	char *buf = NULL;
	size_t n = 0;
	FILE *f;

	(void)state;
	sl_sm_init(&m);
	add(&m, "kernel-linger-zero.tl", "linger");
	f = open_memstream(&buf, &n);
	sl_sm_dot(&m, f);
	fclose(f);
	assert_true(!strncmp(buf, "digraph tcp {", 13));
	assert_non_null(strstr(buf, "\"ESTABLISHED\" -> \"CLOSED\" "
				    "[penwidth=2, color=\"#e65100\""));
	assert_non_null(strstr(buf, "\"FIN-WAIT-2\" -> \"TIME-WAIT\" "
				    "[color=\"#cfd8dc\""));
	assert_non_null(strstr(buf, "label=\"linger\""));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_map),
		cmocka_unit_test(test_timewait_from_samples),
		cmocka_unit_test(test_abort_is_linux_own),
		cmocka_unit_test(test_samples_only),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_dot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
