/* test_timeline.c: ordering, relative sequence numbers, the text lines and
 * the recording format, on a recorded run of close-unread-rst. */
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

#include "timeline.h"

static struct sl_timeline tl;

static int setup(void **state)
{
	(void)state;
	return sl_timeline_load(&tl, SL_TEST_DATA "/close-unread-rst.tl");
}

static int teardown(void **state)
{
	(void)state;
	sl_timeline_free(&tl);
	return 0;
}

static int find_line(const char *needle, char *out, size_t n)
{
	for (int i = 0; i < tl.n; i++) {
		sl_timeline_format(&tl, i, out, n);
		if (strstr(out, needle))
			return i;
	}
	return -1;
}

static void test_sorted_and_t0(void **state)
{
	(void)state;
	for (int i = 1; i < tl.n; i++)
		assert_true(tl.ev[i - 1].t <= tl.ev[i].t);
	/* Times are relative to the first packet, the client's SYN. */
	for (int i = 0; i < tl.n; i++) {
		if (tl.ev[i].kind == SL_EV_PACKET) {
			assert_int_equal(tl.ev[i].t, tl.t0);
			assert_true(tl.ev[i].pkt.flags & SL_TH_SYN);
			break;
		}
	}
}

static void test_relative_sequence_numbers(void **state)
{
	char line[512];

	(void)state;
	assert_true(find_line("Flags [S],", line, sizeof(line)) >= 0);
	assert_non_null(strstr(line, "  0.000000  client  IP 198.18.35.2.41962 "
				     "> 198.19.35.2.5000: Flags [S], seq 0,"));
	assert_true(find_line("Flags [P.]", line, sizeof(line)) >= 0);
	assert_non_null(strstr(line, "seq 1:101, ack 1,"));
	assert_true(find_line("Flags [R.]", line, sizeof(line)) >= 0);
	assert_non_null(strstr(line, "server  IP 198.19.35.2.5000 > "
				     "198.18.35.2.41962: Flags [R.], seq 1, "
				     "ack 101,"));
}

static void test_calls_and_marks(void **state)
{
	char line[512];

	(void)state;
	assert_true(find_line("read() = -1", line, sizeof(line)) >= 0);
	assert_non_null(strstr(line, "client  read() = -1 ECONNRESET"));
	assert_true(find_line("--- closing ---", line, sizeof(line)) >= 0);
	assert_int_equal(sl_timeline_find_mark(&tl, "server:closing"),
			 sl_timeline_find_mark(&tl, "closing"));
	assert_int_equal(sl_timeline_find_mark(&tl, "client:closing"), -1);
}

/* Only the sender's copy of each segment is shown; the receiver's copy
 * is kept for predictions about delivery. */
static void test_sent_copies(void **state)
{
	int sent = 0, all = 0;

	(void)state;
	for (int i = 0; i < tl.n; i++) {
		if (tl.ev[i].kind != SL_EV_PACKET)
			continue;
		all++;
		sent += sl_timeline_is_sent(&tl.ev[i]);
	}
	assert_int_equal(all, 2 * sent);
}

static void test_save_load_roundtrip(void **state)
{
	char path[] = "/tmp/socklab-test-tl-XXXXXX";
	struct sl_timeline back;
	char a[512], b[512];
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(sl_timeline_save(&tl, path), 0);
	assert_int_equal(sl_timeline_load(&back, path), 0);
	unlink(path);
	assert_int_equal(back.n, tl.n);
	for (int i = 0; i < tl.n; i++) {
		sl_timeline_format(&tl, i, a, sizeof(a));
		sl_timeline_format(&back, i, b, sizeof(b));
		assert_string_equal(a, b);
	}
	sl_timeline_free(&back);
}

static void test_load_rejects_garbage(void **state)
{
	char path[] = "/tmp/socklab-test-tl-XXXXXX";
	struct sl_timeline bad;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_true(write(fd, "P\t12\tnot a packet\n", 18) == 18);
	close(fd);
	assert_int_equal(sl_timeline_load(&bad, path), -EINVAL);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sorted_and_t0),
		cmocka_unit_test(test_relative_sequence_numbers),
		cmocka_unit_test(test_calls_and_marks),
		cmocka_unit_test(test_sent_copies),
		cmocka_unit_test(test_save_load_roundtrip),
		cmocka_unit_test(test_load_rejects_garbage),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
