/* test_fault_spec.c: a fault as a line of words (fault_spec.h) comes back
 * as the same fault, and a line that is not one is refused; and a recording
 * keeps the line (timeline.tl's sixth fault field), older recordings
 * without it still load. */
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

#include "fault_spec.h"
#include "socklab.h"
#include "timeline.h"

static void test_round_trip(void **state)
{
	struct sl_fault f = { .kind = "drop",
			      .from = "client",
			      .flags = ".",
			      .not_flags = "SFRP",
			      .len = SL__LEN(100),
			      .count = 3 };
	struct sl_fault_spec s;
	char buf[SL_FAULT_SPEC_MAX];

	(void)state;
	assert_int_equal(sl_fault_spec_format("client", "drop", NULL, &f, buf,
					      sizeof(buf)),
			 0);
	assert_string_equal(buf, "by=client kind=drop from=client flags=. "
				 "not_flags=SFRP len=100 count=3");
	assert_int_equal(sl_fault_spec_parse(buf, &s), 0);
	assert_string_equal(s.by, "client");
	assert_string_equal(s.f.kind, "drop");
	assert_string_equal(s.f.from, "client");
	assert_string_equal(s.f.flags, ".");
	assert_string_equal(s.f.not_flags, "SFRP");
	assert_int_equal(s.f.len, SL__LEN(100));
	assert_int_equal(s.f.count, 3);
	assert_int_equal(s.f.jitter_ms, 0);

	/* A length of 0 bytes is not "any length". */
	f = (struct sl_fault){ .kind = "drop", .len = SL__LEN(0) };
	assert_int_equal(sl_fault_spec_format("server", "drop", NULL, &f, buf,
					      sizeof(buf)),
			 0);
	assert_int_equal(sl_fault_spec_parse(buf, &s), 0);
	assert_int_equal(s.f.len, SL__LEN(0));
	assert_null(s.f.from);

	f = (struct sl_fault){ .kind = "loss", .loss = 0.1 };
	assert_int_equal(sl_fault_spec_format("setup", "loss", NULL, &f, buf,
					      sizeof(buf)),
			 0);
	assert_int_equal(sl_fault_spec_parse(buf, &s), 0);
	assert_true(s.f.loss == 0.1);

	assert_int_equal(sl_fault_spec_format("client", "crash", "server", NULL,
					      buf, sizeof(buf)),
			 0);
	assert_string_equal(buf, "by=client kind=crash host=server");
	assert_int_equal(sl_fault_spec_parse(buf, &s), 0);
	assert_string_equal(s.host, "server");

	/* Too small a room says so. */
	assert_int_equal(sl_fault_spec_format("client", "crash", "server", NULL,
					      buf, 10),
			 -ENOSPC);
}

static void test_refused(void **state)
{
	struct sl_fault_spec s;

	(void)state;
	assert_int_equal(sl_fault_spec_parse("by=client kind=drop count=x", &s),
			 -EINVAL);
	assert_int_equal(sl_fault_spec_parse("by=client kind=drop size=3", &s),
			 -EINVAL);
	assert_int_equal(sl_fault_spec_parse("kind=drop", &s), -EINVAL);
	assert_int_equal(sl_fault_spec_parse("by=client drop", &s), -EINVAL);
	assert_int_equal(sl_fault_spec_parse("by=client kind=", &s), -EINVAL);
	assert_int_equal(
		sl_fault_spec_parse("by=client kind=drop flags=SFRPAUEW.", &s),
		-EINVAL);
}

/* The line rides in the recording; an older line of 5 fields loads. */
static void test_recording(void **state)
{
	char path[] = "/tmp/test_fault_spec_XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	struct sl_timeline tl;

	(void)state;
	assert_non_null(f);
	fprintf(f, "hosts\tclient\trouter\tserver\n"
		   "F\tcrash\tnftables\t0\tserver crashed\t"
		   "by=client kind=crash host=server\n"
		   "F\tdrop\tlinkemu\t1\tdrop the next segment\n");
	assert_int_equal(fclose(f), 0);
	assert_int_equal(sl_timeline_load(&tl, path), 0);
	assert_int_equal(tl.nfaults, 2);
	assert_string_equal(tl.fault[0].spec,
			    "by=client kind=crash host=server");
	assert_string_equal(tl.fault[1].spec, "");
	assert_int_equal(sl_timeline_save(&tl, path), 0);
	sl_timeline_free(&tl);
	assert_int_equal(sl_timeline_load(&tl, path), 0);
	assert_string_equal(tl.fault[0].spec,
			    "by=client kind=crash host=server");
	sl_timeline_free(&tl);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_recording),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
