/* test_timeline_io.c: the recording format's loader refuses what it cannot
 * trust (crafted files in tests/data/: bad-*.tl, malformed-*.tl) with the
 * file, the line and the reason, and still loads every real recording. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "timeline.h"

/* One crafted recording, the line the loader must stop at and what it must
 * say about it. */
struct refusal {
	const char *file;
	int line;
	const char *why;
};

static const struct refusal refusals[] = {
	{ "bad-host.tl", 5, "host 7 is out of range (0..2)" },
	{ "bad-sender.tl", 4, "sender 1000000 is out of range (-1..2)" },
	{ "bad-kernel-host.tl", 4, "host -3 is out of range (0..2)" },
	{ "bad-counter-host.tl", 6,
	  "counter's host 12 is out of range (0..2)" },
	{ "malformed-number.tl", 4, "time \"12x\" is not a number" },
	{ "malformed-missing-field.tl", 4,
	  "a call line has 7 fields, this one 6" },
	{ "malformed-unknown-kind.tl", 4, "unknown line kind \"Q\"" },
	{ "malformed-no-hosts.tl", 3, "host \"2\" before the hosts line" },
	{ "malformed-hosts-twice.tl", 5, "a second hosts line" },
	{ "malformed-sack.tl", 4, "bad SACK blocks \"1200-\"" },
	{ "bad-sack-count.tl", 4, "more than 4 SACK blocks" },
};

static void test_refuses_crafted(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(refusals) / sizeof(*refusals); i++) {
		const struct refusal *r = &refusals[i];
		struct sl_timeline tl;
		struct sl_err e = { "" };
		char path[512], where[600];

		snprintf(path, sizeof(path), "%s/%s", SL_TEST_DATA, r->file);
		snprintf(where, sizeof(where), "load %s: line %d: ", path,
			 r->line);
		print_message("%s\n", r->file);
		assert_int_equal(sl_timeline_read(&tl, path, &e), -EINVAL);
		print_message("  %s\n", e.msg);
		assert_non_null(strstr(e.msg, where));
		assert_non_null(strstr(e.msg, r->why));
		/* Refused means nothing half-loaded to read. */
		assert_int_equal(tl.n, 0);
		assert_null(tl.ev);
		assert_int_equal(sl_timeline_load(&tl, path), -EINVAL);
	}
}

static void test_loads_every_recording(void **state)
{
	glob_t g;
	int n = 0;

	(void)state;
	assert_int_equal(glob(SL_TEST_DATA "/*.tl", 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *base = strrchr(g.gl_pathv[i], '/') + 1;
		struct sl_timeline tl;
		struct sl_err e = { "" };

		if (!strncmp(base, "bad-", 4) ||
		    !strncmp(base, "malformed-", 10))
			continue;
		if (sl_timeline_read(&tl, g.gl_pathv[i], &e) != 0)
			fail_msg("%s", e.msg);
		assert_true(tl.n > 0);
		sl_timeline_free(&tl);
		n++;
	}
	globfree(&g);
	assert_true(n >= 10);
}

/* SACK blocks are what predictions on D-SACKs and duplicate ACKs read, so
 * a recording keeps them: saved and loaded again, they are the same. */
static void test_sack_round_trip(void **state)
{
	struct sl_timeline a, b;
	char path[] = "/tmp/socklab-test-sack-XXXXXX";
	int fd, blocks = 0;
	FILE *f;

	(void)state;
	assert_int_equal(sl_timeline_load(&a, SL_TEST_DATA "/window-sack.tl"),
			 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	/* It closes f. */
	assert_int_equal(sl_timeline_save_to(&a, f), 0);
	assert_int_equal(sl_timeline_load(&b, path), 0);
	unlink(path);
	assert_int_equal(a.n, b.n);
	for (int i = 0; i < a.n; i++) {
		const struct sl_tcpopts *x = &a.ev[i].pkt.opt,
					*y = &b.ev[i].pkt.opt;

		assert_int_equal(x->nsack, y->nsack);
		for (int k = 0; k < x->nsack; k++) {
			assert_int_equal(x->sack[k][0], y->sack[k][0]);
			assert_int_equal(x->sack[k][1], y->sack[k][1]);
		}
		blocks += x->nsack;
	}
	assert_int_equal(blocks, 2);
	sl_timeline_free(&a);
	sl_timeline_free(&b);
}

static void test_missing_file_names_it(void **state)
{
	struct sl_timeline tl;
	struct sl_err e = { "" };

	(void)state;
	assert_int_equal(sl_timeline_read(&tl, "/nonexistent/x.tl", &e),
			 -ENOENT);
	assert_non_null(strstr(e.msg, "load /nonexistent/x.tl"));
}

/* A line too long for the reader is refused, not read as two lines. */
static void test_refuses_long_line(void **state)
{
	char path[] = "/tmp/socklab-test-tl-XXXXXX";
	struct sl_timeline tl;
	struct sl_err e = { "" };
	char name[2000];
	FILE *f;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	fprintf(f, "hosts\tclient\trouter\tserver\nM\t1\t0\t%s\n", name);
	fclose(f);
	assert_int_equal(sl_timeline_read(&tl, path, &e), -EINVAL);
	unlink(path);
	assert_non_null(strstr(e.msg, "line 2: longer than"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refuses_crafted),
		cmocka_unit_test(test_loads_every_recording),
		cmocka_unit_test(test_sack_round_trip),
		cmocka_unit_test(test_missing_file_names_it),
		cmocka_unit_test(test_refuses_long_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
