/* recorded.h: the recorded timelines of tests/data, loaded and sent
 * through the file format once more, for the unit tests of what a
 * timeline keeps (include after <cmocka.h> and "timeline.h").
 *
 *	struct sl_timeline tl, back;
 *
 *	load_recorded(&tl, "kernel-rst-refused.tl");
 *	save_and_reload(&tl, &back);
 *	... compare tl and back ...
 *	sl_timeline_free(&tl);
 *	sl_timeline_free(&back);
 *
 * A recording that does not load fails the test, naming the file. */
#ifndef SL_TEST_RECORDED_H
#define SL_TEST_RECORDED_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Loads tests/data/<name> into *tl. */
static inline void load_recorded(struct sl_timeline *tl, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", SL_TEST_DATA, name);
	if (sl_timeline_load(tl, path) != 0)
		fail_msg("cannot load the recording %s", path);
}

/* Saves *tl to a temporary file, loads that into *back and removes the
 * file: what a save and a load keep of a timeline is what *back has. */
static inline void save_and_reload(const struct sl_timeline *tl,
				   struct sl_timeline *back)
{
	char path[] = "/tmp/socklab-test-saved-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(sl_timeline_save(tl, path), 0);
	assert_int_equal(sl_timeline_load(back, path), 0);
	unlink(path);
}

#endif
