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
#include <arpa/inet.h>

#include "ipaddr.h"
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
	{ "malformed-opt.tl", 4, "option bytes \"0204zz\" are not hex" },
	{ "malformed-opt-sack.tl", 4, "a packet's field 16 is \"sack=1-2\"" },
	{ "malformed-fault.tl", 4, "lifted 2 is out of range (0..1)" },
	{ "malformed-error.tl", 4, "a line \"error\" has 2 fields" },
	{ "malformed-late.tl", 4,
	  "late max_ns -5 is out of range (0..9223372036854775807)" },
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

/* Saves a and loads it back into b. */
static void round_trip(const struct sl_timeline *a, struct sl_timeline *b)
{
	char path[] = "/tmp/socklab-test-run-XXXXXX";
	struct sl_err e = { "" };
	int fd = mkstemp(path);
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(sl_timeline_save_to(a, f), 0);
	if (sl_timeline_read(b, path, &e) != 0)
		fail_msg("%s", e.msg);
	unlink(path);
}

/* What a recording judged again (experiment --judge) reads beyond the
 * events: the kernel it ran on, the run's error and the faults served;
 * and a segment's option bytes, which its text prints.  Saved and loaded
 * again, they are the same (a tab in a text becomes a space: it would
 * end the field). */
static void test_run_round_trip(void **state)
{
	/* mss 1460, sackOK, TS val 7 ecr 9, nop, wscale 7, then a SACK
	 * block 1000-2000 after two nops. */
	static const uint8_t raw[] = { 2, 4, 5, 0xb4, 4, 2, 8, 10,  0, 0, 0, 7,
				       0, 0, 0, 9,    1, 3, 3, 7,   1, 1, 5, 10,
				       0, 0, 3, 0xe8, 0, 0, 7, 0xd0 };
	static const char *const hosts[] = { "client", "router", "server" };
	struct sl_timeline a, b;
	struct sl_event ev = {
		.kind = SL_EV_PACKET, .t = 100, .from = 0, .to = 2
	};
	char x[512], y[512];

	(void)state;
	sl_timeline_init(&a);
	sl_timeline_set_hosts(&a, hosts, 3);
	ev.pkt.saddr = sl_ip_from4((struct in_addr){ htonl(0xc6120102) });
	ev.pkt.daddr = sl_ip_from4((struct in_addr){ htonl(0xc6130102) });
	ev.pkt.sport = 40000;
	ev.pkt.dport = 7007;
	ev.pkt.flags = 0x12;
	ev.pkt.seq = 1;
	sl_packet_options(raw, sizeof(raw), &ev.pkt.opt);
	assert_int_equal(sl_timeline_add(&a, &ev), 0);
	snprintf(a.release, sizeof(a.release), "6.18.0-test");
	snprintf(a.error, sizeof(a.error), "roles did not\tfinish");
	a.late_ns = 31500000;
	a.late_n = 340;
	a.nfaults = 2;
	snprintf(a.fault[0].kind, sizeof(a.fault[0].kind), "blackhole");
	snprintf(a.fault[0].backend, sizeof(a.fault[0].backend), "nftables");
	snprintf(a.fault[0].what, sizeof(a.fault[0].what), "drop all");
	a.fault[0].lifted = 1;
	snprintf(a.fault[1].kind, sizeof(a.fault[1].kind), "crash");
	sl_timeline_finish(&a);
	round_trip(&a, &b);

	assert_string_equal(b.release, "6.18.0-test");
	assert_string_equal(b.error, "roles did not finish");
	assert_int_equal(b.late_ns, 31500000);
	assert_int_equal(b.late_n, 340);
	assert_int_equal(b.nfaults, 2);
	assert_string_equal(b.fault[0].kind, "blackhole");
	assert_string_equal(b.fault[0].backend, "nftables");
	assert_string_equal(b.fault[0].what, "drop all");
	assert_int_equal(b.fault[0].lifted, 1);
	assert_string_equal(b.fault[1].kind, "crash");
	assert_string_equal(b.fault[1].backend, "");
	assert_int_equal(b.fault[1].lifted, 0);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.ev[0].pkt.opt.rawlen, sizeof(raw));
	assert_memory_equal(b.ev[0].pkt.opt.raw, raw, sizeof(raw));
	assert_int_equal(b.ev[0].pkt.opt.mss, 1460);
	assert_int_equal(b.ev[0].pkt.opt.wscale, 7);
	assert_int_equal(b.ev[0].pkt.opt.tsval, 7);
	assert_int_equal(b.ev[0].pkt.opt.nsack, 1);
	assert_int_equal(b.ev[0].pkt.opt.sack[0][0], 1000);
	assert_int_equal(b.ev[0].pkt.opt.sack[0][1], 2000);
	/* The line the timeline prints: options included, in wire order. */
	sl_timeline_format(&a, 0, x, sizeof(x));
	sl_timeline_format(&b, 0, y, sizeof(y));
	print_message("%s\n", y);
	assert_non_null(strstr(y, "options [mss 1460,sackOK,TS val 7 ecr 9"));
	assert_string_equal(x, y);
	sl_timeline_free(&a);
	sl_timeline_free(&b);
}

/* A recording without those lines, as every one before them: no error,
 * no faults, no kernel named. */
static void test_run_absent(void **state)
{
	struct sl_timeline tl;

	(void)state;
	assert_int_equal(sl_timeline_load(&tl, SL_TEST_DATA "/close-fin.tl"),
			 0);
	assert_string_equal(tl.release, "");
	assert_string_equal(tl.error, "");
	assert_int_equal(tl.late_n, 0);
	assert_int_equal(tl.nfaults, 0);
	sl_timeline_free(&tl);
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
		cmocka_unit_test(test_run_round_trip),
		cmocka_unit_test(test_run_absent),
		cmocka_unit_test(test_missing_file_names_it),
		cmocka_unit_test(test_refuses_long_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
